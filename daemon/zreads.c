/*
 * zreads.c - the sorted set reads of ring-only clients (issue 17): each
 * checks the request's arguments, runs shm/zset.c's read with the daemon's
 * reader and writes the answer, as reads.c does for the other types.
 */
#include <string.h>

#include "../shm/alloc.h"
#include "../shm/zset.h"
#include "pycached.h"

/* Most entries, and about the most bytes, one page carries (the client
 * pages on). */
#define ZPAGE_MAX 1024
#define ZPAGE_BYTES (1u << 20)

#define KEY(rq) (rq)->argv[0].s.ptr, (rq)->argv[0].s.len

int pcd_r_zscore(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    size_t n = rq->argc - 1;
    if (n == 0)
        return PC_EINVAL;
    double *sc = pcs_calloc(n, sizeof *sc);
    int *found = pcs_calloc(n, sizeof *found);
    int rc = sc && found ? pcs_rd_zscore(r, KEY(rq), &rq->argv[1], n, sc, found) : PC_ENOMEM;
    for (size_t i = 0; i < n && !rc; i++) {
        pc_val none = {.kind = PC_NONE};
        if (found[i])
            pcs_out_double(out, sc[i]);
        else
            pcs_out_val(out, &none);
    }
    if (!rc)
        *nv = (uint32_t)n;
    pcs_free(sc);
    pcs_free(found);
    return rc;
}

int pcd_r_zrank(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    uint64_t rank;
    double sc;
    if (rq->argc != 3 || rq->argv[2].kind != PC_INT || rq->argv[2].i < 0 || rq->argv[2].i > 1)
        return PC_EINVAL;
    int rc = pcs_rd_zrank(r, KEY(rq), &rq->argv[1], rq->argv[2].i == 1, &rank, &sc);
    if (rc)
        return rc;
    pcs_out_int(out, (int64_t)rank);
    pcs_out_double(out, sc);
    *nv = 2;
    return 0;
}

int pcd_r_zcount(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pcs_zspec s;
    uint64_t n;
    if (rq->argc != 1 + PCS_ZSPEC_ARGS)
        return PC_EINVAL;
    int rc = pcs_zspec_dec(&rq->argv[1], &s);
    if (rc || (rc = pcs_rd_zcount(r, KEY(rq), &s, &n)))
        return rc;
    pcs_out_int(out, (int64_t)n);
    *nv = 1;
    return 0;
}

static pc_zentry zpage[ZPAGE_MAX];

int pcd_r_zrange(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv)
{
    pcs_zspec s;
    pc_cursor cur;
    const unsigned at = 1 + PCS_ZSPEC_ARGS;
    if (rq->argc != at + 2 || pcs_zspec_dec(&rq->argv[1], &s) ||
        pcs_cursor_dec(&rq->argv[at], &cur) || rq->argv[at + 1].kind != PC_INT ||
        rq->argv[at + 1].i < 1)
        return PC_EINVAL;
    size_t max = rq->argv[at + 1].i > ZPAGE_MAX ? ZPAGE_MAX : (size_t)rq->argv[at + 1].i, n = 0;
    pc_cursor from = cur;
    int rc = pcs_rd_zrange(r, KEY(rq), &s, &cur, zpage, max, &n);
    /* Fewer when the members are large: the cursor must stop where the
     * page does. */
    size_t bytes = 0, fit = n;
    for (size_t i = 0; i < n; i++) {
        bytes += 32 + (zpage[i].member.kind == PC_BYTES ? zpage[i].member.s.len : 0);
        if (bytes > ZPAGE_BYTES && i > 0) {
            fit = i;
            break;
        }
    }
    if (!rc && fit < n) {
        cur = from;
        rc = pcs_rd_zrange(r, KEY(rq), &s, &cur, zpage, fit, &n);
    }
    if (rc)
        return rc;
    pcs_cursor_out(out, &cur);
    for (size_t i = 0; i < n; i++) {
        pcs_out_val(out, &zpage[i].member);
        pcs_out_double(out, zpage[i].score);
    }
    *nv = (uint32_t)(1 + 2 * n);
    return 0;
}
