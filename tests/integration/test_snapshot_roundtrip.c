/*
 * test_snapshot_roundtrip.c - every type, with and without TTLs, goes through
 * a snapshot and a restore exactly: values, element kinds, order, expiry
 * times.  Also: what the views show a person in the sqlite3 tool, keys that
 * expire before the restore, --restore FILE, and the snapshot statistics.
 */
#include "pctest.h"

#include <float.h>
#include <sqlite3.h>

/* ------------------------------------------------------------------------ */
/* The data set                                                              */

static const uint8_t BIN[] = {0xff, 0xfe, 0x00, 0x80, 0xc0, 0xc1, 'a', 0xf5};
static const char NULSTR[] = "a\0b\0c"; /* valid UTF-8 with NUL bytes: 5 bytes */
static const uint8_t SURR[] = {'x', 0xed, 0xa0, 0x80, 'y'}; /* an encoded surrogate */
static const uint8_t OVERLONG[] = {0xc0, 0xaf};
static const char UTF8[] = "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80";

#define BIG_STRING (1u << 20)
#define HOUR (3600 * 1000)

static uint8_t big_bin[BIG_STRING];
static uint8_t long700[700], long700b[700];
static char longtext[2000];

static void make_blobs(void)
{
    pt_fill(big_bin, sizeof big_bin, 0x5eed);
    pt_fill(long700, sizeof long700, 0x700);
    memcpy(long700b, long700, sizeof long700b);
    long700b[699] ^= 0x55; /* shares 699 bytes with long700 */
    for (size_t i = 0; i < sizeof longtext; i++)
        longtext[i] = (char)('a' + i % 26);
}

/* Every kind of element, including the awkward ones. */
static size_t all_elems(pc_val *v)
{
    size_t n = 0;
    v[n++] = pc_nil();
    v[n++] = pc_mem("", 0);
    v[n++] = pc_str("text");
    v[n++] = pc_str(UTF8);
    v[n++] = pc_mem(BIN, sizeof BIN);
    v[n++] = pc_mem(NULSTR, 5);
    v[n++] = pc_mem(SURR, sizeof SURR);
    v[n++] = pc_mem(OVERLONG, sizeof OVERLONG);
    v[n++] = pc_mem(long700, sizeof long700);
    v[n++] = pc_mem(longtext, sizeof longtext);
    v[n++] = pc_int(0);
    v[n++] = pc_int(-1);
    v[n++] = pc_int(INT64_MIN);
    v[n++] = pc_int(INT64_MAX);
    v[n++] = pc_int(42);
    v[n++] = pc_dbl(0.0);
    v[n++] = pc_dbl(-0.0);
    v[n++] = pc_dbl(2.0);
    v[n++] = pc_dbl(-1.5);
    v[n++] = pc_dbl(5e-324);
    v[n++] = pc_dbl(DBL_MIN);
    v[n++] = pc_dbl(DBL_MAX);
    v[n++] = pc_dbl(-DBL_MAX);
    v[n++] = pc_dbl(0.1);
    v[n++] = pc_bool(true);
    v[n++] = pc_bool(false);
    v[n++] = pc_nil();
    v[n++] = pc_int(42); /* lists keep duplicates */
    return n;
}

typedef struct filler {
    pc_client *c;
    const char *pfx;
    int64_t ttl; /* 0: no TTLs; else key i gets ttl + i seconds */
    int idx;
    uint8_t key[PC_KEY_MAX];
    size_t klen;
} filler;

/* The key pfx+name (name of nlen bytes), cut at PC_KEY_MAX. */
static const uint8_t *key_of(filler *f, const void *name, size_t nlen)
{
    size_t pl = strlen(f->pfx);
    memcpy(f->key, f->pfx, pl);
    if (pl + nlen > PC_KEY_MAX)
        nlen = PC_KEY_MAX - pl;
    memcpy(f->key + pl, name, nlen);
    f->klen = pl + nlen;
    return f->key;
}

/* Select the key pfx+s; FK passes it. */
#define SK(s) key_of(f, (s), strlen(s))
#define FK f->key, f->klen

/* The key just written gets its TTL (TTL mode). */
static void ttl_done(filler *f)
{
    if (!f->ttl)
        return;
    int set = 0;
    OK(pc_expire(f->c, f->key, f->klen, f->ttl + 1000 * f->idx++, &set));
    assert_int_equal(set, 1);
}

static void put_str(filler *f, const char *name, const void *p, size_t n)
{
    pc_val v = pc_mem(p, n);
    SK(name);
    OK(pc_set(f->c, FK, &v, 0, 0));
    ttl_done(f);
}

