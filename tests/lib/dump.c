/*
 * dump.c - a whole store dumped through the public API (every key, its
 * type, its value or elements with their kinds and order, its TTL and
 * absolute expiry) and two dumps compared, naming the first difference
 * (pctest.h).
 */
#include "pctest.h"

/* Dumping a store through the public API                                    */

void pt_dump_free(pt_dump *d)
{
    for (size_t i = 0; i < d->n; i++)
        free(d->e[i].blob);
    free(d->e);
    memset(d, 0, sizeof *d);
}

static int cmp_bytes(const void *a, size_t an, const void *b, size_t bn)
{
    int c = memcmp(a, b, an < bn ? an : bn);
    return c ? c : an < bn ? -1 : an > bn;
}

static int cmp_entry(const void *a, const void *b)
{
    const pt_entry *x = a, *y = b;
    return cmp_bytes(x->key, x->klen, y->key, y->klen);
}

typedef struct item {
    uint8_t *p;
    size_t n;
} item;

static int cmp_item(const void *a, const void *b)
{
    const item *x = a, *y = b;
    return cmp_bytes(x->p, x->n, y->p, y->n);
}

/* Append unordered items sorted (sets and maps compare as sets). */
static void put_sorted(pt_buf *out, item *it, size_t n)
{
    if (n)
        qsort(it, n, sizeof *it, cmp_item);
    for (size_t i = 0; i < n; i++) {
        pt_buf_bytes(out, it[i].p, it[i].n);
        free(it[i].p);
    }
}

#define PAGE 128

