/*
 * reads.c - serve the reads of ring-only clients.  The daemon has its own
 * reader of the store (shm/reader.h), runs the same read operations a
 * trusted client runs in its own process, and copies the answers into the
 * response.  One static handler per read op, behind one table: each checks
 * the request's arguments, calls the pcs_rd_ operation and writes the answer.
 */
#include <string.h>
#include <syslog.h>

#include "../shm/alloc.h"
#include "pycached.h"

/* Most items one paged answer carries (the client pages on). */
#define PAGE_MAX 1024

typedef int (*read_fn)(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv);

static const pc_val *key_of(const pcs_req *rq)
{
    return &rq->argv[0];
}

#define KEY(rq) key_of(rq)->s.ptr, key_of(rq)->s.len

static int arg_int(const pcs_req *rq, unsigned i, int64_t *v)
{
    if (i >= rq->argc || rq->argv[i].kind != PC_INT)
        return PC_EINVAL;
    *v = rq->argv[i].i;
    return 0;
}

/* A type argument: a pc_type value, else PC_T_NONE (refused by the reads). */
static pc_type arg_type(int64_t t)
{
    return t >= PC_T_NONE && t <= PC_T_QUEUE ? (pc_type)t : PC_T_NONE;
}

static int r_val(int rc, const pc_val *v, pcs_buf *out, uint32_t *nv)
{
    if (!rc) {
        pcs_out_val(out, v);
        *nv = 1;
    }
    return rc;
}

static int r_int(int rc, int64_t v, pcs_buf *out, uint32_t *nv)
{
    if (!rc) {
        pcs_out_int(out, v);
        *nv = 1;
    }
    return rc;
}

static int r_get(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_val v;
    return r_val(pcs_rd_get(r, KEY(rq), &v), &v, out, nv);
}

/* Whether the last type read found its key (reads are served on the loop's
 * one thread, as the page buffers below assume). */
static bool type_found;

static int r_type(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_type t;
    int rc = pcs_rd_type(r, KEY(rq), &t);
    type_found = !rc && t != PC_T_NONE;
    return r_int(rc, rc ? 0 : t, out, nv);
}

/* The time left (ms, -1: no TTL), then the expiry time (ms since the epoch,
 * -1: none), from one look at the key. */
static int r_ttl(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t ms = 0, at = -1;
    int rc = pcs_rd_expiretime(r, KEY(rq), &at);
    if (!rc)
        ms = at < 0 ? -1 : at - (int64_t)r->now;
    if (!rc && (rc = r_int(rc, ms, out, nv)) == 0) {
        pcs_out_int(out, at);
        *nv = 2;
    }
    return rc;
}

static int r_version(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    uint64_t ver = 0;
    int rc = pcs_rd_version(r, KEY(rq), &ver);
    return r_int(rc, (int64_t)ver, out, nv);
}

static int r_strlen(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    uint64_t n = 0;
    int rc = pcs_rd_strlen(r, KEY(rq), &n);
    return r_int(rc, (int64_t)n, out, nv);
}

static int r_getrange(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t a, b;
    if (arg_int(rq, 1, &a) || arg_int(rq, 2, &b))
        return PC_EINVAL;
    pc_val v;
    return r_val(pcs_rd_getrange(r, KEY(rq), a, b, &v), &v, out, nv);
}

static int r_count(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t t;
    uint64_t n = 0;
    if (arg_int(rq, 1, &t))
        return PC_EINVAL;
    int rc = pcs_rd_count(r, KEY(rq), arg_type(t), &n);
    return r_int(rc, (int64_t)n, out, nv);
}

static int r_seqget(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t t, index;
    if (arg_int(rq, 1, &t) || arg_int(rq, 2, &index))
        return PC_EINVAL;
    /* LINDEX, or QPEEK: a Queue is read at its head only. */
    if (t != PC_T_LIST && (t != PC_T_QUEUE || index != 0))
        return PC_EINVAL;
    pc_val v;
    return r_val(pcs_rd_index(r, KEY(rq), (pc_type)t, index, &v), &v, out, nv);
}