static void put_num(filler *f, const char *name, pc_val v)
{
    SK(name);
    OK(pc_set(f->c, FK, &v, 0, 0));
    ttl_done(f);
}

static void fill_all(pc_client *c, const char *pfx, int64_t ttl)
{
    filler F = {.c = c, .pfx = pfx, .ttl = ttl}, *f = &F;
    pc_val ev[64];
    size_t ne = all_elems(ev);
    uint64_t len;

    /* Strings */
    put_str(f, "s:text", "hello, snapshot", 15);
    put_str(f, "s:empty", "", 0);
    put_str(f, "s:utf8", UTF8, strlen(UTF8));
    put_str(f, "s:bin", BIN, sizeof BIN);
    put_str(f, "s:nul", NULSTR, 5);
    put_str(f, "s:surr", SURR, sizeof SURR);
    put_str(f, "s:overlong", OVERLONG, sizeof OVERLONG);
    put_str(f, "s:long", longtext, sizeof longtext);
    put_str(f, "s:big", big_bin, sizeof big_bin);
    SK("s:built");
    OK(pc_append(c, FK, "abc", 3, &len));
    OK(pc_setrange(c, FK, 10, "xyz", 3, &len)); /* zero padding */
    assert_int_equal(len, 13);
    ttl_done(f);

    /* Numerics */
    put_num(f, "n:max", pc_int(INT64_MAX));
    put_num(f, "n:min", pc_int(INT64_MIN));
    put_num(f, "n:zero", pc_int(0));
    put_num(f, "n:neg", pc_int(-42));
    put_num(f, "n:pi", pc_dbl(3.141592653589793));
    put_num(f, "n:negbig", pc_dbl(-2.5e300));
    put_num(f, "n:tiny", pc_dbl(5e-324));
    put_num(f, "n:dblmin", pc_dbl(DBL_MIN));
    put_num(f, "n:dblmax", pc_dbl(DBL_MAX));
    put_num(f, "n:negtiny", pc_dbl(-1e-300));
    put_num(f, "n:negzero", pc_dbl(-0.0));
    put_num(f, "n:two", pc_dbl(2.0)); /* a double with an integral value stays a double */
    int64_t now;
    SK("n:incr");
    OK(pc_incrby(c, FK, -7, &now));
    ttl_done(f);
    double dnow;
    SK("n:incrf");
    OK(pc_incrbyfloat(c, FK, 0.25, &dnow));
    ttl_done(f);

    /* Lists: every kind, the head moved by pushes and pops at both ends */
    SK("l:all");
    OK(pc_rpush(c, FK, ev, ne, &len));
    pc_val head[3] = {pc_str("h1"), pc_int(-5), pc_str("h3")};
    OK(pc_lpush(c, FK, head, 3, &len));
    pc_val out[4];
    size_t n;
    OK(pc_lpop(c, FK, 1, out, &n));
    OK(pc_rpop(c, FK, 1, out, &n));
    ttl_done(f);
    pc_val small[6] = {pc_int(1), pc_dbl(2.5), pc_bool(true), pc_nil(), pc_str("b")};
    SK("l:small");
    OK(pc_rpush(c, FK, small, 5, &len));
    pc_val av = pc_str("a");
    OK(pc_lpush(c, FK, &av, 1, &len));
    ttl_done(f);
    pc_val many[500];
    SK("l:long");
    for (int round = 0; round < 6; round++) {
        for (int i = 0; i < 500; i++)
            many[i] = pc_int(round * 500 + i);
        OK(pc_rpush(c, FK, many, 500, &len));
    }
    for (int i = 0; i < 100; i++)
        many[i] = pc_int(-1 - i);
    OK(pc_lpush(c, FK, many, 100, &len));
    assert_int_equal(len, 3100);
    ttl_done(f);
    pc_val one = pc_nil();
    SK("l:one");
    OK(pc_rpush(c, FK, &one, 1, &len));
    ttl_done(f);

    /* Queues */
    SK("q:all");
    OK(pc_qpush(c, FK, ev, ne, &len));
    OK(pc_qpop(c, FK, 3, out, &n));
    assert_int_equal(n, 3);
    ttl_done(f);
    pc_val qs[3] = {pc_str("first"), pc_int(2), pc_str("third")};
    SK("q:small");
    OK(pc_qpush(c, FK, qs, 3, &len));
    ttl_done(f);
    char sb[500][16];
    for (int i = 0; i < 500; i++) {
        snprintf(sb[i], sizeof sb[i], "e%04d", i);
        many[i] = pc_str(sb[i]);
    }
    SK("q:long");
    for (int round = 0; round < 5; round++)
        OK(pc_qpush(c, FK, many, 500, &len));
    OK(pc_qpop(c, FK, 4, out, &n));
    ttl_done(f);

    /* Maps: long fields (digests past 463 bytes), binary fields, every kind */
    static char lf[6][5000];
    size_t lfl[6] = {463, 464, 465, 480, 1000, 5000};
    for (int i = 0; i < 6; i++)
        memset(lf[i], 'f', lfl[i]);
    static char lf2[5000];
    memcpy(lf2, lf[5], 5000);
    lf2[4999] = 'g'; /* shares 4999 bytes with the 5000-byte field */
    pc_bytes fields[32];
    pc_val vals[32];
    size_t nf = 0;
    fields[nf] = pc_b("name", 4), vals[nf++] = pc_str("pycache");
    fields[nf] = pc_b(UTF8, strlen(UTF8)), vals[nf++] = pc_int(INT64_MIN);
    fields[nf] = pc_b(BIN, sizeof BIN), vals[nf++] = pc_mem(BIN, sizeof BIN);
    fields[nf] = pc_b(NULSTR, 5), vals[nf++] = pc_dbl(-0.0);
    fields[nf] = pc_b(SURR, sizeof SURR), vals[nf++] = pc_bool(false);
    for (int i = 0; i < 6; i++)
        fields[nf] = pc_b(lf[i], lfl[i]), vals[nf++] = ev[(size_t)i % ne];
    fields[nf] = pc_b(lf2, 5000), vals[nf++] = pc_str("the other long one");
    fields[nf] = pc_b("nil", 3), vals[nf++] = pc_nil();
    fields[nf] = pc_b("big", 3), vals[nf++] = pc_mem(longtext, sizeof longtext);
    fields[nf] = pc_b("tiny", 4), vals[nf++] = pc_dbl(5e-324);
    fields[nf] = pc_b("true", 4), vals[nf++] = pc_bool(true);
    fields[nf] = pc_b("empty", 5), vals[nf++] = pc_mem("", 0);
    SK("m:all");
    OK(pc_hset(c, FK, fields, vals, nf, NULL));
    OK(pc_hincrby(c, FK, "counter", 7, 5, &now));
    OK(pc_hincrbyfloat(c, FK, "float", 5, 0.25, &dnow));
    ttl_done(f);
    pc_bytes sf[3] = {pc_b("a", 1), pc_b("b", 1), pc_b("c", 1)};
    pc_val sv[3] = {pc_str("x"), pc_int(2), pc_bool(true)};
    SK("m:small");
    OK(pc_hset(c, FK, sf, sv, 3, NULL));
    ttl_done(f);
    static char mf[1500][12];
    pc_bytes mfs[500];
    SK("m:big");
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 500; i++) {
            int j = round * 500 + i;
            snprintf(mf[j], sizeof mf[j], "f%05d", j);
            mfs[i] = pc_b(mf[j], strlen(mf[j]));
            many[i] = pc_int(j * 3);
        }
        OK(pc_hset(c, FK, mfs, many, 500, NULL));
    }
    ttl_done(f);

    /* Sets: typed members (1, "1", 1.0, true are four members) */
    pc_val sm[32];
    size_t ns = 0;
    sm[ns++] = pc_int(1);
    sm[ns++] = pc_str("1");
    sm[ns++] = pc_dbl(1.0);
    sm[ns++] = pc_bool(true);
    sm[ns++] = pc_bool(false);
    sm[ns++] = pc_nil();
    sm[ns++] = pc_int(0);
    sm[ns++] = pc_dbl(0.5);
    sm[ns++] = pc_mem("", 0);
    sm[ns++] = pc_mem(BIN, sizeof BIN);
    sm[ns++] = pc_mem(NULSTR, 5);
    sm[ns++] = pc_str(UTF8);
    sm[ns++] = pc_mem(long700, sizeof long700);
    sm[ns++] = pc_mem(long700b, sizeof long700b);
    sm[ns++] = pc_int(INT64_MIN);
    sm[ns++] = pc_int(INT64_MAX);
    sm[ns++] = pc_dbl(DBL_MIN);
    sm[ns++] = pc_dbl(5e-324);
    sm[ns++] = pc_dbl(-1.5);
    uint64_t added;
    SK("S:typed");
    OK(pc_sadd(c, FK, sm, ns, &added));
    assert_int_equal(added, ns);
    ttl_done(f);
    pc_val ss[4] = {pc_str("lmdb"), pc_str("sqlite"), pc_int(3)};
    SK("S:small");
    OK(pc_sadd(c, FK, ss, 3, &added));
    ttl_done(f);
    SK("S:big");
    for (int round = 0; round < 5; round++) {
        for (int i = 0; i < 500; i++)
            many[i] = round % 2 ? pc_int(round * 1000 + i) : pc_str(sb[i]);
        OK(pc_sadd(c, FK, many, 500, &added));
    }
    ttl_done(f);

    /* Keys that are not text */
    pc_val v = pc_str("binary key");
    key_of(f, BIN, sizeof BIN);
    OK(pc_set(c, FK, &v, 0, 0));
    ttl_done(f);
    pc_val l3[3] = {pc_int(1), pc_int(2), pc_int(3)};
    key_of(f, "k\0nul", 5);
    OK(pc_rpush(c, FK, l3, 3, &len));
    ttl_done(f);
    static char k250[PC_KEY_MAX];
    memset(k250, 'K', sizeof k250);
    k250[PC_KEY_MAX - 1] = (char)0xff;
    pc_bytes hf = pc_b("f", 1);
    key_of(f, k250, sizeof k250);
    OK(pc_hset(c, FK, &hf, l3, 1, NULL));
    assert_int_equal(f->klen, PC_KEY_MAX);
    ttl_done(f);
    key_of(f, "\xc3\xa9t\xc3\xa9", 5);
    OK(pc_sadd(c, FK, l3, 3, &added));
    ttl_done(f);
    v = pc_int(1);
    key_of(f, "\x01", 1);
    OK(pc_set(c, FK, &v, 0, 0));
    ttl_done(f);
}

