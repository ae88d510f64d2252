/*
 * test_api_txn.c - the public API for batches and transactions: queued
 * writes and their out-parameters, per-write results of a batch, all-or-
 * nothing commits with the failing index, conditions (absent, version)
 * against another client's writes, TTLs inside transactions, one-shard
 * transactions on a four-shard store, PC_ESTATE and pc_discard, and the
 * largest transaction (PC_TXN_MAX, then PC_ETXNSIZE).
 */
#include <math.h>

#include "../../shm/record.h"
#include "pctest.h"

#define S(s) pc_str(s)
#define NELEM(a) (sizeof(a) / sizeof((a)[0]))

/* ---- batches ---- */

static void test_batch(void **state)
{
    pt_store *t = *state;
    pc_val s = S("str"), one = pc_int(1);
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    OK(pc_rpush(t->c, K("p"), (pc_val[]){pc_int(10), pc_int(11), pc_int(12)}, 3, NULL));

    int64_t now = -1;
    uint64_t len = 0;
    int deleted = -1;
    pc_val popped[4];
    size_t npopped = 99;
    pc_val ab[] = {S("a"), S("b")};

    assert_int_equal(pc_pending(t->c), 0);
    OK(pc_batch_begin(t->c));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    OK(pc_incrby(t->c, K("n"), 5, &now));
    OK(pc_lpush(t->c, K("s"), &one, 1, &len)); /* wrong type: fails when run */
    OK(pc_rpush(t->c, K("l"), ab, 2, &len));
    OK(pc_del(t->c, K("missing"), &deleted));
    OK(pc_lpop(t->c, K("p"), 2, popped, &npopped));
    assert_int_equal(pc_pending(t->c), 6);
    /* bad arguments are refused at once and not queued */
    RC(PC_EKEY, pc_set(t->c, "", 0, &one, 0, 0));
    pc_val nan = pc_dbl(NAN);
    RC(PC_ENAN, pc_set(t->c, K("x"), &nan, 0, 0));
    assert_int_equal(pc_pending(t->c), 6);

    /* queued, not run: a read sees none of it */
    MISSING(t->c, "a");
    assert_int_equal(now, -1);

    int rcs[8] = {1, 1, 1, 1, 1, 1, 1, 1};
    RC(PC_EWRONGTYPE, pc_batch_exec(t->c, rcs, 8));
    assert_int_equal(rcs[0], 0);
    assert_int_equal(rcs[1], 0);
    assert_int_equal(rcs[2], PC_EWRONGTYPE);
    assert_int_equal(rcs[3], 0);
    assert_int_equal(rcs[4], 0);
    assert_int_equal(rcs[5], 0);
    assert_int_equal(rcs[6], 1); /* only as many as were queued */
    assert_int_equal(pc_pending(t->c), 0);

    /* out-parameters filled, the others applied */
    assert_int_equal(now, 5);
    assert_int_equal(len, 2);
    assert_int_equal(deleted, 0);
    assert_int_equal(npopped, 2);
    VAL_EQ(popped[0], pc_int(10));
    VAL_EQ(popped[1], pc_int(11));
    GET_IS(t->c, "a", pc_int(1));
    GET_IS(t->c, "n", pc_int(5));
    LIST_IS(t->c, "l", ab, 2);
    GET_IS(t->c, "s", S("str"));
    LIST_IS(t->c, "p", (pc_val[]){pc_int(12)}, 1);

    /* the client is idle again: a new batch, fewer rcs than writes, rcs NULL */
    OK(pc_batch_begin(t->c));
    OK(pc_incrby(t->c, K("n"), 1, &now));
    OK(pc_incrby(t->c, K("n"), 1, &now));
    OK(pc_incrby(t->c, K("n"), 1, &now));
    int two[3] = {7, 7, 7};
    OK(pc_batch_exec(t->c, two, 2));
    assert_int_equal(two[0], 0);
    assert_int_equal(two[1], 0);
    assert_int_equal(two[2], 7);
    assert_int_equal(now, 8);
    OK(pc_batch_begin(t->c));
    OK(pc_incrby(t->c, K("n"), 2, NULL));
    OK(pc_incrby(t->c, K("s"), 2, NULL));
    RC(PC_ENOTINT, pc_batch_exec(t->c, NULL, 0));
    GET_IS(t->c, "n", pc_int(10));

    /* an empty batch */
    OK(pc_batch_begin(t->c));
    OK(pc_batch_exec(t->c, rcs, 8));
    OK(pc_set(t->c, K("after"), &one, 0, 0));
    GET_IS(t->c, "after", pc_int(1));
}