/* A page of values out of buf (a scratch array of PAGE_MAX values). */
static pc_val page[PAGE_MAX];
static pc_bytes page_b[PAGE_MAX];

/* A paged answer stops adding items past this many bytes (it carries at
 * least one): a page of a thousand large values would otherwise be a
 * thousand times the largest value.  The client pages on. */
#define PAGE_BYTES (1u << 20)

/* How many of the n items (b[i] and/or v[i]) fit in PAGE_BYTES; at least one. */
static size_t page_fit(const pc_bytes *b, const pc_val *v, size_t n)
{
    size_t bytes = 0;
    for (size_t i = 0; i < n; i++) {
        bytes += (b ? 16 + b[i].len : 0) + (v ? 16 + (v[i].kind == PC_BYTES ? v[i].s.len : 0) : 0);
        if (bytes > PAGE_BYTES && i > 0)
            return i;
    }
    return n;
}

static size_t page_max(const pcs_req *rq, unsigned i)
{
    int64_t m;
    if (arg_int(rq, i, &m) || m < 1)
        return 0;
    return m > PAGE_MAX ? PAGE_MAX : (size_t)m;
}

static int r_seqrange(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t t, a, b;
    size_t max = page_max(rq, 4), n = 0;
    if (arg_int(rq, 1, &t) || arg_int(rq, 2, &a) || arg_int(rq, 3, &b) || !max)
        return PC_EINVAL;
    int rc = pcs_rd_range(r, KEY(rq), arg_type(t), a, b, page, max, &n);
    if (!rc)
        n = page_fit(NULL, page, n);
    for (size_t i = 0; !rc && i < n; i++)
        pcs_out_val(out, &page[i]);
    *nv = (uint32_t)n;
    return rc;
}

static int r_hget(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    if (rq->argc != 2 || rq->argv[1].kind != PC_BYTES)
        return PC_EINVAL;
    pc_val v;
    int rc = pcs_rd_hget(r, KEY(rq), rq->argv[1].s.ptr, rq->argv[1].s.len, &v);
    return r_val(rc, &v, out, nv);
}

static int r_sismember(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    if (rq->argc != 2)
        return PC_EINVAL;
    int is = 0;
    int rc = pcs_rd_sismember(r, KEY(rq), &rq->argv[1], &is);
    return r_int(rc, is, out, nv);
}

/* The paged listings share the answer's shape: cursor, then items. */
static int r_page(int rc, const pc_cursor *cur, const pc_bytes *b, const pc_val *v, size_t n,
                  pcs_buf *out, uint32_t *nv)
{
    if (rc)
        return rc;
    pcs_cursor_out(out, cur);
    for (size_t i = 0; i < n; i++) {
        if (b)
            pcs_out_bytes(out, b[i].ptr, b[i].len);
        if (v)
            pcs_out_val(out, &v[i]);
    }
    *nv = (uint32_t)(1 + n * ((b ? 1 : 0) + (v ? 1 : 0)));
    return 0;
}

static int r_hscan(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_cursor cur;
    size_t max = page_max(rq, 2), n = 0;
    if (rq->argc != 3 || pcs_cursor_dec(&rq->argv[1], &cur) || !max)
        return PC_EINVAL;
    pc_cursor from = cur;
    int rc = pcs_rd_hscan(r, KEY(rq), &cur, page_b, page, max, &n);
    if (!rc && (max = page_fit(page_b, page, n)) < n) {
        cur = from; /* again, fewer: the cursor must stop where the page does */
        rc = pcs_rd_hscan(r, KEY(rq), &cur, page_b, page, max, &n);
    }
    return r_page(rc, &cur, page_b, page, n, out, nv);
}

static int r_sscan(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_cursor cur;
    size_t max = page_max(rq, 2), n = 0;
    if (rq->argc != 3 || pcs_cursor_dec(&rq->argv[1], &cur) || !max)
        return PC_EINVAL;
    pc_cursor from = cur;
    int rc = pcs_rd_sscan(r, KEY(rq), &cur, page, max, &n);
    if (!rc && (max = page_fit(NULL, page, n)) < n) {
        cur = from;
        rc = pcs_rd_sscan(r, KEY(rq), &cur, page, max, &n);
    }
    return r_page(rc, &cur, NULL, page, n, out, nv);
}