/* ------------------------------------------------------------------------ */
/* Checks of a snapshot file                                                 */

/* Every key of the dump is in the file with its type, expiry and number of
 * members (the C API; keys bound as BLOB and as TEXT). */
static void check_file_matches_dump(const char *path, const pt_dump *d)
{
    sqlite3 *db = pt_db_open(path);
    assert_non_null(db);
    sqlite3_stmt *s;
    assert_int_equal(sqlite3_prepare_v2(db,
                                        "SELECT type, expire_at, (SELECT count(*) FROM members"
                                        " WHERE key=?1 OR key=?2) FROM keys"
                                        " WHERE key=?1 OR key=?2",
                                        -1, &s, NULL),
                     SQLITE_OK);
    char kb[PC_KEY_MAX * 4 + 8];
    for (size_t i = 0; i < d->n; i++) {
        const pt_entry *e = &d->e[i];
        sqlite3_reset(s);
        sqlite3_bind_blob(s, 1, e->key, (int)e->klen, SQLITE_STATIC);
        sqlite3_bind_text(s, 2, (const char *)e->key, (int)e->klen, SQLITE_STATIC);
        const char *ks = pt_keystr(e->key, e->klen, kb, sizeof kb);
        CHECK(sqlite3_step(s) == SQLITE_ROW, "key '%s' is not in %s", ks, path);
        CHECK(!strcmp((const char *)sqlite3_column_text(s, 0), pc_type_name(e->type)),
              "key '%s' has type %s in the file, %s in the store", ks, sqlite3_column_text(s, 0),
              pc_type_name(e->type));
        int64_t exp = sqlite3_column_type(s, 1) == SQLITE_NULL ? 0 : sqlite3_column_int64(s, 1);
        CHECK(exp == e->expire_at,
              "key '%s' expires at %" PRId64 " in the file, %" PRId64 " in the store", ks, exp,
              e->expire_at);
        uint64_t members = (uint64_t)sqlite3_column_int64(s, 2);
        CHECK(members == e->count, "key '%s' has %" PRIu64 " members in the file, %" PRIu64, ks,
              members, e->count);
    }
    sqlite3_finalize(s);
    assert_int_equal(pt_db_int(db, "SELECT count(*) FROM keys", -1), (int64_t)d->n);
    sqlite3_close(db);
}