/* Writes in a batch apply in order, later ones seeing earlier ones. */
static void test_batch_order(void **state)
{
    pt_store *t = *state;
    pc_val v = S("v");
    int64_t now[3];
    OK(pc_batch_begin(t->c));
    OK(pc_incrby(t->c, K("n"), 1, &now[0]));
    OK(pc_incrby(t->c, K("n"), 10, &now[1]));
    OK(pc_del(t->c, K("n"), NULL));
    OK(pc_incrby(t->c, K("n"), 100, &now[2]));
    OK(pc_set(t->c, K("s"), &v, 0, 0));
    OK(pc_append(t->c, K("s"), "w", 1, NULL));
    OK(pc_batch_exec(t->c, NULL, 0));
    assert_int_equal(now[0], 1);
    assert_int_equal(now[1], 11);
    assert_int_equal(now[2], 100);
    GET_IS(t->c, "s", S("vw"));
}

/* A batch over the shards of a four-shard store. */
static void test_batch_shards(void **state)
{
    pt_store *t = *state;
    enum { N = 32 };
    int64_t now[N];
    int rcs[N];
    OK(pc_batch_begin(t->c));
    for (int i = 0; i < N; i++) {
        char k[8];
        snprintf(k, sizeof k, "b%d", i);
        OK(pc_incrby(t->c, K(k), i, &now[i]));
    }
    OK(pc_batch_exec(t->c, rcs, N));
    for (int i = 0; i < N; i++) {
        char k[8];
        snprintf(k, sizeof k, "b%d", i);
        assert_int_equal(rcs[i], 0);
        assert_int_equal(now[i], i);
        GET_IS(t->c, k, pc_int(i));
    }
}

/* ---- transactions ---- */

static void test_txn_commit(void **state)
{
    pt_store *t = *state;
    int64_t now = -1;
    uint64_t len = 0, added = 0;
    int set = -1;
    long failed = 5;
    pc_val one = pc_int(1), ab[] = {S("a"), S("b")};
    pc_bytes f = pc_b("f", 1);
    OK(pc_set(t->c, K("e"), &one, 0, 0));

    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    OK(pc_incrby(t->c, K("n"), 2, &now));
    OK(pc_rpush(t->c, K("l"), ab, 2, &len));
    OK(pc_hset(t->c, K("h"), &f, &one, 1, &added));
    OK(pc_expire(t->c, K("e"), 100000, &set));
    OK(pc_incrby(t->c, K("n"), 3, &now));
    assert_int_equal(pc_pending(t->c), 6);
    MISSING(t->c, "a"); /* nothing yet */
    OK(pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    assert_int_equal(pc_pending(t->c), 0);

    assert_int_equal(now, 5);
    assert_int_equal(len, 2);
    assert_int_equal(added, 1);
    assert_int_equal(set, 1);
    GET_IS(t->c, "a", pc_int(1));
    GET_IS(t->c, "n", pc_int(5));
    LIST_IS(t->c, "l", ab, 2);
    assert_true(pt_ttl(t->c, "e") > 90000);

    /* an empty transaction commits */
    OK(pc_txn_begin(t->c));
    OK(pc_txn_commit(t->c, NULL));
    /* failed may be NULL */
    OK(pc_txn_begin(t->c));
    OK(pc_del(t->c, K("a"), NULL));
    OK(pc_txn_commit(t->c, NULL));
    MISSING(t->c, "a");
}

static void test_txn_rollback(void **state)
{
    pt_store *t = *state;
    pc_val s = S("str"), one = pc_int(1), two = pc_int(2);
    OK(pc_set(t->c, K("s"), &s, 0, 0));
    OK(pc_set(t->c, K("keep"), &one, 0, 0));
    OK(pc_set(t->c, K("e"), &one, 0, 0));
    uint64_t sv = pt_version(t->c, "s"), kv = pt_version(t->c, "keep");
    long failed = -7;
    int set = -1;

    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("a"), &one, 0, 0));      /* 0 */
    OK(pc_rpush(t->c, K("l"), &one, 1, NULL)); /* 1 */
    OK(pc_expire(t->c, K("e"), 100000, &set)); /* 2 */
    OK(pc_lpush(t->c, K("s"), &one, 1, NULL)); /* 3: wrong type */
    OK(pc_set(t->c, K("b"), &two, 0, 0));      /* 4 */
    OK(pc_del(t->c, K("keep"), NULL));         /* 5 */
    RC(PC_EWRONGTYPE, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 3);
    assert_int_equal(pc_pending(t->c), 0);

    MISSING(t->c, "a");
    MISSING(t->c, "l");
    MISSING(t->c, "b");
    GET_IS(t->c, "s", S("str"));
    GET_IS(t->c, "keep", pc_int(1));
    assert_int_equal(pt_ttl(t->c, "e"), -1); /* the expire went with the rest */
    assert_int_equal(pt_version(t->c, "s"), sv);
    assert_int_equal(pt_version(t->c, "keep"), kv);
    assert_int_equal(pt_nkeys(t->c, NULL), 3);

    /* a failure in the first and in the last write */
    OK(pc_txn_begin(t->c));
    OK(pc_incrby(t->c, K("s"), 1, NULL));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    RC(PC_ENOTINT, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 0);
    MISSING(t->c, "a");
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    OK(pc_incrby(t->c, K("keep"), INT64_MAX, NULL));
    RC(PC_EOVERFLOW, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 1);
    MISSING(t->c, "a");
    GET_IS(t->c, "keep", pc_int(1));

    /* a write that fails only because of an earlier one in the transaction */
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("a"), &s, 0, 0));
    OK(pc_incrby(t->c, K("a"), 1, NULL));
    RC(PC_ENOTINT, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 1);
    MISSING(t->c, "a");

    /* and the client still works */
    OK(pc_set(t->c, K("a"), &two, 0, 0));
    GET_IS(t->c, "a", pc_int(2));
}