static int r_salg(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t how;
    pc_cursor cur;
    size_t max = page_max(rq, 3), n = 0;
    if (rq->argc < 4 || arg_int(rq, 1, &how) || pcs_cursor_dec(&rq->argv[2], &cur) || !max)
        return PC_EINVAL;
    size_t nkeys = rq->argc - 3;
    pc_bytes *keys = pcs_calloc(nkeys, sizeof *keys);
    if (!keys)
        return PC_ENOMEM;
    int rc = 0;
    keys[0] = key_of(rq)->s;
    for (size_t i = 1; i < nkeys && !rc; i++) {
        if (rq->argv[3 + i].kind != PC_BYTES)
            rc = PC_EINVAL;
        else
            keys[i] = rq->argv[3 + i].s;
    }
    /* how: PCS_SET_UNION, _INTER or _DIFF (0, 1, 2 on the wire). */
    int h = how >= 0 && how <= 2 ? (int)how : -1;
    pc_cursor from = cur;
    for (int pass = 0; !rc && pass < 2; pass++) {
        rc = pcs_rd_salg(r, h, keys, nkeys, &cur, page, max, &n);
        if (rc || (max = page_fit(NULL, page, n)) == n)
            break;
        cur = from; /* again, fewer */
    }
    pcs_free(keys);
    return r_page(rc, &cur, NULL, page, n, out, nv);
}

/* The glob of a listing: argument 0, without NUL bytes, into glob. */
static int arg_glob(const pcs_req *rq, char *glob, size_t size)
{
    const pc_val *g = key_of(rq);
    if (g->s.len >= size || memchr(g->s.ptr, 0, g->s.len))
        return PC_EINVAL;
    memcpy(glob, g->s.ptr, g->s.len);
    glob[g->s.len] = 0;
    return 0;
}

static int r_scan(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_cursor cur;
    size_t max = page_max(rq, 2), n = 0;
    char glob[4097];
    if (rq->argc != 3 || arg_glob(rq, glob, sizeof glob) || pcs_cursor_dec(&rq->argv[1], &cur) ||
        !max)
        return PC_EINVAL;
    pc_cursor from = cur;
    int rc = pcs_rd_scan(r, glob, &cur, page_b, max, &n);
    if (!rc && (max = page_fit(page_b, NULL, n)) < n) {
        cur = from;
        rc = pcs_rd_scan(r, glob, &cur, page_b, max, &n);
    }
    return r_page(rc, &cur, page_b, NULL, n, out, nv);
}

/* The keys expired but still stored, then the live keys (DBSIZE). */
static int r_expired(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)rq;
    uint64_t n = 0, live = 0;
    int rc = pcs_rd_expired(r, &n);
    if (!rc)
        rc = pcs_rd_dbsize(r, &live);
    if (!rc && (rc = r_int(rc, (int64_t)n, out, nv)) == 0) {
        pcs_out_int(out, (int64_t)live);
        *nv = 2;
    }
    return rc;
}

/* key, value, rank, maxlen, max: at most a page of positions. */
static int r_lpos(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    static uint64_t pos[PAGE_MAX];
    int64_t rank, maxlen;
    size_t max = page_max(rq, 4), n = 0;
    if (rq->argc != 5 || arg_int(rq, 2, &rank) || arg_int(rq, 3, &maxlen) || maxlen < 0 || !max)
        return PC_EINVAL;
    int rc = pcs_rd_lpos(r, KEY(rq), &rq->argv[1], rank, (uint64_t)maxlen, pos, max, &n);
    for (size_t i = 0; !rc && i < n; i++)
        pcs_out_int(out, (int64_t)pos[i]);
    *nv = (uint32_t)n;
    return rc;
}

/* key, count, max: at most a page of members (the client asks again for
 * more repeats; distinct members beyond a page it samples itself). */