/* What a person sees with the sqlite3 tool. */
static void check_cli_views(const char *f, const pt_dump *d)
{
    if (!pt_sqlite3_cli()) {
        fprintf(stderr, "(sqlite3 command-line tool not installed: its checks skipped)\n");
        return;
    }
    CLI_IS(f, "SELECT value FROM meta WHERE name='format'", "1\n");
    char want[256], sql[256];
    snprintf(want, sizeof want, "%zu\n", d->n);
    CLI_IS(f, "SELECT value FROM meta WHERE name='key_count'", want);
    CLI_IS(f, "SELECT value FROM strings WHERE key='p:s:text'", "hello, snapshot\n");
    CLI_IS(f, "SELECT value, typeof(value) FROM strings WHERE key='p:s:utf8'",
           "h\xc3\xa9llo w\xc3\xb6rld \xe2\x9c\x93 \xf0\x9f\x98\x80|text\n");
    CLI_IS(f, "SELECT typeof(value), length(value) FROM strings WHERE key='p:s:empty'", "text|0\n");
    CLI_IS(f, "SELECT typeof(value), hex(value) FROM strings WHERE key='p:s:bin'",
           "blob|FFFE0080C0C161F5\n");
    CLI_IS(f, "SELECT typeof(value), length(value) FROM strings WHERE key='p:s:big'",
           "blob|1048576\n");
    CLI_IS(f, "SELECT hex(value) FROM strings WHERE key='p:s:built'",
           "6162630000000000000078797A\n");
    CLI_IS(f, "SELECT value FROM numerics WHERE key='p:n:max'", "9223372036854775807\n");
    CLI_IS(f, "SELECT value FROM numerics WHERE key='p:n:min'", "-9223372036854775808\n");
    CLI_IS(f, "SELECT typeof(value), value = 2 FROM numerics WHERE key='p:n:two'", "real|1\n");
    CLI_IS(f, "SELECT value = 3.141592653589793 FROM numerics WHERE key='p:n:pi'", "1\n");
    CLI_IS(f, "SELECT value FROM numerics WHERE key='p:n:incr'", "-7\n");
    CLI_IS(f, "SELECT pos, value, kind FROM lists WHERE key='p:l:small'",
           "0|a|bytes\n1|1|int\n2|2.5|double\n3|1|bool\n4||nil\n5|b|bytes\n");
    CLI_IS(f, "SELECT value FROM lists WHERE key='p:l:long' AND pos IN (0, 99, 100, 3099)",
           "-100\n-1\n0\n2999\n");
    CLI_IS(f, "SELECT count(*), min(pos), max(pos) FROM lists WHERE key='p:l:all'", "29|0|28\n");
    CLI_IS(f, "SELECT value, kind FROM lists WHERE key='p:l:all' AND pos < 3",
           "-5|int\nh1|bytes\n|nil\n");
    CLI_IS(f, "SELECT pos, value, kind FROM queues WHERE key='p:q:small'",
           "0|first|bytes\n1|2|int\n2|third|bytes\n");
    CLI_IS(f, "SELECT count(*), min(pos), max(pos) FROM queues WHERE key='p:q:long'",
           "2496|0|2495\n");
    CLI_IS(f, "SELECT value FROM queues WHERE key='p:q:long' AND pos=0", "e0004\n");
    CLI_IS(f, "SELECT field, value, kind FROM maps WHERE key='p:m:small'",
           "a|x|bytes\nb|2|int\nc|1|bool\n");
    CLI_IS(f, "SELECT value, kind FROM maps WHERE key='p:m:all' AND field='counter'", "5|int\n");
    CLI_IS(f, "SELECT count(*) FROM maps WHERE key='p:m:all' AND length(field) >= 480",
           "4\n"); /* 480, 1000, 5000 and the other 5000 */
    CLI_IS(f, "SELECT member, kind FROM sets WHERE key='p:S:small' ORDER BY kind, member",
           "lmdb|bytes\nsqlite|bytes\n3|int\n");
    CLI_IS(f, "SELECT kind, count(*) FROM sets WHERE key='p:S:typed' GROUP BY kind ORDER BY kind",
           "bool|2\nbytes|7\ndouble|5\nint|4\nnil|1\n");
    CLI_IS(f, "SELECT key FROM sets WHERE member='lmdb' AND kind='bytes' ORDER BY key",
           "p:S:small\nt:S:small\n");
    CLI_IS(f, "SELECT count(*) FROM keys WHERE key LIKE 't:%' AND expire_at IS NULL", "0\n");
    CLI_IS(f, "SELECT count(*) FROM keys WHERE key LIKE 'p:%' AND expire_at IS NOT NULL", "0\n");

    /* Keys per type, as the dump counts them. */
    size_t per[7] = {0};
    for (size_t i = 0; i < d->n; i++)
        per[d->e[i].type]++;
    char *w = want;
    size_t left = sizeof want;
    static const pc_type order[] = {PC_T_LIST,  PC_T_MAP, PC_T_NUMERIC,
                                    PC_T_QUEUE, PC_T_SET, PC_T_STRING};
    for (size_t i = 0; i < 6; i++) {
        int k = snprintf(w, left, "%s|%zu\n", pc_type_name(order[i]), per[order[i]]);
        w += k;
        left -= (size_t)k;
    }
    CLI_IS(f, "SELECT type, count(*) FROM keys GROUP BY type ORDER BY type", want);

    /* Expiry times are the store's absolute ones. */
    const pt_entry *e = pt_dump_find(d, K("t:s:text"));
    assert_non_null(e);
    snprintf(want, sizeof want, "%" PRId64 "\n", e->expire_at);
    CLI_IS(f, "SELECT expire_at FROM strings WHERE key='t:s:text'", want);
    int64_t now = pt_wall_ms();
    snprintf(sql, sizeof sql,
             "SELECT count(*) FROM keys WHERE expire_at < %" PRId64 " OR expire_at > %" PRId64,
             now + HOUR - 60000, now + HOUR + 100 * 1000);
    CLI_IS(f, sql, "0\n");
}