static void test_txn_require_absent(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1), two = pc_int(2);
    long failed = -7;

    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_absent(t->c, K("k")));
    OK(pc_set(t->c, K("k"), &one, 0, 0));
    OK(pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    GET_IS(t->c, "k", pc_int(1));

    /* now it exists */
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("other"), &one, 0, 0));
    OK(pc_txn_require_absent(t->c, K("k")));
    OK(pc_set(t->c, K("k"), &two, 0, 0));
    assert_int_equal(pc_pending(t->c), 3); /* conditions count */
    RC(PC_ECONFLICT, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 1);
    GET_IS(t->c, "k", pc_int(1));
    MISSING(t->c, "other");

    /* another client creates the key between begin and commit */
    pc_client *c2 = pt_store_client2(t);
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_absent(t->c, K("lock")));
    OK(pc_set(t->c, K("lock"), &one, 0, 0));
    OK(pc_set(c2, K("lock"), &two, 0, 0));
    RC(PC_ECONFLICT, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 0);
    GET_IS(t->c, "lock", pc_int(2));

    /* an expired key is absent */
    OK(pc_set(c2, K("exp"), &two, 1, 0));
    pt_sleep_ms(5);
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_absent(t->c, K("exp")));
    OK(pc_set(t->c, K("exp"), &one, 0, 0));
    OK(pc_txn_commit(t->c, &failed));
    GET_IS(t->c, "exp", pc_int(1));
    pc_close(c2);
}