/* One key's value or elements into e (a read open on r).  0 or a PC_E* code. */
static int dump_value(pc_read *r, pt_entry *e)
{
    pt_buf b = {0};
    pc_val v[PAGE];
    pc_bytes f[PAGE] = {{0}}; /* (pc_hscan fills f[0..n)) */
    size_t n;
    int rc = 0;
    e->count = 0;
    switch (e->type) {
    case PC_T_STRING:
    case PC_T_NUMERIC:
        if (!(rc = pc_get(r, e->key, e->klen, &v[0])))
            pt_buf_val(&b, &v[0]);
        break;
    case PC_T_LIST:
    case PC_T_QUEUE: {
        uint64_t len;
        rc = e->type == PC_T_LIST ? pc_llen(r, e->key, e->klen, &len)
                                  : pc_qlen(r, e->key, e->klen, &len);
        for (uint64_t at = 0; !rc && at < len; at += n) {
            rc = e->type == PC_T_LIST ? pc_lrange(r, e->key, e->klen, (int64_t)at,
                                                  (int64_t)at + PAGE - 1, v, PAGE, &n)
                                      : pc_qrange(r, e->key, e->klen, (int64_t)at,
                                                  (int64_t)at + PAGE - 1, v, PAGE, &n);
            if (!rc && n == 0)
                rc = PC_ECORRUPT; /* shorter than its length */
            for (size_t i = 0; !rc && i < n; i++)
                pt_buf_val(&b, &v[i]);
        }
        e->count = len;
        break;
    }
    case PC_T_MAP:
    case PC_T_SET: {
        pc_cursor cur = PC_CURSOR_INIT;
        item *it = NULL;
        size_t nit = 0, cap = 0;
        while (!rc && !cur.done) {
            rc = e->type == PC_T_MAP ? pc_hscan(r, e->key, e->klen, &cur, f, v, PAGE, &n)
                                     : pc_sscan(r, e->key, e->klen, &cur, v, PAGE, &n);
            for (size_t i = 0; !rc && i < n; i++) {
                pt_buf one = {0};
                if (e->type == PC_T_MAP) {
                    pc_val fv = pc_mem(f[i].ptr, f[i].len);
                    pt_buf_val(&one, &fv);
                }
                pt_buf_val(&one, &v[i]);
                if (nit == cap) {
                    cap = cap ? 2 * cap : 64;
                    it = realloc(it, cap * sizeof *it);
                    if (!it)
                        abort();
                }
                it[nit].p = one.p;
                it[nit++].n = one.len;
            }
        }
        put_sorted(&b, it, nit);
        free(it);
        e->count = nit;
        break;
    }
    case PC_T_BITS: { /* the length, then the positions of the set bits */
        uint64_t len;
        if ((rc = pc_bitlen(r, e->key, e->klen, &len)))
            break;
        pt_buf_u64(&b, len);
        for (int64_t at = 0; !rc && (uint64_t)at < 8 * len;) {
            int64_t pos;
            if ((rc = pc_bitpos(r, e->key, e->klen, 1, at, -1, PC_BITS_BIT, &pos)) || pos < 0)
                break;
            pt_buf_u64(&b, (uint64_t)pos);
            e->count++;
            at = pos + 1;
        }
        break;
    }
    case PC_T_BLOOM: { /* its figures (its bits: compare what it answers) */
        pc_bf_info bi;
        if (!(rc = pc_bf_info_get(r, e->key, e->klen, &bi))) {
            uint64_t fig[7] = {bi.capacity, bi.size,       bi.filters, bi.expansion,
                               bi.items,    bi.nonscaling, 0};
            memcpy(&fig[6], &bi.error_rate, 8);
            for (int i = 0; i < 7; i++)
                pt_buf_u64(&b, fig[i]);
            e->count = bi.items;
        }
        break;
    }
    case PC_T_STREAM: { /* figures, entries, groups, consumers, pending (not times) */
        pc_xinfo xi;
        if ((rc = pc_xinfo_stream(r, e->key, e->klen, &xi)))
            break;
        uint64_t fig[9] = {
            xi.length,       xi.last_id.ms,        xi.last_id.seq,        xi.first_id.ms,
            xi.first_id.seq, xi.max_deleted_id.ms, xi.max_deleted_id.seq, xi.entries_added,
            xi.groups};
        for (int i = 0; i < 9; i++)
            pt_buf_u64(&b, fig[i]);
        pc_xentry xe[PAGE];
        pc_xid at = pc_xid_make(0, 0);
        unsigned fl = 0;
        do {
            if ((rc = pc_xrange(r, e->key, e->klen, at, pc_xid_max(), fl, xe, PAGE, &n)))
                break;
            for (size_t i = 0; i < n; i++) {
                pt_buf_u64(&b, xe[i].id.ms);
                pt_buf_u64(&b, xe[i].id.seq);
                pt_buf_bytes(&b, xe[i].raw, xe[i].rawlen);
                at = xe[i].id;
            }
            e->count += n;
            fl = PC_XRANGE_START_EXCL;
        } while (n == PAGE);
        pc_xgroup_info gi[16];
        size_t ng;
        if (rc || (rc = pc_xinfo_groups(r, e->key, e->klen, gi, 16, &ng)))
            break;
        for (size_t g = 0; g < ng && !rc; g++) {
            pt_buf_bytes(&b, gi[g].name.ptr, gi[g].name.len);
            uint64_t gf[5] = {gi[g].consumers, gi[g].pending, gi[g].last_delivered.ms,
                              gi[g].last_delivered.seq, (uint64_t)gi[g].entries_read};
            for (int i = 0; i < 5; i++)
                pt_buf_u64(&b, gf[i]);
            pc_xconsumer_info ci[16];
            size_t nc;
            if ((rc = pc_xinfo_consumers(r, e->key, e->klen, gi[g].name.ptr, gi[g].name.len, ci, 16,
                                         &nc)))
                break;
            for (size_t i = 0; i < nc; i++) {
                pt_buf_bytes(&b, ci[i].name.ptr, ci[i].name.len);
                pt_buf_u64(&b, ci[i].pending);
            }
            pc_xpending_entry pe[PAGE];
            if ((rc = pc_xpending(r, e->key, e->klen, gi[g].name.ptr, gi[g].name.len,
                                  pc_xid_make(0, 0), pc_xid_max(), 0, 0, NULL, 0, pe, PAGE, &n)))
                break;
            for (size_t i = 0; i < n; i++) {
                pt_buf_u64(&b, pe[i].id.ms);
                pt_buf_u64(&b, pe[i].id.seq);
                pt_buf_bytes(&b, pe[i].consumer.ptr, pe[i].consumer.len);
                pt_buf_u64(&b, pe[i].deliveries);
            }
        }
        break;
    }
    case PC_T_ZSET: { /* members and scores, in order */
        pc_zrange_spec all;
        pc_zrange_spec_init(&all);
        pc_cursor cur = PC_CURSOR_INIT;
        pc_zentry ze[64];
        size_t got;
        while (!rc && !cur.done && !(rc = pc_zrange(r, e->key, e->klen, &all, &cur, ze, 64, &got)))
            for (size_t i = 0; i < got; i++) {
                pt_buf_val(&b, &ze[i].member);
                pc_val sv = pc_dbl(ze[i].score);
                pt_buf_val(&b, &sv);
                e->count++;
            }
        break;
    }
    case PC_T_FLIGHT: { /* the value and its state; not the lease */
        pc_flight fl;
        if (!(rc = pc_flight_get(r, e->key, e->klen, &fl))) {
            pt_buf_u64(&b, (uint64_t)fl.state);
            if (fl.value.kind != PC_NONE)
                pt_buf_val(&b, &fl.value);
        }
        break;
    }
    default:
        rc = PC_ECORRUPT;
    }
    e->blob = b.p;
    e->blen = b.len;
    return rc;
}