/* ------------------------------------------------------------------------ */
/* Tests                                                                     */

/*
 * pc_snapshot, then SIGKILL (no final snapshot): a new daemon on a fresh
 * store with the same --snapshot-dir restores exactly that file.
 */
static void test_roundtrip_pc_snapshot(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);

    /* Before any snapshot: idle, none done. */
    pc_stats st;
    uint64_t until = pt_now_ms() + 3000;
    while (!pc_stats_get(c, &st) && st.snapshot_state != 1 && pt_now_ms() < until)
        pt_sleep_ms(10);
    OK(pc_stats_get(c, &st));
    assert_int_equal(st.snapshot_state, 1);
    assert_int_equal(st.snapshot_ms, 0);

    fill_all(c, "p:", 0);
    fill_all(c, "t:", HOUR);
    pt_dump before;
    OK(pt_dump_store(c, &before));
    assert_true(before.n > 60);

    int64_t t0 = pt_wall_ms();
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    int64_t t1 = pt_wall_ms();
    assert_int_equal(info.keys, before.n);
    CHECK(!strncmp(info.path, w->snaps, strlen(w->snaps)) &&
              pt_is_snapshot_name(pt_base(info.path)),
          "pc_snapshot wrote %s, not a snapshot name in %s", info.path, w->snaps);
    assert_int_equal(pt_file_size(info.path), (int64_t)info.bytes);
    assert_int_equal(pt_count_snapshots(w->snaps), 1);
    assert_int_equal(pt_count_temps(w->snaps), 0);
    char why[128] = "";
    CHECK(pt_snapshot_complete(info.path, why, sizeof why), "%s: %s", info.path, why);

    /* The statistics tell the same story. */
    CHECK(pt_stats_snapshot_after(c, 0, 3000, &st) == 0, "no snapshot in the statistics");
    assert_int_equal(st.snapshot_state, 1);
    assert_int_equal(st.snapshot_rc, 0);
    assert_int_equal(st.snapshot_keys, info.keys);
    assert_int_equal(st.snapshot_bytes, info.bytes);
    assert_int_equal(st.snapshot_took_ms, info.took_ms);
    CHECK((int64_t)st.snapshot_ms >= t0 && (int64_t)st.snapshot_ms <= t1 + 1,
          "snapshot_ms %" PRIu64 " not within the call [%" PRId64 ", %" PRId64 "]", st.snapshot_ms,
          t0, t1);

    check_file_matches_dump(info.path, &before);
    check_cli_views(info.path, &before);
    pc_close(c);

    pt_daemon_kill9(a);
    assert_int_equal(pt_count_snapshots(w->snaps), 1);

    START(b, "--snapshot-dir", w->snaps);
    char line[700];
    snprintf(line, sizeof line, "restored %zu keys from %s", before.n, info.path);
    CHECK(pt_file_has(b->log, line, 0), "the log does not say '%s'", line);
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pt_dump after;
    OK(pt_dump_store(c, &after));
    DUMPS_EQUAL(&before, &after, 1000);
    pc_close(c);
    STOP_OK(b);
    pt_dump_free(&before);
    pt_dump_free(&after);
    w->passed = true;
}