static void test_txn_require_version(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1), two = pc_int(2), three = pc_int(3);
    long failed = -7;
    OK(pc_set(t->c, K("k"), &one, 0, 0));
    uint64_t ver = pt_version(t->c, "k");

    /* unchanged: commits */
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_version(t->c, K("k"), ver));
    OK(pc_set(t->c, K("k"), &two, 0, 0));
    OK(pc_txn_commit(t->c, &failed));
    GET_IS(t->c, "k", pc_int(2));
    uint64_t ver2 = pt_version(t->c, "k");
    assert_true(ver2 > ver);

    /* the old version no longer matches */
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_version(t->c, K("k"), ver));
    OK(pc_set(t->c, K("k"), &three, 0, 0));
    RC(PC_ECONFLICT, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 0);
    GET_IS(t->c, "k", pc_int(2));

    /* another client writes between pc_version and commit */
    pc_client *c2 = pt_store_client2(t);
    ver2 = pt_version(t->c, "k");
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("side"), &one, 0, 0));
    OK(pc_txn_require_version(t->c, K("k"), ver2));
    OK(pc_incrby(t->c, K("k"), 10, NULL));
    OK(pc_incrby(c2, K("k"), 100, NULL));
    RC(PC_ECONFLICT, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 1);
    GET_IS(t->c, "k", pc_int(102));
    MISSING(t->c, "side");

    /* a failed write by the other client changes no version */
    ver2 = pt_version(t->c, "k");
    RC(PC_EWRONGTYPE, pc_rpush(c2, K("k"), &one, 1, NULL));
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_version(t->c, K("k"), ver2));
    OK(pc_incrby(t->c, K("k"), 10, NULL));
    OK(pc_txn_commit(t->c, &failed));
    GET_IS(t->c, "k", pc_int(112));

    /* a missing key has no version to match */
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_version(t->c, K("missing"), ver2));
    OK(pc_set(t->c, K("missing"), &one, 0, 0));
    RC(PC_ECONFLICT, pc_txn_commit(t->c, &failed));
    MISSING(t->c, "missing");

    /* a deleted and recreated key does not match its old version */
    ver2 = pt_version(t->c, "k");
    OK(pc_del(c2, K("k"), NULL));
    OK(pc_set(c2, K("k"), &one, 0, 0));
    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_version(t->c, K("k"), ver2));
    OK(pc_set(t->c, K("k"), &three, 0, 0));
    RC(PC_ECONFLICT, pc_txn_commit(t->c, &failed));
    GET_IS(t->c, "k", pc_int(1));
    pc_close(c2);
}

static void test_txn_expire(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1), s = S("s");
    int set = -1;
    long failed;
    OK(pc_set(t->c, K("e"), &one, 0, 0));
    OK(pc_set(t->c, K("s"), &s, 0, 0));

    /* rolled back with the rest */
    OK(pc_txn_begin(t->c));
    OK(pc_expire(t->c, K("e"), 100000, &set));
    OK(pc_incrby(t->c, K("s"), 1, NULL));
    RC(PC_ENOTINT, pc_txn_commit(t->c, &failed));
    assert_int_equal(pt_ttl(t->c, "e"), -1);

    /* applied with the rest */
    OK(pc_txn_begin(t->c));
    OK(pc_expire(t->c, K("e"), 100000, &set));
    OK(pc_set(t->c, K("x"), &one, 0, 0));
    OK(pc_expire(t->c, K("x"), 50000, NULL));
    OK(pc_expire(t->c, K("nokey"), 50000, NULL));
    OK(pc_txn_commit(t->c, &failed));
    assert_int_equal(set, 1);
    assert_true(pt_ttl(t->c, "e") > 90000);
    int64_t ms = pt_ttl(t->c, "x");
    assert_true(ms > 40000 && ms <= 50000);
    MISSING(t->c, "nokey");

    /* a bad TTL is refused at once inside a transaction, and then the
     * commit applies nothing (as Redis's EXEC after a bad command) */
    OK(pc_txn_begin(t->c));
    OK(pc_persist(t->c, K("e"), NULL));
    RC(PC_EINVAL, pc_expire(t->c, K("x"), 0, NULL));
    RC(PC_EINVAL, pc_set(t->c, K("x"), &one, -1, 0));
    assert_int_equal(pc_pending(t->c), 1);
    RC(PC_EINVAL, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    assert_true(pt_ttl(t->c, "e") > 90000);
    assert_true(pt_ttl(t->c, "x") > 40000);

    /* the same persist alone commits */
    OK(pc_txn_begin(t->c));
    OK(pc_persist(t->c, K("e"), NULL));
    OK(pc_txn_commit(t->c, &failed));
    assert_int_equal(pt_ttl(t->c, "e"), -1);
}