/* Every live key of the store, with its type, value or elements, TTL and
 * absolute expiry time, sorted by key.  0 or a PC_E* code. */
int pt_dump_store(pc_client *c, pt_dump *d)
{
    memset(d, 0, sizeof *d);
    pc_read *r;
    d->taken_ms = pt_now_ms();
    int rc = pc_read_begin(c, &r);
    if (rc)
        return rc;
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[PAGE];
    size_t n;
    while (!rc && !cur.done && !(rc = pc_scan(r, NULL, &cur, keys, PAGE, &n))) {
        for (size_t i = 0; !rc && i < n; i++) {
            if (d->n == d->cap) {
                d->cap = d->cap ? 2 * d->cap : 256;
                d->e = realloc(d->e, d->cap * sizeof *d->e);
                if (!d->e)
                    abort();
            }
            pt_entry *e = &d->e[d->n++];
            memset(e, 0, sizeof *e);
            if (keys[i].len == 0 || keys[i].len > PC_KEY_MAX) {
                rc = PC_EKEY;
                break;
            }
            memcpy(e->key, keys[i].ptr, keys[i].len);
            e->klen = keys[i].len;
            if (!(rc = pc_type_of(r, e->key, e->klen, &e->type)) &&
                !(rc = pc_ttl(r, e->key, e->klen, &e->ttl)))
                rc = dump_value(r, e);
        }
    }
    if (!rc && d->n)
        qsort(d->e, d->n, sizeof *d->e, cmp_entry);
    /* Absolute expiry times. */
    pc_cursor ec = PC_CURSOR_INIT;
    int64_t at[PAGE];
    while (!rc && !ec.done && !(rc = pc_expiry_scan(r, NULL, &ec, keys, at, PAGE, &n)))
        for (size_t i = 0; i < n; i++) {
            pt_entry probe = {.klen = 0};
            if (keys[i].len > PC_KEY_MAX)
                continue;
            memcpy(probe.key, keys[i].ptr, keys[i].len);
            probe.klen = keys[i].len;
            pt_entry *e = d->n ? bsearch(&probe, d->e, d->n, sizeof *d->e, cmp_entry) : NULL;
            if (e)
                e->expire_at = at[i];
        }
    pc_read_end(r);
    return rc;
}

/* A key, printable. */
const char *pt_keystr(const uint8_t *k, size_t n, char *buf, size_t bn)
{
    size_t o = 0;
    for (size_t i = 0; i < n && o + 5 < bn; i++)
        o +=
            (size_t)snprintf(buf + o, bn - o, k[i] >= 0x20 && k[i] < 0x7f ? "%c" : "\\x%02x", k[i]);
    buf[o < bn ? o : bn - 1] = 0;
    return buf;
}

/*
 * Compare two dumps: the same keys, types, values and elements (kinds,
 * order; sets and maps as sets), the same absolute expiry times, and TTLs
 * that agree within ttl_tol_ms once the time between the two dumps is
 * taken off (a key with a TTL has one in both).
 * 0, or -1 after printing the first difference.
 */