/*
 * No pc_snapshot: SIGTERM writes the final snapshot; a store of 4 shards is
 * restored into one of 2 (keys are routed again).
 */
static void test_roundtrip_final_snapshot_shards(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps, "--shards", "4");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    fill_all(c, "p:", 0);
    fill_all(c, "t:", 2 * HOUR);
    for (int i = 0; i < 200; i++) {
        char k[32];
        snprintf(k, sizeof k, "{t%d}spread:%d", i % 13, i);
        pc_val v = pc_int(i);
        OK(pc_set(c, K(k), &v, i % 2 ? HOUR : 0, 0));
    }
    pt_dump before;
    OK(pt_dump_store(c, &before));
    pc_close(c);
    assert_int_equal(pt_count_snapshots(w->snaps), 0);
    STOP_OK(a);
    assert_int_equal(pt_count_snapshots(w->snaps), 1);
    assert_int_equal(pt_count_temps(w->snaps), 0);
    char path[512];
    assert_true(pt_newest(w->snaps, path, sizeof path));
    char line[700];
    snprintf(line, sizeof line, "snapshot %s: %zu keys", path, before.n);
    CHECK(pt_file_has(a->log, line, 0), "a's log does not say '%s'", line);
    check_file_matches_dump(path, &before);
    sqlite3 *db = pt_db_open(path);
    assert_non_null(db);
    assert_int_equal(pt_db_int(db, "SELECT value FROM meta WHERE name='shards'", -1), 4);
    sqlite3_close(db);

    START(b, "--snapshot-dir", w->snaps, "--shards", "2");
    snprintf(line, sizeof line, "restored %zu keys from %s", before.n, path);
    CHECK(pt_file_has(b->log, line, 0), "b's log does not say '%s'", line);
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pc_store_info si;
    OK(pc_store_info_get(c, &si));
    assert_int_equal(si.shards, 2);
    pt_dump after;
    OK(pt_dump_store(c, &after));
    DUMPS_EQUAL(&before, &after, 1000);
    pc_close(c);
    STOP_OK(b);
    pt_dump_free(&before);
    pt_dump_free(&after);
    w->passed = true;
}