static int r_srandmember(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t count;
    size_t max = page_max(rq, 2), n = 0;
    if (rq->argc != 3 || arg_int(rq, 1, &count) || !max)
        return PC_EINVAL;
    int rc = pcs_rd_srandmember(r, KEY(rq), count, page, max, &n);
    if (!rc)
        n = page_fit(NULL, page, n);
    for (size_t i = 0; !rc && i < n; i++)
        pcs_out_val(out, &page[i]);
    *nv = (uint32_t)n;
    return rc;
}

static int r_randomkey(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    (void)rq;
    pc_bytes k;
    int rc = pcs_rd_randomkey(r, &k);
    if (!rc) {
        pcs_out_bytes(out, k.ptr, k.len);
        *nv = 1;
    }
    return rc;
}

static int r_expiry(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_cursor cur;
    size_t max = page_max(rq, 2), n = 0;
    char glob[4097];
    static int64_t when[PAGE_MAX];
    if (rq->argc != 3 || arg_glob(rq, glob, sizeof glob) || pcs_cursor_dec(&rq->argv[1], &cur) ||
        !max)
        return PC_EINVAL;
    pc_cursor from = cur;
    int rc = pcs_rd_expiry_scan(r, glob, &cur, page_b, when, max, &n);
    if (!rc && (max = page_fit(page_b, NULL, n)) < n) {
        cur = from;
        rc = pcs_rd_expiry_scan(r, glob, &cur, page_b, when, max, &n);
    }
    for (size_t i = 0; !rc && i < n; i++)
        page[i] = pc_int(when[i]);
    return r_page(rc, &cur, page_b, page, n, out, nv);
}

/* ---- issue 16 ---- */

/* A Flight key: state, token, lease end, owner, then the value if any (as
 * the executor answers a claim). */
static int r_flight(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_flight f;
    if (rq->argc != 1)
        return PC_EINVAL;
    int rc = pcs_rd_flight(r, KEY(rq), &f);
    if (rc)
        return rc;
    pcs_out_int(out, f.state);
    pcs_out_int(out, (int64_t)f.token);
    pcs_out_int(out, f.lease_until_ms);
    pcs_out_int(out, f.owner_pid);
    *nv = 4;
    if (f.value.kind != PC_NONE) {
        pcs_out_val(out, &f.value);
        *nv = 5;
    }
    return 0;
}

static int r_getbit(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t off;
    int bit = 0;
    if (rq->argc != 2 || arg_int(rq, 1, &off) || off < 0)
        return PC_EINVAL;
    int rc = pcs_rd_getbit(r, KEY(rq), (uint64_t)off, &bit);
    return r_int(rc, bit, out, nv);
}

static int r_bitcount(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t a, b, flags;
    uint64_t n = 0;
    if (rq->argc != 4 || arg_int(rq, 1, &a) || arg_int(rq, 2, &b) || arg_int(rq, 3, &flags) ||
        flags < 0 || flags > UINT32_MAX)
        return PC_EINVAL;
    int rc = pcs_rd_bitcount(r, KEY(rq), a, b, (unsigned)flags, &n);
    return r_int(rc, (int64_t)n, out, nv);
}

static int r_bitpos(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t bit, a, b, flags, pos = -1;
    if (rq->argc != 5 || arg_int(rq, 1, &bit) || arg_int(rq, 2, &a) || arg_int(rq, 3, &b) ||
        arg_int(rq, 4, &flags) || bit < 0 || bit > 1 || flags < 0 || flags > UINT32_MAX)
        return PC_EINVAL;
    int rc = pcs_rd_bitpos(r, KEY(rq), (int)bit, a, b, (unsigned)flags, &pos);
    return r_int(rc, pos, out, nv);
}

static int r_bitlen(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    uint64_t n = 0;
    if (rq->argc != 1)
        return PC_EINVAL;
    int rc = pcs_rd_bitlen(r, KEY(rq), &n);
    return r_int(rc, (int64_t)n, out, nv);
}