int pt_dump_compare(const pt_dump *want, const pt_dump *got, int64_t ttl_tol_ms)
{
    char kb[PC_KEY_MAX * 4 + 8];
    size_t i = 0, j = 0;
    while (i < want->n || j < got->n) {
        int c = i == want->n ? 1
                : j == got->n
                    ? -1
                    : cmp_bytes(want->e[i].key, want->e[i].klen, got->e[j].key, got->e[j].klen);
        if (c < 0) {
            fprintf(stderr, "dump: key '%s' is missing (%zu keys expected, %zu found)\n",
                    pt_keystr(want->e[i].key, want->e[i].klen, kb, sizeof kb), want->n, got->n);
            return -1;
        }
        if (c > 0) {
            fprintf(stderr, "dump: key '%s' should not be there (%zu keys expected, %zu found)\n",
                    pt_keystr(got->e[j].key, got->e[j].klen, kb, sizeof kb), want->n, got->n);
            return -1;
        }
        const pt_entry *a = &want->e[i++], *b = &got->e[j++];
        const char *ks = pt_keystr(a->key, a->klen, kb, sizeof kb);
        if (a->type != b->type) {
            fprintf(stderr, "dump: key '%s' is a %s, expected a %s\n", ks, pc_type_name(b->type),
                    pc_type_name(a->type));
            return -1;
        }
        if (a->count != b->count || a->blen != b->blen ||
            (a->blen && memcmp(a->blob, b->blob, a->blen) != 0)) {
            size_t at = 0;
            while (at < a->blen && at < b->blen && a->blob[at] == b->blob[at])
                at++;
            fprintf(stderr,
                    "dump: the %s '%s' differs: %" PRIu64 " elements / %zu bytes of dump, "
                    "expected %" PRIu64 " / %zu; first difference at dump byte %zu\n",
                    pc_type_name(a->type), ks, b->count, b->blen, a->count, a->blen, at);
            return -1;
        }
        if (a->expire_at != b->expire_at) {
            fprintf(stderr, "dump: key '%s' expires at %" PRId64 ", expected %" PRId64 "\n", ks,
                    b->expire_at, a->expire_at);
            return -1;
        }
        int64_t elapsed = (int64_t)got->taken_ms - (int64_t)want->taken_ms;
        if ((a->ttl < 0) != (b->ttl < 0) ||
            (a->ttl >= 0 && llabs((long long)(a->ttl - elapsed - b->ttl)) > ttl_tol_ms)) {
            fprintf(stderr,
                    "dump: key '%s' has TTL %" PRId64 " ms, expected %" PRId64 " ms %" PRId64
                    " ms later (tolerance %" PRId64 ")\n",
                    ks, b->ttl, a->ttl, elapsed, ttl_tol_ms);
            return -1;
        }
    }
    return 0;
}

/* The entry of key in a dump, or NULL. */
const pt_entry *pt_dump_find(const pt_dump *d, const void *key, size_t klen)
{
    pt_entry probe = {.klen = 0};
    if (klen > PC_KEY_MAX || !d->n)
        return NULL;
    memcpy(probe.key, key, klen);
    probe.klen = klen;
    return bsearch(&probe, d->e, d->n, sizeof *d->e, cmp_entry);
}

pc_client *pt_restore_in(pt_ws *w, pt_daemon *a, pt_daemon *b, pc_client *c, const pt_dump *before,
                         pt_dump *after)
{
    pc_close(c);
    pt_daemon_kill9(a);
    START(b, "--snapshot-dir", w->snaps);
    c = pt_daemon_client(b, 0);
    assert_non_null(c);
    OK(pt_dump_store(c, after));
    DUMPS_EQUAL(before, after, 1000);
    return c;
}

void pt_restore_done(pt_ws *w, pt_daemon *b, pc_client *c, pt_dump *before, pt_dump *after)
{
    pc_close(c);
    STOP_OK(b);
    pt_dump_free(before);
    pt_dump_free(after);
    w->passed = true;
}