/*
 * A key that expired before the snapshot is not in it; one that expired
 * after the snapshot but before the restore is in the file and not restored.
 */
static void test_expired_keys(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    /* No TTL worker: an expired key stays in the store until purged. */
    START(a, "--snapshot-dir", w->snaps, "--expire-interval", "0");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    pc_val v = pc_str("v");
    OK(pc_set(c, K("x:gone"), &v, 1, 0));
    pc_val l = pc_int(1);
    uint64_t len;
    OK(pc_rpush(c, K("x:gonelist"), &l, 1, &len));
    OK(pc_expire(c, K("x:gonelist"), 1, NULL));
    pt_sleep_ms(20);
    OK(pc_set(c, K("x:soon"), &v, 1500, 0));
    OK(pc_rpush(c, K("x:soonlist"), &l, 1, &len));
    OK(pc_expire(c, K("x:soonlist"), 1500, NULL));
    OK(pc_set(c, K("x:stay"), &v, 0, 0));
    OK(pc_set(c, K("x:later"), &v, HOUR, 0));
    pc_read *r;
    OK(pc_read_begin(c, &r));
    uint64_t expired;
    OK(pc_expired_count(r, &expired));
    pc_read_end(r);
    assert_int_equal(expired, 2); /* still in the store, read as missing */
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    int64_t soon_at = pt_wall_ms() + 1500;
    assert_int_equal(info.keys, 4);
    sqlite3 *db = pt_db_open(info.path);
    assert_non_null(db);
    assert_int_equal(pt_db_int(db, "SELECT count(*) FROM keys WHERE key LIKE 'x:gone%'", -1), 0);
    assert_int_equal(pt_db_int(db, "SELECT count(*) FROM keys WHERE key LIKE 'x:soon%'", -1), 2);
    assert_int_equal(pt_db_int(db, "SELECT count(*) FROM members WHERE key='x:soonlist'", -1), 1);
    assert_int_equal(pt_db_int(db, "SELECT count(*) FROM members WHERE key='x:gonelist'", -1), 0);
    sqlite3_close(db);
    pc_close(c);
    pt_daemon_kill9(a);

    /* Wait until the two expire, then restore. */
    while (pt_wall_ms() < soon_at + 100)
        pt_sleep_ms(20);
    START(b, "--snapshot-dir", w->snaps);
    char line[700];
    snprintf(line, sizeof line, "restored 2 keys from %s", info.path);
    CHECK(pt_file_has(b->log, line, 0), "the log does not say '%s'", line);
    CHECK(pt_file_has(b->log, "(2 had expired)", 0), "the log does not count 2 expired keys");
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    OK(pc_read_begin(c, &r));
    int ex;
    const char *gone[] = {"x:gone", "x:gonelist", "x:soon", "x:soonlist"};
    for (int i = 0; i < 4; i++) {
        OK(pc_exists(r, K(gone[i]), &ex));
        CHECK(ex == 0, "%s was restored", gone[i]);
    }
    OK(pc_expired_count(r, &expired));
    assert_int_equal(expired, 0); /* not even loaded */
    OK(pc_exists(r, K("x:stay"), &ex));
    assert_int_equal(ex, 1);
    int64_t ttl;
    OK(pc_ttl(r, K("x:later"), &ttl));
    assert_true(ttl > HOUR - 60000 && ttl <= HOUR);
    pc_read_end(r);
    pc_close(c);
    STOP_OK(b);
    w->passed = true;
}