static void test_txn_cross_shard(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1);
    long failed = 5;
    enum { N = 8 };
    char keys[N][8];

    /* The write whose key lies in another shard than the first key's is
     * refused when queued, naming both keys; the commit then applies
     * nothing and says the same. */
    unsigned first = pcs_shard_of(4, K("x:0"));
    int other = -1;
    assert_string_equal(pc_last_error(t->c), "");
    OK(pc_txn_begin(t->c));
    for (int i = 0; i < N; i++) {
        snprintf(keys[i], sizeof keys[i], "x:%d", i);
        if (pcs_shard_of(4, K(keys[i])) == first) {
            OK(pc_set(t->c, K(keys[i]), &one, 0, 0));
            continue;
        }
        RC(PC_ECROSSSHARD, pc_set(t->c, K(keys[i]), &one, 0, 0));
        if (other < 0)
            other = i;
    }
    assert_true(other > 0); /* 8 keys over 4 shards: not all in one */
    char want[400];
    snprintf(want, sizeof want,
             "pc_set: %s: transaction keys lie in different shards: 'x:0' (shard %u of 4) and "
             "'x:%d' (shard %u); a transaction runs in one shard: put the same {tag} in its keys "
             "(as in '{user42}:name' and '{user42}:mail'), which then hash by the tag alone "
             "(PC_ECROSSSHARD)",
             pc_strerror(PC_ECROSSSHARD), first, N - 1, pcs_shard_of(4, K(keys[N - 1])));
    if (pcs_shard_of(4, K(keys[N - 1])) != first)
        assert_string_equal(pc_last_error(t->c), want);
    assert_non_null(strstr(pc_last_error(t->c), "{tag}"));
    RC(PC_ECROSSSHARD, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    /* the commit says the write was refused when queued, and what refused
     * it: the first cross-shard key's refusal */
    snprintf(want, sizeof want,
             "pc_txn_commit: %s: a write was refused when it was queued; nothing applied: "
             "pc_set: transaction keys lie in different shards: 'x:0' (shard %u of 4) and 'x:%d' "
             "(shard",
             pc_strerror(PC_ECROSSSHARD), first, other);
    assert_non_null(strstr(pc_last_error(t->c), want));
    assert_non_null(strstr(pc_last_error(t->c), "{tag}"));
    for (int i = 0; i < N; i++)
        MISSING(t->c, keys[i]);
    assert_int_equal(pt_nkeys(t->c, NULL), 0);
    assert_int_equal(pc_pending(t->c), 0);
    /* a later failure says its own */
    RC(PC_ESTATE, pc_txn_commit(t->c, NULL));
    RC(PC_EKEY, pc_set(t->c, "", 0, &one, 0, 0));
    assert_string_equal(pc_last_error(t->c), "pc_set: key must be 1 to 250 bytes: key is 0 bytes "
                                             "(PC_EKEY)");

    /* a condition on another shard is refused when queued too */
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("x:0"), &one, 0, 0));
    RC(PC_ECROSSSHARD, pc_txn_require_absent(t->c, K(keys[other])));
    assert_non_null(strstr(pc_last_error(t->c), "pc_txn_require_absent: "));
    assert_non_null(strstr(pc_last_error(t->c), "'x:0' (shard"));
    RC(PC_ECROSSSHARD, pc_txn_commit(t->c, &failed));
    assert_non_null(strstr(pc_last_error(t->c), "nothing applied: pc_txn_require_absent: "));
    MISSING(t->c, "x:0");

    /* pc_mset of keys in two shards inside a transaction */
    pc_bytes mk[2] = {{"x:0", 3}, {keys[other], 3}};
    pc_val mv[2] = {one, one};
    OK(pc_txn_begin(t->c));
    RC(PC_ECROSSSHARD, pc_mset(t->c, mk, mv, 2));
    assert_non_null(strstr(pc_last_error(t->c), "pc_mset: "));
    assert_non_null(strstr(pc_last_error(t->c), "'x:0' (shard"));
    assert_non_null(strstr(pc_last_error(t->c), "{tag}"));
    RC(PC_ECROSSSHARD, pc_txn_commit(t->c, &failed));
    MISSING(t->c, "x:0");

    /* a key shown in part: long and with bytes outside printable ASCII */
    char lk[120];
    memset(lk, 'k', sizeof lk);
    lk[0] = '\'';
    lk[1] = 1;
    OK(pc_txn_begin(t->c));
    OK(pc_del(t->c, K("x:0"), NULL));
    for (int j = 0; j < 64; j++) {
        snprintf(lk + 100, 20, "%d", j);
        if (pcs_shard_of(4, lk, strlen(lk)) != first) {
            RC(PC_ECROSSSHARD, pc_del(t->c, lk, strlen(lk), NULL));
            assert_non_null(strstr(pc_last_error(t->c), "and '\\x27\\x01kkk"));
            assert_non_null(strstr(pc_last_error(t->c), "kkk'... (10"));
            break;
        }
    }
    pc_discard(t->c);

    /* keys sharing a {tag} share a shard */
    int64_t now = 0;
    OK(pc_txn_begin(t->c));
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "{user}:%d", i);
        OK(pc_set(t->c, K(k), &one, 0, 0));
    }
    OK(pc_set(t->c, K("a{user}b"), &one, 0, 0));
    OK(pc_txn_require_absent(t->c, K("{user}zz")));
    OK(pc_incrby(t->c, K("{user}n"), 4, &now));
    OK(pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    assert_int_equal(now, 4);
    for (int i = 0; i < N; i++) {
        char k[16];
        snprintf(k, sizeof k, "{user}:%d", i);
        GET_IS(t->c, k, pc_int(1));
    }
    GET_IS(t->c, "a{user}b", pc_int(1));
    assert_int_equal(pt_nkeys(t->c, NULL), N + 2);

    /* a rolled-back tagged transaction on a sharded store */
    pc_val s = S("s");
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("{user}new"), &s, 0, 0));
    OK(pc_rpush(t->c, K("{user}:0"), &s, 1, NULL));
    RC(PC_EWRONGTYPE, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, 1);
    MISSING(t->c, "{user}new");
}