static int r_bf_exists(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    size_t n = rq->argc - 1;
    if (n == 0)
        return PC_EINVAL;
    pc_bytes *items = pcs_calloc(n, sizeof *items);
    int *has = pcs_calloc(n, sizeof *has);
    int rc = items && has ? 0 : PC_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        if (rq->argv[1 + i].kind != PC_BYTES)
            rc = PC_EINVAL;
        else
            items[i] = rq->argv[1 + i].s;
    }
    if (!rc)
        rc = pcs_rd_bf_exists(r, KEY(rq), items, n, has);
    for (size_t i = 0; i < n && !rc; i++)
        pcs_out_int(out, has[i]);
    if (!rc)
        *nv = (uint32_t)n;
    pcs_free(items);
    pcs_free(has);
    return rc;
}

static int r_bf_info(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_bf_info bi;
    if (rq->argc != 1)
        return PC_EINVAL;
    int rc = pcs_rd_bf_info(r, KEY(rq), &bi);
    if (rc)
        return rc;
    pcs_out_int(out, (int64_t)bi.capacity);
    pcs_out_int(out, (int64_t)bi.size);
    pcs_out_int(out, bi.filters);
    pcs_out_int(out, bi.expansion);
    pcs_out_int(out, (int64_t)bi.items);
    pcs_out_double(out, bi.error_rate);
    pcs_out_int(out, bi.nonscaling);
    *nv = 7;
    return 0;
}

/* ---- streams (issue 17) ---- */

static void out_xid(pcs_buf *out, pc_xid id)
{
    pcs_out_int(out, (int64_t)id.ms);
    pcs_out_int(out, (int64_t)id.seq);
}

static int arg_xid(const pcs_req *rq, unsigned i, pc_xid *id)
{
    int64_t a, b;
    if (arg_int(rq, i, &a) || arg_int(rq, i + 1, &b))
        return PC_EINVAL;
    *id = pc_xid_make((uint64_t)a, (uint64_t)b);
    return 0;
}

/* A count of items wanted: 0..PAGE_MAX (the client pages on). */
static int arg_max(const pcs_req *rq, unsigned i, size_t *max)
{
    int64_t m;
    if (arg_int(rq, i, &m) || m < 0)
        return PC_EINVAL;
    *max = m > PAGE_MAX ? PAGE_MAX : (size_t)m;
    return 0;
}

static int arg_xname(const pcs_req *rq, unsigned i)
{
    const pc_val *v = &rq->argv[i];
    return i < rq->argc && v->kind == PC_BYTES && v->s.len >= 1 && v->s.len <= PC_XNAME_MAX
               ? 0
               : PC_EINVAL;
}

static int r_xinfo(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_xinfo xi;
    if (rq->argc != 1)
        return PC_EINVAL;
    int rc = pcs_rd_xinfo(r, KEY(rq), &xi);
    if (rc)
        return rc;
    pcs_out_int(out, (int64_t)xi.length);
    out_xid(out, xi.last_id);
    out_xid(out, xi.first_id);
    out_xid(out, xi.max_deleted_id);
    pcs_out_int(out, (int64_t)xi.entries_added);
    pcs_out_int(out, (int64_t)xi.groups);
    *nv = 9;
    return 0;
}

static int r_xrange(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pc_xid lo, hi;
    int64_t rev;
    size_t max, n;
    if (rq->argc != 7 || arg_xid(rq, 1, &lo) || arg_xid(rq, 3, &hi) || arg_int(rq, 5, &rev) ||
        (rev != 0 && rev != 1) || arg_max(rq, 6, &max))
        return PC_EINVAL;
    pc_xentry *e = pcs_calloc(max ? max : 1, sizeof *e);
    if (!e)
        return PC_ENOMEM;
    int rc = pcs_rd_xrange(r, KEY(rq), lo, hi, rev, e, max, &n);
    if (!rc) {
        pcs_out_int(out, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            out_xid(out, e[i].id);
            pcs_out_bytes(out, e[i].raw, e[i].rawlen);
        }
        *nv = (uint32_t)(1 + 3 * n);
    }
    pcs_free(e);
    return rc;
}