/* --restore FILE loads into an empty store and refuses a store with keys. */
static void test_restore_option(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a"), *b = pt_ws_daemon(w, "b");
    START(a, "--snapshot-dir", w->snaps);
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    fill_all(c, "p:", 0);
    pt_dump before;
    OK(pt_dump_store(c, &before));
    pc_snapshot_info info;
    OK(pc_snapshot(c, &info));
    pc_close(c);
    pt_daemon_kill9(a);
    char file[600];
    snprintf(file, sizeof file, "%s/chosen.db", w->dir);
    assert_int_equal(pt_copy_file(info.path, file), 0);

    /* Into an empty store, without a snapshot directory. */
    START(b, "--restore", file);
    char line[800];
    snprintf(line, sizeof line, "restored %zu keys from %s", before.n, file);
    CHECK(pt_file_has(b->log, line, 0), "the log does not say '%s'", line);
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pt_dump after;
    OK(pt_dump_store(c, &after));
    DUMPS_EQUAL(&before, &after, 1000);
    pc_val v = pc_str("newer");
    OK(pc_set(c, K("p:s:text"), &v, 0, 0));
    pt_dump_free(&after);
    OK(pt_dump_store(c, &after));
    pc_close(c);
    STOP_OK(b);

    /* Into a store with keys: refused, exit 1, a clear message, nothing
     * changed. */
    const char *args[] = {"--restore", file, NULL};
    int st = pt_daemon_run(b, args, 15000);
    EXITED(st, 1);
    snprintf(line, sizeof line, "cannot restore %s: the store is not empty", file);
    CHECK(pt_file_has(b->out, line, 0) || pt_file_has(b->log, line, 0),
          "neither the output nor the log says '%s'", line);
    START(b, "--log-level", "info");
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    pt_dump again;
    OK(pt_dump_store(c, &again));
    DUMPS_EQUAL(&after, &again, 1000);
    pc_close(c);
    STOP_OK(b);

    /* A file that does not exist: exit 1, naming it. */
    pt_daemon *e = pt_ws_daemon(w, "e");
    char missing[600];
    snprintf(missing, sizeof missing, "%s/no-such.db", w->dir);
    const char *args2[] = {"--restore", missing, NULL};
    st = pt_daemon_run(e, args2, 15000);
    EXITED(st, 1);
    CHECK(pt_file_has(e->out, missing, 0) || pt_file_has(e->log, missing, 0),
          "the output does not name %s", missing);
    pt_dump_free(&before);
    pt_dump_free(&after);
    pt_dump_free(&again);
    w->passed = true;
}

/* Without --snapshot-dir: pc_snapshot is PC_ENOTSUP, the state is 0. */
static void test_no_snapshot_dir(void **state)
{
    pt_ws *w = *state;
    pt_daemon *a = pt_ws_daemon(w, "a");
    START(a, "--log-level", "info");
    pc_client *c = pt_daemon_client(a, 0);
    assert_non_null(c);
    pc_val v = pc_int(1);
    OK(pc_set(c, K("k"), &v, 0, 0));
    pc_snapshot_info info;
    RC(PC_ENOTSUP, pc_snapshot(c, &info));
    pc_stats st;
    pt_sleep_ms(1200); /* at least one publication */
    OK(pc_stats_get(c, &st));
    assert_int_equal(st.snapshot_state, 0);
    assert_int_equal(st.snapshot_ms, 0);
    pc_close(c);
    STOP_OK(a);
    w->passed = true;
}

int main(void)
{
    pt_init(55);
    make_blobs();
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_roundtrip_pc_snapshot, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_roundtrip_final_snapshot_shards, pt_ws_setup,
                                        pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_expired_keys, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_restore_option, pt_ws_setup, pt_ws_teardown),
        cmocka_unit_test_setup_teardown(test_no_snapshot_dir, pt_ws_setup, pt_ws_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