static void test_state_errors(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1);
    long failed = 5;
    int rcs[2];

    /* nothing begun */
    RC(PC_ESTATE, pc_batch_exec(t->c, rcs, 2));
    RC(PC_ESTATE, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    RC(PC_ESTATE, pc_txn_require_absent(t->c, K("k")));
    RC(PC_ESTATE, pc_txn_require_version(t->c, K("k"), 1));

    /* nested begins, and the other kind's calls, inside a transaction */
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    RC(PC_ESTATE, pc_txn_begin(t->c));
    RC(PC_ESTATE, pc_batch_begin(t->c));
    RC(PC_ESTATE, pc_batch_exec(t->c, rcs, 2));
    assert_int_equal(pc_pending(t->c), 1);
    OK(pc_set(t->c, K("b"), &one, 0, 0));
    OK(pc_txn_commit(t->c, &failed)); /* still intact */
    GET_IS(t->c, "a", pc_int(1));
    GET_IS(t->c, "b", pc_int(1));

    /* and inside a batch */
    OK(pc_batch_begin(t->c));
    OK(pc_set(t->c, K("c"), &one, 0, 0));
    RC(PC_ESTATE, pc_batch_begin(t->c));
    RC(PC_ESTATE, pc_txn_begin(t->c));
    RC(PC_ESTATE, pc_txn_commit(t->c, &failed));
    RC(PC_ESTATE, pc_txn_require_absent(t->c, K("c")));
    assert_int_equal(pc_pending(t->c), 1);
    OK(pc_batch_exec(t->c, rcs, 2));
    GET_IS(t->c, "c", pc_int(1));

    /* after exec and commit the client is idle */
    RC(PC_ESTATE, pc_batch_exec(t->c, rcs, 2));
    RC(PC_ESTATE, pc_txn_commit(t->c, &failed));
}

static void test_discard(void **state)
{
    pt_store *t = *state;
    pc_val one = pc_int(1);
    int64_t now = -1;

    OK(pc_batch_begin(t->c));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    OK(pc_incrby(t->c, K("n"), 1, &now));
    assert_int_equal(pc_pending(t->c), 2);
    pc_discard(t->c);
    assert_int_equal(pc_pending(t->c), 0);
    MISSING(t->c, "a");
    MISSING(t->c, "n");
    assert_int_equal(now, -1);
    RC(PC_ESTATE, pc_batch_exec(t->c, NULL, 0));

    OK(pc_txn_begin(t->c));
    OK(pc_txn_require_absent(t->c, K("a")));
    OK(pc_set(t->c, K("a"), &one, 0, 0));
    pc_discard(t->c);
    assert_int_equal(pc_pending(t->c), 0);
    RC(PC_ESTATE, pc_txn_commit(t->c, NULL));
    MISSING(t->c, "a");

    /* idle: a no-op; then everything works as before */
    pc_discard(t->c);
    OK(pc_batch_begin(t->c));
    OK(pc_incrby(t->c, K("n"), 3, &now));
    OK(pc_batch_exec(t->c, NULL, 0));
    assert_int_equal(now, 3);
    OK(pc_txn_begin(t->c));
    OK(pc_incrby(t->c, K("n"), 3, &now));
    OK(pc_txn_commit(t->c, NULL));
    assert_int_equal(now, 6);
    pc_discard(NULL);
}