static int r_xpending(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    int64_t summary;
    size_t max, n;
    const pc_val *g = &rq->argv[1];
    if (rq->argc < 3 || arg_xname(rq, 1) || arg_int(rq, 2, &summary) || (summary & ~1))
        return PC_EINVAL;
    if (summary) {
        pc_xpending_info pi;
        if (rq->argc != 4 || arg_max(rq, 3, &max))
            return PC_EINVAL;
        pc_bytes *names = pcs_calloc(max ? max : 1, sizeof *names);
        uint64_t *counts = pcs_calloc(max ? max : 1, sizeof *counts);
        int rc = names && counts ? 0 : PC_ENOMEM;
        if (!rc)
            rc = pcs_rd_xpending_summary(r, KEY(rq), g->s.ptr, g->s.len, &pi, names, counts, max,
                                         &n);
        if (!rc) {
            pcs_out_int(out, (int64_t)pi.count);
            out_xid(out, pi.min);
            out_xid(out, pi.max);
            pcs_out_int(out, (int64_t)pi.consumers);
            pcs_out_int(out, (int64_t)n);
            for (size_t i = 0; i < n; i++) {
                pcs_out_bytes(out, names[i].ptr, names[i].len);
                pcs_out_int(out, (int64_t)counts[i]);
            }
            *nv = (uint32_t)(7 + 2 * n);
        }
        pcs_free(names);
        pcs_free(counts);
        return rc;
    }
    pc_xid lo, hi;
    int64_t idle;
    /* group, 0, lo ms, lo seq, hi ms, hi seq, min idle, consumer (NIL: any), max */
    if (rq->argc != 10 || arg_xid(rq, 3, &lo) || arg_xid(rq, 5, &hi) || arg_int(rq, 7, &idle) ||
        idle < 0 || (rq->argv[8].kind != PC_NIL && arg_xname(rq, 8)) || arg_max(rq, 9, &max))
        return PC_EINVAL;
    const pc_val *cn = rq->argv[8].kind == PC_NIL ? NULL : &rq->argv[8];
    pc_xpending_entry *pe = pcs_calloc(max ? max : 1, sizeof *pe);
    if (!pe)
        return PC_ENOMEM;
    int rc = pcs_rd_xpending(r, KEY(rq), g->s.ptr, g->s.len, lo, hi, idle, cn ? cn->s.ptr : NULL,
                             cn ? cn->s.len : 0, pe, max, &n);
    if (!rc) {
        pcs_out_int(out, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            out_xid(out, pe[i].id);
            pcs_out_bytes(out, pe[i].consumer.ptr, pe[i].consumer.len);
            pcs_out_int(out, pe[i].idle_ms);
            pcs_out_int(out, (int64_t)pe[i].deliveries);
        }
        *nv = (uint32_t)(1 + 5 * n);
    }
    pcs_free(pe);
    return rc;
}

static int r_xgroups(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    size_t max, n;
    if (rq->argc != 2 || arg_max(rq, 1, &max))
        return PC_EINVAL;
    pc_xgroup_info *gi = pcs_calloc(max ? max : 1, sizeof *gi);
    if (!gi)
        return PC_ENOMEM;
    int rc = pcs_rd_xgroups(r, KEY(rq), gi, max, &n);
    if (!rc) {
        pcs_out_int(out, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            pcs_out_bytes(out, gi[i].name.ptr, gi[i].name.len);
            pcs_out_int(out, (int64_t)gi[i].consumers);
            pcs_out_int(out, (int64_t)gi[i].pending);
            out_xid(out, gi[i].last_delivered);
            pcs_out_int(out, gi[i].entries_read);
            pcs_out_int(out, gi[i].lag);
        }
        *nv = (uint32_t)(1 + 7 * n);
    }
    pcs_free(gi);
    return rc;
}

