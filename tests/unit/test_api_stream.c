/*
 * test_api_stream.c - Streams (issue 17) on an embedded store, against
 * Redis's documented behaviour: IDs (auto, partial, explicit, and the
 * errors of an ID not greater than the last), ranges (empty, exclusive,
 * reversed, COUNT, paging), XDEL and XTRIM (= and ~, MAXLEN and MINID),
 * consumer groups (delivery, history, NOACK, XACK, XPENDING, XCLAIM,
 * XAUTOCLAIM, DELCONSUMER, DESTROY, SETID, XINFO), blocking reads that
 * time out, wrong types, TTLs and bad input; and a randomized run against
 * a reference model kept by the test, compared after every step.
 */
#include "pctest.h"

#define MAXE 256

static pc_xid X(uint64_t ms, uint64_t seq)
{
    return pc_xid_make(ms, seq);
}

#define ID_IS(got, ms_, seq_)                                                           \
    CHECK((got).ms == (ms_) && (got).seq == (seq_),                                     \
          "id %" PRIu64 "-%" PRIu64 ", want %" PRIu64 "-%" PRIu64, (got).ms, (got).seq, \
          (uint64_t)(ms_), (uint64_t)(seq_))

/* xadd KEY ID f v with an int value. */
static int add(pc_client *c, const char *key, int mode, pc_xid id, int64_t v, pc_xid *out)
{
    pc_val fv[2] = {pc_str("f"), pc_int(v)};
    return pc_xadd(c, K(key), mode, id, fv, 1, NULL, 0, out);
}

/* The IDs of key's whole range, into ids; returns the count. */
static size_t all_ids(pc_client *c, const char *key, pc_xid *ids, size_t max)
{
    pc_xentry e[MAXE];
    size_t n;
    pc_read *r = pt_rd(c);
    OK(pc_xrange(r, K(key), X(0, 0), pc_xid_max(), 0, e, max < MAXE ? max : MAXE, &n));
    for (size_t i = 0; i < n; i++)
        ids[i] = e[i].id;
    pc_read_end(r);
    return n;
}

static pc_xinfo info(pc_client *c, const char *key)
{
    pc_xinfo xi;
    memset(&xi, 0, sizeof xi);
    pc_read *r = pt_rd(c);
    OK(pc_xinfo_stream(r, K(key), &xi));
    pc_read_end(r);
    return xi;
}

static void test_xadd_ids(void **state)
{
    pt_store *t = *state;
    pc_xid id, id2;
    /* explicit */
    OK(add(t->c, "s", PC_XADD_EXPLICIT, X(5, 1), 1, &id));
    ID_IS(id, 5, 1);
    TYPE_IS(t->c, "s", PC_T_STREAM);
    assert_string_equal(pc_type_name(PC_T_STREAM), "stream");
    /* equal or smaller: refused, nothing changes */
    RC(PC_ERANGE, add(t->c, "s", PC_XADD_EXPLICIT, X(5, 1), 2, &id));
    RC(PC_ERANGE, add(t->c, "s", PC_XADD_EXPLICIT, X(5, 0), 2, &id));
    RC(PC_ERANGE, add(t->c, "s", PC_XADD_EXPLICIT, X(4, 9), 2, &id));
    RC(PC_ERANGE, add(t->c, "new", PC_XADD_EXPLICIT, X(0, 0), 2, &id));
    MISSING(t->c, "new");
    /* partial: ms-* */
    OK(add(t->c, "s", PC_XADD_AUTOSEQ, X(5, 0), 3, &id));
    ID_IS(id, 5, 2);
    OK(add(t->c, "s", PC_XADD_AUTOSEQ, X(7, 0), 3, &id));
    ID_IS(id, 7, 0);
    RC(PC_ERANGE, add(t->c, "s", PC_XADD_AUTOSEQ, X(6, 0), 3, &id));
    /* 0-* on a new stream is 0-1 (0-0 is not an ID) */
    OK(add(t->c, "z", PC_XADD_AUTOSEQ, X(0, 0), 1, &id));
    ID_IS(id, 0, 1);
    /* auto: the time now, and after the last when that is in the future */
    OK(add(t->c, "s", PC_XADD_AUTO, X(0, 0), 4, &id));
    CHECK(id.ms > 1600000000000ull && id.seq == 0, "auto id %" PRIu64, id.ms);
    OK(add(t->c, "f", PC_XADD_EXPLICIT, X(UINT64_MAX - 1, 5), 1, &id));
    OK(add(t->c, "f", PC_XADD_AUTO, X(0, 0), 1, &id2));
    ID_IS(id2, UINT64_MAX - 1, 6);
    /* the largest ID: nothing can follow it */
    OK(add(t->c, "m", PC_XADD_EXPLICIT, pc_xid_max(), 1, &id));
    RC(PC_ERANGE, add(t->c, "m", PC_XADD_AUTO, X(0, 0), 1, &id));
    RC(PC_ERANGE, add(t->c, "m", PC_XADD_AUTOSEQ, X(UINT64_MAX, 0), 1, &id));
    /* NOMKSTREAM */
    pc_val fv[2] = {pc_str("a"), pc_str("b")};
    id = X(9, 9);
    OK(pc_xadd(t->c, K("none"), PC_XADD_AUTO, X(0, 0), fv, 1, NULL, PC_XADD_NOMKSTREAM, &id));
    ID_IS(id, 0, 0);
    MISSING(t->c, "none");
    OK(pc_xadd(t->c, K("s"), PC_XADD_EXPLICIT, X(UINT64_MAX - 5, 0), fv, 1, NULL,
               PC_XADD_NOMKSTREAM, &id));
    ID_IS(id, UINT64_MAX - 5, 0);
    pc_xinfo xi = info(t->c, "s");
    CHECK(xi.length == 5 && xi.entries_added == 5, "%" PRIu64, xi.length);
    ID_IS(xi.first_id, 5, 1);
    ID_IS(xi.last_id, UINT64_MAX - 5, 0);
    /* values of every kind come back as they went in */
    pc_val kinds[10] = {pc_str("b"), pc_str("bytes"), pc_str("i"),   pc_int(-7), pc_str("d"),
                        pc_dbl(2.5), pc_str("t"),     pc_bool(true), pc_int(3),  pc_nil()};
    OK(pc_xadd(t->c, K("k"), PC_XADD_AUTO, X(0, 0), kinds, 5, NULL, 0, &id));
    pc_read *r = pt_rd(t->c);
    pc_xentry e;
    size_t n;
    pc_val got[10];
    OK(pc_xrange(r, K("k"), X(0, 0), pc_xid_max(), 0, &e, 1, &n));
    CHECK(n == 1 && e.npairs == 5, "%zu %zu", n, e.npairs);
    OK(pc_xentry_pairs(&e, got, 10, &n));
    CHECK(n == 5, "%zu", n);
    for (int i = 0; i < 10; i++)
        CHECK(pt_val_eq(&got[i], &kinds[i]), "pair value %d", i);
    /* fewer slots: only whole pairs that fit */
    OK(pc_xentry_pairs(&e, got, 3, &n));
    CHECK(n == 1, "%zu", n);
    OK(pc_xentry_pairs(&e, NULL, 0, &n));
    CHECK(n == 0, "no slots, %zu written", n);
    RC(PC_EINVAL, pc_xentry_pairs(NULL, got, 2, &n));
    uint64_t len;
    OK(pc_xlen(r, K("k"), &len));
    CHECK(len == 1, "%" PRIu64, len);
    OK(pc_xlen(r, K("missing"), &len));
    CHECK(len == 0, "%" PRIu64, len);
    RC(PC_ENOTFOUND, pc_xinfo_stream(r, K("missing"), &xi));
    pc_read_end(r);
}