/* pc_mset inside a batch or transaction is queued with the rest. */
static void test_mset_queued(void **state)
{
    pt_store *t = *state;
    pc_bytes keys[] = {pc_b("m1", 2), pc_b("m2", 2)};
    pc_val vals[] = {pc_int(1), pc_int(2)};
    OK(pc_txn_begin(t->c));
    OK(pc_mset(t->c, keys, vals, 2));
    OK(pc_incrby(t->c, K("m1"), 10, NULL));
    MISSING(t->c, "m1");
    OK(pc_txn_commit(t->c, NULL));
    GET_IS(t->c, "m1", pc_int(11));
    GET_IS(t->c, "m2", pc_int(2));
}

/*
 * A transaction holds at most PC_TXN_MAX writes and conditions: the next is
 * refused when queued with PC_ETXNSIZE (not PC_ETOOBIG at the commit), and
 * the commit then applies nothing.  A batch has no such limit.
 */
static void test_txn_max(void **state)
{
    pt_store *t = *state;
    int64_t now = -1;
    long failed = 7;

    /* exactly PC_TXN_MAX: applies */
    OK(pc_txn_begin(t->c));
    for (long i = 0; i < PC_TXN_MAX; i++)
        if (pc_incrby(t->c, K("{t}n"), 1, i == PC_TXN_MAX - 1 ? &now : NULL) != 0)
            fail_msg("write %ld of the transaction was refused", i);
    assert_int_equal(pc_pending(t->c), PC_TXN_MAX);
    OK(pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    assert_int_equal(now, PC_TXN_MAX);
    GET_IS(t->c, "{t}n", pc_int(PC_TXN_MAX));

    /* one more: refused when queued; the commit applies nothing */
    pc_val one = pc_int(1);
    OK(pc_txn_begin(t->c));
    OK(pc_set(t->c, K("{t}s"), &one, 0, 0));
    for (long i = 1; i < PC_TXN_MAX; i++)
        if (pc_incrby(t->c, K("{t}n"), 1, NULL) != 0)
            fail_msg("write %ld of the transaction was refused", i);
    RC(PC_ETXNSIZE, pc_incrby(t->c, K("{t}n"), 1, NULL));
    RC(PC_ETXNSIZE, pc_txn_require_absent(t->c, K("{t}s")));
    assert_int_equal(pc_pending(t->c), PC_TXN_MAX);
    RC(PC_ETXNSIZE, pc_txn_commit(t->c, &failed));
    assert_int_equal(failed, -1);
    GET_IS(t->c, "{t}n", pc_int(PC_TXN_MAX));
    MISSING(t->c, "{t}s");
    assert_string_equal(pc_err_name(PC_ETXNSIZE), "PC_ETXNSIZE");
    assert_non_null(strstr(pc_strerror(PC_ETXNSIZE), "too many operations"));

    /* the client is usable again, and a batch may be longer */
    OK(pc_batch_begin(t->c));
    for (long i = 0; i < PC_TXN_MAX + 10; i++)
        if (pc_incrby(t->c, K("{t}b"), 1, NULL) != 0)
            fail_msg("write %ld of the batch was refused", i);
    OK(pc_batch_exec(t->c, NULL, 0));
    GET_IS(t->c, "{t}b", pc_int(PC_TXN_MAX + 10));
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_batch),
        PT_STORE_TEST(test_batch_order),
        PT_STORE_TEST_SHARDS4(test_batch_shards),
        PT_STORE_TEST(test_txn_commit),
        PT_STORE_TEST(test_txn_rollback),
        PT_STORE_TEST(test_txn_require_absent),
        PT_STORE_TEST(test_txn_require_version),
        PT_STORE_TEST(test_txn_expire),
        PT_STORE_TEST_SHARDS4(test_txn_cross_shard),
        PT_STORE_TEST(test_state_errors),
        PT_STORE_TEST(test_discard),
        PT_STORE_TEST(test_mset_queued),
        PT_STORE_TEST(test_txn_max),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