static int r_xconsumers(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    size_t max, n;
    const pc_val *g = &rq->argv[1];
    if (rq->argc != 3 || arg_xname(rq, 1) || arg_max(rq, 2, &max))
        return PC_EINVAL;
    pc_xconsumer_info *ci = pcs_calloc(max ? max : 1, sizeof *ci);
    if (!ci)
        return PC_ENOMEM;
    int rc = pcs_rd_xconsumers(r, KEY(rq), g->s.ptr, g->s.len, ci, max, &n);
    if (!rc) {
        pcs_out_int(out, (int64_t)n);
        for (size_t i = 0; i < n; i++) {
            pcs_out_bytes(out, ci[i].name.ptr, ci[i].name.len);
            pcs_out_int(out, (int64_t)ci[i].pending);
            pcs_out_int(out, ci[i].idle_ms);
            pcs_out_int(out, ci[i].inactive_ms);
        }
        *nv = (uint32_t)(1 + 4 * n);
    }
    pcs_free(ci);
    return rc;
}

static const read_fn reads[PCS_OP__COUNT] = {
    [PCS_OP_R_GET] = r_get,
    [PCS_OP_R_TYPE] = r_type,
    [PCS_OP_R_TTL] = r_ttl,
    [PCS_OP_R_VERSION] = r_version,
    [PCS_OP_R_STRLEN] = r_strlen,
    [PCS_OP_R_GETRANGE] = r_getrange,
    [PCS_OP_R_COUNT] = r_count,
    [PCS_OP_R_SEQGET] = r_seqget,
    [PCS_OP_R_SEQRANGE] = r_seqrange,
    [PCS_OP_R_HGET] = r_hget,
    [PCS_OP_R_HSCAN] = r_hscan,
    [PCS_OP_R_SISMEMBER] = r_sismember,
    [PCS_OP_R_SSCAN] = r_sscan,
    [PCS_OP_R_SALG] = r_salg,
    [PCS_OP_R_SCAN] = r_scan,
    [PCS_OP_R_EXPIRED] = r_expired,
    [PCS_OP_R_EXPIRY_SCAN] = r_expiry,
    [PCS_OP_R_LPOS] = r_lpos,
    [PCS_OP_R_SRANDMEMBER] = r_srandmember,
    [PCS_OP_R_RANDOMKEY] = r_randomkey,
    /* issue 16 */
    [PCS_OP_R_FLIGHT] = r_flight,
    [PCS_OP_R_GETBIT] = r_getbit,
    [PCS_OP_R_BITCOUNT] = r_bitcount,
    [PCS_OP_R_BITPOS] = r_bitpos,
    [PCS_OP_R_BITLEN] = r_bitlen,
    [PCS_OP_R_BF_EXISTS] = r_bf_exists,
    [PCS_OP_R_BF_INFO] = r_bf_info,
    /* issue 17: streams */
    [PCS_OP_R_XINFO] = r_xinfo,
    [PCS_OP_R_XRANGE] = r_xrange,
    [PCS_OP_R_XPENDING] = r_xpending,
    [PCS_OP_R_XGROUPS] = r_xgroups,
    [PCS_OP_R_XCONSUMERS] = r_xconsumers,
    /* issue 17: sorted sets (zreads.c) */
    [PCS_OP_R_ZSCORE] = pcd_r_zscore,
    [PCS_OP_R_ZRANK] = pcd_r_zrank,
    [PCS_OP_R_ZCOUNT] = pcd_r_zcount,
    [PCS_OP_R_ZRANGE] = pcd_r_zrange,
};