static void test_xrange(void **state)
{
    pt_store *t = *state;
    for (uint64_t i = 1; i <= 10; i++)
        OK(add(t->c, "s", PC_XADD_EXPLICIT, X(i, i % 3), (int64_t)i, NULL));
    pc_read *r = pt_rd(t->c);
    pc_xentry e[MAXE];
    size_t n;
    OK(pc_xrange(r, K("s"), X(0, 0), pc_xid_max(), 0, e, MAXE, &n));
    CHECK(n == 10, "%zu", n);
    ID_IS(e[0].id, 1, 1);
    ID_IS(e[9].id, 10, 1);
    /* COUNT */
    OK(pc_xrange(r, K("s"), X(0, 0), pc_xid_max(), 0, e, 3, &n));
    CHECK(n == 3, "%zu", n);
    ID_IS(e[2].id, 3, 0);
    /* inclusive and exclusive bounds; a bound between entries */
    OK(pc_xrange(r, K("s"), X(3, 0), X(5, 2), 0, e, MAXE, &n));
    CHECK(n == 3, "%zu", n);
    OK(pc_xrange(r, K("s"), X(3, 0), X(5, 2), PC_XRANGE_START_EXCL | PC_XRANGE_END_EXCL, e, MAXE,
                 &n));
    CHECK(n == 1, "%zu", n);
    ID_IS(e[0].id, 4, 1);
    OK(pc_xrange(r, K("s"), X(3, 5), X(5, 0), 0, e, MAXE, &n));
    CHECK(n == 1, "%zu", n);
    /* reversed: newest first, with COUNT */
    OK(pc_xrange(r, K("s"), X(0, 0), pc_xid_max(), PC_XRANGE_REV, e, 2, &n));
    CHECK(n == 2, "%zu", n);
    ID_IS(e[0].id, 10, 1);
    ID_IS(e[1].id, 9, 0);
    OK(pc_xrange(r, K("s"), X(2, 0), X(4, 0), PC_XRANGE_REV, e, MAXE, &n));
    CHECK(n == 2, "%zu", n);
    ID_IS(e[0].id, 3, 0);
    /* empty ranges: start after end, equal exclusive, past the end, count 0 */
    OK(pc_xrange(r, K("s"), X(5, 0), X(4, 0), 0, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    OK(pc_xrange(r, K("s"), X(4, 1), X(4, 1), PC_XRANGE_START_EXCL, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    OK(pc_xrange(r, K("s"), X(4, 1), X(4, 1), 0, e, MAXE, &n));
    CHECK(n == 1, "%zu", n);
    OK(pc_xrange(r, K("s"), X(11, 0), pc_xid_max(), 0, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    OK(pc_xrange(r, K("s"), pc_xid_max(), pc_xid_max(), PC_XRANGE_START_EXCL, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    OK(pc_xrange(r, K("s"), X(0, 0), X(0, 0), PC_XRANGE_END_EXCL, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    OK(pc_xrange(r, K("s"), X(0, 0), pc_xid_max(), 0, e, 0, &n));
    CHECK(n == 0, "%zu", n);
    OK(pc_xrange(r, K("missing"), X(0, 0), pc_xid_max(), 0, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    /* paging both ways */
    pc_xid at = X(0, 0);
    size_t seen = 0;
    unsigned fl = 0;
    do {
        OK(pc_xrange(r, K("s"), at, pc_xid_max(), fl, e, 3, &n));
        if (n)
            at = e[n - 1].id;
        fl = PC_XRANGE_START_EXCL;
        seen += n;
    } while (n == 3);
    CHECK(seen == 10, "%zu", seen);
    at = pc_xid_max();
    seen = 0;
    fl = PC_XRANGE_REV;
    pc_xid prev = pc_xid_max();
    do {
        OK(pc_xrange(r, K("s"), X(0, 0), at, fl, e, 4, &n));
        for (size_t i = 0; i < n; i++) {
            CHECK(pc_xid_cmp(e[i].id, prev) < 0, "not descending");
            prev = e[i].id;
        }
        if (n)
            at = e[n - 1].id;
        fl = PC_XRANGE_REV | PC_XRANGE_END_EXCL;
        seen += n;
    } while (n == 4);
    CHECK(seen == 10, "%zu", seen);
    /* xread over several streams, without a group */
    pc_bytes keys[3] = {pc_b("s", 1), pc_b("missing", 7), pc_b("s", 1)};
    pc_xid ids[3] = {X(8, 0), X(0, 0), pc_xid_max()};
    size_t nper[3];
    OK(pc_xread(r, keys, ids, 3, 0, e, MAXE, nper));
    CHECK(nper[0] == 3 && nper[1] == 0 && nper[2] == 0, "%zu %zu %zu", nper[0], nper[1], nper[2]);
    ID_IS(e[0].id, 8, 2);
    ids[2] = X(0, 0);
    OK(pc_xread(r, keys, ids, 3, 2, e, MAXE, nper));
    CHECK(nper[0] == 2 && nper[2] == 2, "%zu %zu", nper[0], nper[2]);
    ID_IS(e[2].id, 1, 1);
    pc_read_end(r);
}

static void test_xdel_xtrim(void **state)
{
    pt_store *t = *state;
    for (uint64_t i = 1; i <= 20; i++)
        OK(add(t->c, "s", PC_XADD_EXPLICIT, X(i, 0), (int64_t)i, NULL));
    uint64_t k;
    pc_xid del[4] = {X(1, 0), X(5, 0), X(5, 0), X(99, 0)};
    OK(pc_xdel(t->c, K("s"), del, 4, &k));
    CHECK(k == 2, "%" PRIu64, k);
    pc_xinfo xi = info(t->c, "s");
    CHECK(xi.length == 18, "%" PRIu64, xi.length);
    ID_IS(xi.first_id, 2, 0);
    ID_IS(xi.max_deleted_id, 5, 0);
    /* an ID below the last, even deleted, cannot come back */
    RC(PC_ERANGE, add(t->c, "s", PC_XADD_EXPLICIT, X(5, 0), 1, NULL));
    /* MAXLEN = */
    pc_xtrim_opts tr = {.by = PC_XTRIM_MAXLEN, .maxlen = 15};
    OK(pc_xtrim(t->c, K("s"), &tr, &k));
    CHECK(k == 3, "%" PRIu64, k);
    xi = info(t->c, "s");
    CHECK(xi.length == 15, "%" PRIu64, xi.length);
    ID_IS(xi.first_id, 6, 0);
    /* ~ with a limit removes at most that many */
    tr = (pc_xtrim_opts){.by = PC_XTRIM_MAXLEN, .maxlen = 5, .approx = true, .limit = 4};
    OK(pc_xtrim(t->c, K("s"), &tr, &k));
    CHECK(k == 4, "%" PRIu64, k);
    /* an exact trim with a limit is refused */
    tr.approx = false;
    RC(PC_EINVAL, pc_xtrim(t->c, K("s"), &tr, &k));
    /* MINID: entries before it go */
    tr = (pc_xtrim_opts){.by = PC_XTRIM_MINID, .minid = X(13, 0)};
    OK(pc_xtrim(t->c, K("s"), &tr, &k));
    CHECK(k == 3, "%" PRIu64, k);
    xi = info(t->c, "s");
    ID_IS(xi.first_id, 13, 0);
    CHECK(xi.length == 8, "%" PRIu64, xi.length);
    /* XADD trims as it adds */
    pc_val fv[2] = {pc_str("f"), pc_str("v")};
    tr = (pc_xtrim_opts){.by = PC_XTRIM_MAXLEN, .maxlen = 2};
    OK(pc_xadd(t->c, K("s"), PC_XADD_EXPLICIT, X(30, 0), fv, 1, &tr, 0, NULL));
    pc_xid ids[8];
    CHECK(all_ids(t->c, "s", ids, 8) == 2, "len");
    ID_IS(ids[0], 20, 0);
    /* trimming to nothing keeps the (empty) stream and its last ID */
    tr.maxlen = 0;
    OK(pc_xtrim(t->c, K("s"), &tr, &k));
    CHECK(k == 2, "%" PRIu64, k);
    xi = info(t->c, "s");
    CHECK(xi.length == 0 && xi.entries_added == 21, "%" PRIu64, xi.length);
    ID_IS(xi.last_id, 30, 0);
    ID_IS(xi.first_id, 0, 0);
    TYPE_IS(t->c, "s", PC_T_STREAM);
    RC(PC_ERANGE, add(t->c, "s", PC_XADD_EXPLICIT, X(30, 0), 1, NULL));
    /* missing keys */
    OK(pc_xtrim(t->c, K("missing"), &tr, &k));
    CHECK(k == 0, "%" PRIu64, k);
    OK(pc_xdel(t->c, K("missing"), del, 1, &k));
    CHECK(k == 0, "%" PRIu64, k);
    MISSING(t->c, "missing");
}

/* xreadgroup of one stream, ">" (id NULL) or history from id. */
static size_t rg(pc_client *c, const char *key, const char *g, const char *cons, const pc_xid *id,
                 size_t count, unsigned flags, pc_xentry *e)
{
    pc_bytes keys[1] = {pc_b(key, strlen(key))};
    size_t nper[1];
    OK(pc_xreadgroup(c, K(g), K(cons), keys, id, 1, count, 0, flags, e, MAXE, nper));
    return nper[0];
}

static void test_groups(void **state)
{
    pt_store *t = *state;
    pc_xentry e[MAXE];
    RC(PC_ENOTFOUND, pc_xgroup_create(t->c, K("s"), K("g"), NULL, -1, 0));
    OK(pc_xgroup_create(t->c, K("s"), K("g"), NULL, -1, PC_XGROUP_MKSTREAM));
    RC(PC_EEXIST, pc_xgroup_create(t->c, K("s"), K("g"), NULL, -1, 0));
    pc_xinfo xi = info(t->c, "s");
    CHECK(xi.length == 0 && xi.groups == 1, "%" PRIu64, xi.groups);
    for (uint64_t i = 1; i <= 6; i++)
        OK(add(t->c, "s", PC_XADD_EXPLICIT, X(i, 0), (int64_t)i, NULL));
    /* ">" delivers new entries once */
    CHECK(rg(t->c, "s", "g", "alice", NULL, 2, 0, e) == 2, "alice");
    ID_IS(e[0].id, 1, 0);
    CHECK(rg(t->c, "s", "g", "bob", NULL, 0, 0, e) == 4, "bob");
    ID_IS(e[0].id, 3, 0);
    CHECK(rg(t->c, "s", "g", "bob", NULL, 0, 0, e) == 0, "nothing new");
    /* missing group or key: NOGROUP */
    pc_bytes keys[1] = {pc_b("s", 1)};
    size_t nper[1];
    RC(PC_ENOTFOUND, pc_xreadgroup(t->c, K("nog"), K("c"), keys, NULL, 1, 0, 0, 0, e, MAXE, nper));
    keys[0] = pc_b("nokey", 5);
    RC(PC_ENOTFOUND, pc_xreadgroup(t->c, K("g"), K("c"), keys, NULL, 1, 0, 0, 0, e, MAXE, nper));
    /* pending: summary and extended */
    pc_read *r = pt_rd(t->c);
    pc_xpending_info pi;
    pc_bytes names[4];
    uint64_t counts[4];
    size_t n;
    OK(pc_xpending_summary(r, K("s"), K("g"), &pi, names, counts, 4, &n));
    CHECK(pi.count == 6 && pi.consumers == 2 && n == 2, "%" PRIu64, pi.count);
    ID_IS(pi.min, 1, 0);
    ID_IS(pi.max, 6, 0);
    CHECK(names[0].len == 5 && !memcmp(names[0].ptr, "alice", 5) && counts[0] == 2, "alice");
    CHECK(counts[1] == 4, "bob");
    pc_xpending_entry pe[8];
    OK(pc_xpending(r, K("s"), K("g"), X(0, 0), pc_xid_max(), 0, 0, K("bob"), pe, 8, &n));
    CHECK(n == 4 && pe[0].deliveries == 1, "%zu", n);
    ID_IS(pe[0].id, 3, 0);
    OK(pc_xpending(r, K("s"), K("g"), X(2, 0), X(4, 0), PC_XRANGE_START_EXCL, 0, NULL, 0, pe, 8,
                   &n));
    CHECK(n == 2, "%zu", n);
    OK(pc_xpending(r, K("s"), K("g"), X(0, 0), pc_xid_max(), 0, 3600000, NULL, 0, pe, 8, &n));
    CHECK(n == 0, "IDLE: %zu", n);
    RC(PC_ENOTFOUND, pc_xpending_summary(r, K("s"), K("nog"), &pi, NULL, NULL, 0, &n));
    pc_read_end(r);
    /* history: one's own pending entries, delivered again */
    pc_xid zero = X(0, 0);
    CHECK(rg(t->c, "s", "g", "alice", &zero, 0, 0, e) == 2, "history");
    pc_xid one = X(1, 0);
    CHECK(rg(t->c, "s", "g", "alice", &one, 0, 0, e) == 1, "history after 1-0");
    ID_IS(e[0].id, 2, 0);
    r = pt_rd(t->c);
    OK(pc_xpending(r, K("s"), K("g"), X(2, 0), X(2, 0), 0, 0, NULL, 0, pe, 8, &n));
    CHECK(n == 1 && pe[0].deliveries == 3, "%" PRIu64, pe[0].deliveries);
    pc_read_end(r);
    /* xack; a deleted pending entry comes back from history as deleted */
    uint64_t k;
    pc_xid acks[3] = {X(1, 0), X(1, 0), X(9, 0)};
    OK(pc_xack(t->c, K("s"), K("g"), acks, 3, &k));
    CHECK(k == 1, "%" PRIu64, k);
    pc_xid d2 = X(2, 0);
    OK(pc_xdel(t->c, K("s"), &d2, 1, &k));
    CHECK(rg(t->c, "s", "g", "alice", &zero, 0, 0, e) == 1 && e[0].deleted, "deleted");
    OK(pc_xack(t->c, K("s"), K("nog"), acks, 1, &k));
    CHECK(k == 0, "%" PRIu64, k);
    /* NOACK: delivered, not pending */
    OK(add(t->c, "s", PC_XADD_EXPLICIT, X(7, 0), 7, NULL));
    CHECK(rg(t->c, "s", "g", "carol", NULL, 0, PC_XREAD_NOACK, e) == 1, "noack");
    r = pt_rd(t->c);
    OK(pc_xpending_summary(r, K("s"), K("g"), &pi, NULL, NULL, 0, &n));
    CHECK(pi.count == 5, "%" PRIu64, pi.count);
    /* xinfo groups and consumers */
    pc_xgroup_info gi[2];
    OK(pc_xinfo_groups(r, K("s"), gi, 2, &n));
    CHECK(n == 1 && gi[0].consumers == 3 && gi[0].pending == 5, "%zu", n);
    ID_IS(gi[0].last_delivered, 7, 0);
    CHECK(gi[0].lag == 0, "lag %" PRId64, gi[0].lag);
    pc_xconsumer_info ci[4];
    OK(pc_xinfo_consumers(r, K("s"), K("g"), ci, 4, &n));
    CHECK(n == 3 && ci[0].pending == 1 && ci[1].pending == 4 && ci[2].pending == 0, "%zu", n);
    CHECK(ci[2].name.len == 5 && !memcmp(ci[2].name.ptr, "carol", 5), "carol");
    pc_read_end(r);
    /* claims: bob's entries go to dave */
    pc_xid cl[3] = {X(3, 0), X(4, 0), X(99, 0)};
    OK(pc_xclaim(t->c, K("s"), K("g"), K("dave"), 3600000, cl, 3, NULL, e, MAXE, &n));
    CHECK(n == 0, "too recent: %zu", n);
    OK(pc_xclaim(t->c, K("s"), K("g"), K("dave"), 0, cl, 3, NULL, e, MAXE, &n));
    CHECK(n == 2 && e[0].npairs == 1, "%zu", n);
    pc_xclaim_opts o = {.idle_ms = -1, .time_ms = -1, .retrycount = 9, .justid = true};
    OK(pc_xclaim(t->c, K("s"), K("g"), K("erin"), 0, cl, 1, &o, e, MAXE, &n));
    CHECK(n == 1 && e[0].npairs == 0 && !e[0].deleted, "justid %zu", n);
    r = pt_rd(t->c);
    OK(pc_xpending(r, K("s"), K("g"), X(3, 0), X(4, 0), 0, 0, NULL, 0, pe, 8, &n));
    CHECK(n == 2 && pe[0].deliveries == 9 && pe[1].deliveries == 2, "%" PRIu64, pe[0].deliveries);
    CHECK(pe[0].consumer.len == 4 && !memcmp(pe[0].consumer.ptr, "erin", 4), "erin");
    pc_read_end(r);
    /* autoclaim: everything pending from 0-0, count 2, then the rest */
    pc_xid next, dels[4];
    size_t nd;
    OK(pc_xautoclaim(t->c, K("s"), K("g"), K("frank"), 0, X(0, 0), 2, false, &next, e, MAXE, &n,
                     dels, 4, &nd));
    /* 2-0 was deleted: it leaves the pending list, counted against COUNT */
    CHECK(n == 1 && nd == 1, "%zu %zu", n, nd);
    ID_IS(dels[0], 2, 0);
    ID_IS(e[0].id, 3, 0);
    ID_IS(next, 4, 0);
    OK(pc_xautoclaim(t->c, K("s"), K("g"), K("frank"), 0, next, 10, true, &next, e, MAXE, &n, dels,
                     4, &nd));
    CHECK(n == 3 && nd == 0, "%zu %zu", n, nd);
    ID_IS(next, 0, 0);
    /* delconsumer: its pending entries go */
    OK(pc_xgroup_delconsumer(t->c, K("s"), K("g"), K("frank"), &k));
    CHECK(k == 4, "%" PRIu64, k);
    r = pt_rd(t->c);
    OK(pc_xpending_summary(r, K("s"), K("g"), &pi, NULL, NULL, 0, &n));
    CHECK(pi.count == 0, "%" PRIu64, pi.count);
    pc_read_end(r);
    int created;
    OK(pc_xgroup_createconsumer(t->c, K("s"), K("g"), K("zed"), &created));
    CHECK(created == 1, "created");
    OK(pc_xgroup_createconsumer(t->c, K("s"), K("g"), K("zed"), &created));
    CHECK(created == 0, "again");
    /* setid back: entries are delivered again */
    pc_xid back = X(5, 0);
    OK(pc_xgroup_setid(t->c, K("s"), K("g"), &back, -1));
    CHECK(rg(t->c, "s", "g", "zed", NULL, 0, 0, e) == 2, "after setid");
    ID_IS(e[0].id, 6, 0);
    RC(PC_ENOTFOUND, pc_xgroup_setid(t->c, K("s"), K("nog"), &back, -1));
    /* a group made at "$" sees only what comes after */
    OK(pc_xgroup_create(t->c, K("s"), K("late"), NULL, -1, 0));
    CHECK(rg(t->c, "s", "late", "x", NULL, 0, 0, e) == 0, "late");
    /* destroy */
    int gone;
    OK(pc_xgroup_destroy(t->c, K("s"), K("g"), &gone));
    CHECK(gone == 1, "destroyed");
    OK(pc_xgroup_destroy(t->c, K("s"), K("g"), &gone));
    CHECK(gone == 0, "twice");
    xi = info(t->c, "s");
    CHECK(xi.groups == 1, "%" PRIu64, xi.groups);
    r = pt_rd(t->c);
    RC(PC_ENOTFOUND, pc_xinfo_consumers(r, K("s"), K("g"), ci, 4, &n));
    pc_read_end(r);
}

/* A consumer that claims its own pending entry that was deleted from the
 * stream: the entry leaves the pending list and the consumer's count
 * (found by pccli's tests: the count was written back as it was). */
static void test_claim_own_deleted(void **state)
{
    pt_store *t = *state;
    pc_xentry e[MAXE];
    OK(pc_xgroup_create(t->c, K("s"), K("g"), NULL, -1, PC_XGROUP_MKSTREAM));
    for (uint64_t i = 1; i <= 3; i++)
        OK(add(t->c, "s", PC_XADD_EXPLICIT, X(i, 0), (int64_t)i, NULL));
    CHECK(rg(t->c, "s", "g", "gina", NULL, 0, 0, e) == 3, "read");
    pc_xid d[2] = {X(1, 0), X(2, 0)};
    OK(pc_xdel(t->c, K("s"), d, 1, NULL));
    pc_xid next, dels[4];
    size_t n, nd;
    OK(pc_xautoclaim(t->c, K("s"), K("g"), K("gina"), 0, X(0, 0), 10, false, &next, e, MAXE, &n,
                     dels, 4, &nd));
    CHECK(n == 2 && nd == 1, "%zu %zu", n, nd);
    OK(pc_xdel(t->c, K("s"), d + 1, 1, NULL));
    OK(pc_xclaim(t->c, K("s"), K("g"), K("gina"), 0, d + 1, 1, NULL, e, MAXE, &n));
    CHECK(n == 0, "%zu", n);
    pc_read *r = pt_rd(t->c);
    pc_xconsumer_info ci[2];
    OK(pc_xinfo_consumers(r, K("s"), K("g"), ci, 2, &n));
    CHECK(n == 1 && ci[0].pending == 1, "gina has %" PRIu64 " pending, want 1", ci[0].pending);
    pc_xgroup_info gi[1];
    OK(pc_xinfo_groups(r, K("s"), gi, 1, &n));
    CHECK(gi[0].pending == 1, "%" PRIu64, gi[0].pending);
    pc_read_end(r);
}

static void test_blocking_embedded(void **state)
{
    pt_store *t = *state;
    pc_xentry e[MAXE];
    size_t nper[2];
    pc_bytes keys[2] = {pc_b("a", 1), pc_b("b", 1)};
    pc_xid ids[2] = {pc_xid_max(), X(0, 0)};
    /* nothing anywhere: times out */
    RC(PC_ETIMEDOUT, pc_xread_wait(t->c, keys, ids, 2, 0, 30, e, MAXE, nper));
    OK(add(t->c, "b", PC_XADD_EXPLICIT, X(1, 0), 1, NULL));
    OK(pc_xread_wait(t->c, keys, ids, 2, 0, 30, e, MAXE, nper));
    CHECK(nper[0] == 0 && nper[1] == 1, "%zu %zu", nper[0], nper[1]);
    /* "$" on a with an entry there: only newer ones count */
    OK(add(t->c, "a", PC_XADD_EXPLICIT, X(1, 0), 1, NULL));
    ids[1] = X(1, 0);
    RC(PC_ETIMEDOUT, pc_xread_wait(t->c, keys, ids, 2, 0, 30, e, MAXE, nper));
    OK(pc_xgroup_create(t->c, K("a"), K("g"), NULL, -1, 0));
    RC(PC_ETIMEDOUT, pc_xreadgroup(t->c, K("g"), K("c"), keys, NULL, 1, 0, 30, 0, e, MAXE, nper));
    /* not in a batch */
    OK(pc_batch_begin(t->c));
    RC(PC_ESTATE, pc_xread_wait(t->c, keys, ids, 1, 0, 30, e, MAXE, nper));
    RC(PC_ESTATE, pc_xreadgroup(t->c, K("g"), K("c"), keys, NULL, 1, 0, 0, 0, e, MAXE, nper));
    OK(pc_batch_exec(t->c, NULL, 0));
    /* keys of two shards cannot wait together (one shard here: fine) */
    OK(add(t->c, "a", PC_XADD_AUTO, X(0, 0), 2, NULL));
    OK(pc_xreadgroup(t->c, K("g"), K("c"), keys, NULL, 1, 0, 30, 0, e, MAXE, nper));
    CHECK(nper[0] == 1, "%zu", nper[0]);
}

static void test_types_ttl_errors(void **state)
{
    pt_store *t = *state;
    pc_val s = pc_str("x");
    OK(pc_set(t->c, K("str"), &s, 0, 0));
    pc_xid id;
    RC(PC_EWRONGTYPE, add(t->c, "str", PC_XADD_AUTO, X(0, 0), 1, &id));
    RC(PC_EWRONGTYPE, pc_xgroup_create(t->c, K("str"), K("g"), NULL, -1, PC_XGROUP_MKSTREAM));
    OK(add(t->c, "s", PC_XADD_AUTO, X(0, 0), 1, &id));
    uint64_t n64;
    pc_read *r = pt_rd(t->c);
    pc_xentry e[2];
    size_t n;
    RC(PC_EWRONGTYPE, pc_xrange(r, K("str"), X(0, 0), pc_xid_max(), 0, e, 2, &n));
    RC(PC_EWRONGTYPE, pc_xlen(r, K("str"), &n64));
    pc_val v;
    RC(PC_EWRONGTYPE, pc_get(r, K("s"), &v));
    pc_read_end(r);
    /* bad input: refused, nothing changes */
    pc_val fv[2] = {pc_str("f"), pc_str("v")};
    RC(PC_EINVAL, pc_xadd(t->c, K("s"), 7, X(0, 0), fv, 1, NULL, 0, &id));
    RC(PC_EINVAL, pc_xadd(t->c, K("s"), PC_XADD_AUTO, X(0, 0), fv, 0, NULL, 0, &id));
    RC(PC_EINVAL, pc_xadd(t->c, K("s"), PC_XADD_AUTO, X(0, 0), fv, 1, NULL, 8, &id));
    pc_val bad[2] = {pc_str("f"), {.kind = PC_NONE}};
    RC(PC_EINVAL, pc_xadd(t->c, K("s"), PC_XADD_AUTO, X(0, 0), bad, 1, NULL, 0, &id));
    pc_val nan[2] = {pc_str("f"), pc_dbl(0.0 / 0.0)};
    RC(PC_ENAN, pc_xadd(t->c, K("s"), PC_XADD_AUTO, X(0, 0), nan, 1, NULL, 0, &id));
    RC(PC_EKEY, pc_xadd(t->c, "", 0, PC_XADD_AUTO, X(0, 0), fv, 1, NULL, 0, &id));
    pc_xtrim_opts tr = {.by = 9};
    RC(PC_EINVAL, pc_xadd(t->c, K("s"), PC_XADD_AUTO, X(0, 0), fv, 1, &tr, 0, &id));
    RC(PC_EINVAL, pc_xtrim(t->c, K("s"), NULL, &n64));
    char big[PC_XNAME_MAX + 1];
    memset(big, 'g', sizeof big);
    RC(PC_EINVAL, pc_xgroup_create(t->c, K("s"), big, sizeof big, NULL, -1, 0));
    RC(PC_EINVAL, pc_xgroup_create(t->c, K("s"), "", 0, NULL, -1, 0));
    RC(PC_EINVAL, pc_xgroup_create(t->c, K("s"), K("g"), NULL, -2, 0));
    RC(PC_EINVAL, pc_xdel(t->c, K("s"), NULL, 1, &n64));
    RC(PC_EINVAL, pc_xack(t->c, K("s"), K("g"), &id, 0, &n64));
    pc_xid next;
    RC(PC_EINVAL, pc_xautoclaim(t->c, K("s"), K("g"), K("c"), 0, X(0, 0), 0, false, &next, e, 2, &n,
                                NULL, 0, NULL));
    CHECK(strstr(pc_last_error(t->c), "pc_xautoclaim") != NULL, "%s", pc_last_error(t->c));
    pc_xinfo xi = info(t->c, "s");
    CHECK(xi.length == 1 && xi.groups == 0, "changed");
    /* a TTL, deletion and renaming as for any key */
    int set;
    OK(pc_expire(t->c, K("s"), 100000, &set));
    CHECK(pt_ttl(t->c, "s") > 0, "no TTL");
    OK(pc_rename(t->c, K("s"), K("s2"), 0, &set));
    xi = info(t->c, "s2");
    CHECK(xi.length == 1, "renamed");
    OK(pc_del(t->c, K("s2"), &set));
    MISSING(t->c, "s2");
    /* the members went to the sweep: a new stream of the name starts afresh */
    OK(add(t->c, "s2", PC_XADD_EXPLICIT, X(1, 0), 1, &id));
    xi = info(t->c, "s2");
    CHECK(xi.length == 1 && xi.entries_added == 1, "afresh");
}

/* ---- a randomized run against a model ---- */

#define MODEL_MAX 4096

typedef struct model {
    pc_xid ids[MODEL_MAX];
    int64_t vals[MODEL_MAX];
    size_t n;
    pc_xid last;
    bool exists;
    /* one group: last delivered, and pending IDs with their consumer */
    bool group;
    pc_xid glast;
    pc_xid pend[MODEL_MAX];
    int owner[MODEL_MAX];
    size_t npend;
} model;

static uint64_t rnd(uint64_t *s)
{
    *s ^= *s << 13;
    *s ^= *s >> 7;
    *s ^= *s << 17;
    return *s;
}

static void m_del_at(model *m, size_t i)
{
    memmove(&m->ids[i], &m->ids[i + 1], (m->n - i - 1) * sizeof m->ids[0]);
    memmove(&m->vals[i], &m->vals[i + 1], (m->n - i - 1) * sizeof m->vals[0]);
    m->n--;
}

static ssize_t m_find(const model *m, pc_xid id)
{
    for (size_t i = 0; i < m->n; i++)
        if (!pc_xid_cmp(m->ids[i], id))
            return (ssize_t)i;
    return -1;
}

static ssize_t m_pfind(const model *m, pc_xid id)
{
    for (size_t i = 0; i < m->npend; i++)
        if (!pc_xid_cmp(m->pend[i], id))
            return (ssize_t)i;
    return -1;
}

static void m_pdel(model *m, size_t i)
{
    memmove(&m->pend[i], &m->pend[i + 1], (m->npend - i - 1) * sizeof m->pend[0]);
    memmove(&m->owner[i], &m->owner[i + 1], (m->npend - i - 1) * sizeof m->owner[0]);
    m->npend--;
}

static void m_padd(model *m, pc_xid id, int owner)
{
    size_t i = m->npend;
    while (i > 0 && pc_xid_cmp(m->pend[i - 1], id) > 0)
        i--;
    memmove(&m->pend[i + 1], &m->pend[i], (m->npend - i) * sizeof m->pend[0]);
    memmove(&m->owner[i + 1], &m->owner[i], (m->npend - i) * sizeof m->owner[0]);
    m->pend[i] = id;
    m->owner[i] = owner;
    m->npend++;
}

/* The store agrees with the model: every entry, its value, the figures,
 * the pending list. */
static void m_compare(pc_client *c, const model *m, int step)
{
    pc_read *r = pt_rd(c);
    static pc_xentry e[MODEL_MAX];
    size_t n;
    OK(pc_xrange(r, K("rs"), X(0, 0), pc_xid_max(), 0, e, MODEL_MAX, &n));
    CHECK(n == m->n, "step %d: %zu entries, model %zu", step, n, m->n);
    for (size_t i = 0; i < n; i++) {
        pc_val fv[2];
        size_t np;
        OK(pc_xentry_pairs(&e[i], fv, 2, &np));
        CHECK(!pc_xid_cmp(e[i].id, m->ids[i]) && fv[1].kind == PC_INT && fv[1].i == m->vals[i],
              "step %d: entry %zu", step, i);
    }
    pc_xinfo xi;
    int rc = pc_xinfo_stream(r, K("rs"), &xi);
    CHECK(m->exists ? rc == 0 : rc == PC_ENOTFOUND, "step %d: exists %d", step, rc);
    if (!rc) {
        CHECK(xi.length == m->n && !pc_xid_cmp(xi.last_id, m->last), "step %d: figures", step);
        CHECK(!pc_xid_cmp(xi.first_id, m->n ? m->ids[0] : X(0, 0)), "step %d: first", step);
    }
    if (m->group) {
        static pc_xpending_entry pe[MODEL_MAX];
        OK(pc_xpending(r, K("rs"), K("g"), X(0, 0), pc_xid_max(), 0, 0, NULL, 0, pe, MODEL_MAX,
                       &n));
        CHECK(n == m->npend, "step %d: %zu pending, model %zu", step, n, m->npend);
        for (size_t i = 0; i < n; i++) {
            char want[2] = {(char)('a' + m->owner[i]), 0};
            CHECK(!pc_xid_cmp(pe[i].id, m->pend[i]) && pe[i].consumer.len == 1 &&
                      !memcmp(pe[i].consumer.ptr, want, 1),
                  "step %d: pending %zu", step, i);
        }
    }
    pc_read_end(r);
}

static void test_model(void **state)
{
    pt_store *t = *state;
    static model m;
    memset(&m, 0, sizeof m);
    uint64_t seed = 0x9e3779b97f4a7c15ull;
    static pc_xentry e[MODEL_MAX];
    for (int step = 0; step < 1500; step++) {
        unsigned op = (unsigned)(rnd(&seed) % 100);
        pc_xid id;
        uint64_t k;
        if (op < 45) { /* xadd, explicit (sometimes not greater) or partial */
            uint64_t ms = m.last.ms + rnd(&seed) % 3 - (m.last.ms > 0 && rnd(&seed) % 8 == 0);
            int64_t v = (int64_t)(rnd(&seed) % 1000);
            bool partial = rnd(&seed) % 2;
            pc_xid want = X(ms, rnd(&seed) % 3);
            int rc = add(t->c, "rs", partial ? PC_XADD_AUTOSEQ : PC_XADD_EXPLICIT, want, v, &id);
            pc_xid exp = partial ? X(ms, ms == m.last.ms ? m.last.seq + 1 : 0) : want;
            if (partial && !m.exists && ms == 0)
                exp = X(0, 1);
            bool ok = pc_xid_cmp(exp, m.last) > 0 && !(exp.ms == 0 && exp.seq == 0);
            if (partial && ms < m.last.ms)
                ok = false;
            if (!ok || m.n == MODEL_MAX) {
                CHECK(rc == PC_ERANGE || m.n == MODEL_MAX, "step %d: xadd %d", step, rc);
                if (rc == 0)
                    break;
                continue;
            }
            OK(rc);
            CHECK(!pc_xid_cmp(id, exp), "step %d: id", step);
            m.ids[m.n] = id;
            m.vals[m.n++] = v;
            m.last = id;
            m.exists = true;
        } else if (op < 55 && m.n) { /* xdel of one present, one maybe absent */
            pc_xid d[2] = {m.ids[rnd(&seed) % m.n], X(rnd(&seed) % (m.last.ms + 1), 0)};
            OK(pc_xdel(t->c, K("rs"), d, 2, &k));
            uint64_t want = 0;
            for (int i = 0; i < 2; i++) {
                ssize_t at = m_find(&m, d[i]);
                if (at >= 0) {
                    m_del_at(&m, (size_t)at);
                    want++;
                }
            }
            CHECK(k == want, "step %d: xdel %" PRIu64 " want %" PRIu64, step, k, want);
        } else if (op < 60) { /* xtrim */
            pc_xtrim_opts tr = {.by = PC_XTRIM_MAXLEN, .maxlen = rnd(&seed) % 40};
            if (rnd(&seed) % 2) {
                tr.by = PC_XTRIM_MINID;
                tr.minid = X(m.last.ms > 5 ? m.last.ms - 5 : 0, 0);
            }
            OK(pc_xtrim(t->c, K("rs"), &tr, &k));
            uint64_t want = 0;
            while (m.n && (tr.by == PC_XTRIM_MAXLEN ? m.n > tr.maxlen
                                                    : pc_xid_cmp(m.ids[0], tr.minid) < 0)) {
                m_del_at(&m, 0);
                want++;
            }
            CHECK(k == want, "step %d: xtrim %" PRIu64 " want %" PRIu64, step, k, want);
        } else if (op < 63 && !m.group && m.exists) {
            pc_xid z = X(0, 0);
            OK(pc_xgroup_create(t->c, K("rs"), K("g"), &z, -1, 0));
            m.group = true;
            m.glast = z;
        } else if (op < 78 && m.group) { /* xreadgroup ">" by consumer a..c */
            int who = (int)(rnd(&seed) % 3);
            char cn[2] = {(char)('a' + who), 0};
            size_t count = 1 + rnd(&seed) % 4, got = 0;
            got = rg(t->c, "rs", "g", cn, NULL, count, 0, e);
            size_t want = 0;
            for (size_t i = 0; i < m.n && want < count; i++) {
                if (pc_xid_cmp(m.ids[i], m.glast) <= 0)
                    continue;
                CHECK(got > want && !pc_xid_cmp(e[want].id, m.ids[i]), "step %d: delivered", step);
                ssize_t p = m_pfind(&m, m.ids[i]);
                if (p >= 0)
                    m_pdel(&m, (size_t)p);
                m_padd(&m, m.ids[i], who);
                m.glast = m.ids[i];
                want++;
            }
            CHECK(got == want, "step %d: %zu delivered, model %zu", step, got, want);
        } else if (op < 88 && m.group && m.npend) { /* xack */
            pc_xid a = m.pend[rnd(&seed) % m.npend];
            OK(pc_xack(t->c, K("rs"), K("g"), &a, 1, &k));
            CHECK(k == 1, "step %d: xack", step);
            m_pdel(&m, (size_t)m_pfind(&m, a));
        } else if (op < 95 && m.group && m.npend) { /* xclaim to a random consumer */
            int who = (int)(rnd(&seed) % 3);
            char cn[2] = {(char)('a' + who), 0};
            pc_xid a = m.pend[rnd(&seed) % m.npend];
            size_t n;
            OK(pc_xclaim(t->c, K("rs"), K("g"), cn, 1, 0, &a, 1, NULL, e, MAXE, &n));
            ssize_t p = m_pfind(&m, a);
            if (m_find(&m, a) < 0) { /* gone: dropped from the list */
                CHECK(n == 0, "step %d: claimed a deleted entry", step);
                m_pdel(&m, (size_t)p);
            } else {
                CHECK(n == 1, "step %d: claim", step);
                m.owner[p] = who;
            }
        }
        m_compare(t->c, &m, step);
    }
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        PT_STORE_TEST(test_xadd_ids),          PT_STORE_TEST(test_xrange),
        PT_STORE_TEST(test_xdel_xtrim),        PT_STORE_TEST(test_groups),
        PT_STORE_TEST(test_claim_own_deleted), PT_STORE_TEST(test_blocking_embedded),
        PT_STORE_TEST(test_types_ttl_errors),  PT_STORE_TEST(test_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