/* Questions for the daemon itself. */
static int admin(pcd *d, uint32_t uid, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    if (rq->op == PCS_OP_A_TEST_ALLOC) {
        /* Fault injection for the test suite: refused unless the daemon was
         * started with PYCACHED_TEST_HOOKS=1 in its environment. */
        if (!d->test_hooks)
            return PC_ENOTSUP;
        if (rq->argc != 2 || rq->argv[1].kind != PC_INT || rq->argv[1].i < 0)
            return PC_EINVAL;
        pcs_alloc_fail_at((uint64_t)rq->argv[1].i);
        return 0;
    }
    if (rq->op == PCS_OP_A_EXPIRE_INTERVAL) {
        if (rq->argc != 2 || rq->argv[1].kind != PC_INT || rq->argv[1].i < 0 ||
            rq->argv[1].i > 3600000)
            return PC_EINVAL;
        d->cfg.expire_interval_ms = (unsigned)rq->argv[1].i;
        d->next_expire = pcs_now_ms() + d->cfg.expire_interval_ms;
        pcd_log_peer(uid, LOG_NOTICE, "TTL worker interval set to %u ms%s by uid %u",
                     d->cfg.expire_interval_ms, d->cfg.expire_interval_ms ? "" : " (stopped)",
                     (unsigned)uid);
        return 0;
    }
    /* PCS_OP_A_CLIENTS: the count, then nine numbers per client (flags: 1
     * ring-only, 2 blocked, bits 2-3 the role). */
    uint64_t live = 0;
    for (size_t i = 0; i < d->ncl; i++)
        live += d->cl[i]->state == PCD_C_ACTIVE;
    pcs_out_int(out, (int64_t)live);
    *nv = 1;
    for (size_t i = 0; i < d->ncl; i++) {
        const pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE)
            continue;
        int64_t f[9] = {(int64_t)c->id,
                        c->pid,
                        c->uid,
                        (c->ring_only ? 1 : 0) | (c->blocked ? 2 : 0) | (int64_t)c->role << 2,
                        (int64_t)c->since_ms,
                        (int64_t)c->requests,
                        (int64_t)atomic_load_explicit(&c->hdr->reads_hit, memory_order_relaxed),
                        (int64_t)atomic_load_explicit(&c->hdr->reads_miss, memory_order_relaxed),
                        c->hdr->ring_size};
        for (int j = 0; j < 9; j++)
            pcs_out_int(out, f[j]);
        *nv += 9;
    }
    return 0;
}

/* Reads that look one key up count as hits or misses (and a hit records an
 * access, as a trusted client's lookups do: TOUCH is a type lookup). */
static bool keyed(unsigned op)
{
    return op == PCS_OP_R_GET || op == PCS_OP_R_TTL || op == PCS_OP_R_VERSION ||
           op == PCS_OP_R_STRLEN || op == PCS_OP_R_GETRANGE || op == PCS_OP_R_COUNT ||
           op == PCS_OP_R_SEQGET || op == PCS_OP_R_HGET || op == PCS_OP_R_SISMEMBER ||
           op == PCS_OP_R_LPOS || op == PCS_OP_R_SRANDMEMBER || pcs_op_is_read16(op) ||
           pcs_op_is_read17z(op);
}

void pcd_serve_read(pcd *d, uint32_t uid, const pcs_req *rq, pcs_buf *out)
{
    size_t s = pcs_resp_begin(out, rq->op, rq->id);
    uint32_t nv = 0;
    int rc;
    bool is_admin = rq->op == PCS_OP_A_EXPIRE_INTERVAL || rq->op == PCS_OP_A_CLIENTS ||
                    rq->op == PCS_OP_A_TEST_ALLOC;
    if (rq->argc < 1 || rq->argv[0].kind != PC_BYTES || (!is_admin && !reads[rq->op]))
        rc = PC_EINVAL;
    else if (is_admin)
        rc = admin(d, uid, rq, out, &nv);
    else {
        pcs_reader_begin(&d->reader, pcs_now_ms());
        rc = reads[rq->op](&d->reader, rq, out, &nv);
        pcs_reader_end(&d->reader);
        /* A type read answers 0 for a missing key too. */
        bool looked = rq->op == PCS_OP_R_TYPE ? !rc : keyed(rq->op) && (!rc || rc == PC_ENOTFOUND);
        if (looked) {
            if (rq->op == PCS_OP_R_TYPE ? type_found : rc == 0) {
                d->hits_gone++;
                pcd_touch(d, rq->argv[0].s.ptr, rq->argv[0].s.len, pcs_now_ms());
            } else {
                d->misses_gone++;
            }
        }
    }
    if (rc || out->err)
        pcs_resp_fail(out, s, rc ? rc : out->err);
    else
        pcs_resp_end(out, s, 0, nv);
}
