/*
 * helpers.c - the public calls of issue 16: the rate limiter.  Each checks
 * its arguments (bad input is refused at once, even in a batch), encodes
 * one request frame and names the out-parameter its answer fills, as
 * write.c does for the other types.
 */
#include <string.h>

#include "client.h"

/* Begin a write on key: checks, frame, key argument, out-parameter. */
static int op_key(pc_client *c, uint16_t op, const void *key, size_t klen, pcs_enc *e,
                  uint8_t shape, void *out)
{
    int rc = pc__usable(c);
    if (rc || (rc = pcs_key_ok(key, klen)))
        return rc;
    pc__pend *p;
    if ((rc = pc__op_begin(c, op, e, &p)))
        return rc;
    p->shape = shape;
    p->out = out;
    pcs_enc_bytes(e, key, klen);
    return 0;
}

/* ---- rate limiting ---- */

static int throttle(pc_client *c, const void *key, size_t klen, int64_t mode, int64_t a, int64_t b,
                    int64_t cc, int64_t qty, pc_throttle_info *out)
{
    int rc = pc__usable(c);
    if (rc)
        return rc;
    pcs_enc e;
    if ((rc = op_key(c, PCS_OP_THROTTLE, key, klen, &e, PC__R_THROTTLE, out)))
        return rc;
    pcs_enc_int(&e, mode);
    pcs_enc_int(&e, a);
    pcs_enc_int(&e, b);
    pcs_enc_int(&e, cc);
    pcs_enc_int(&e, qty);
    return pc__op_end(c, &e, 0);
}

static int w_throttle(pc_client *c, const void *key, size_t klen, int64_t max_burst, int64_t count,
                      int64_t period_ms, int64_t quantity, pc_throttle_info *out)
{
    int64_t t, limit, tau;
    if (max_burst < 0 || count < 1 || period_ms < 1 || period_ms > PC_TTL_MAX_MS || quantity < 0)
        return pc__usable(c) ? pc__usable(c) : PC_EINVAL;
    /* The executor checks these again; refused here, nothing is queued. */
    t = period_ms * 1000000 / count;
    if (t < 1 || __builtin_add_overflow(max_burst, 1, &limit) ||
        __builtin_mul_overflow(t, limit, &tau) || tau > PC_TTL_MAX_MS * 1000000 ||
        __builtin_mul_overflow(t, quantity, &tau))
        return pc__usable(c) ? pc__usable(c) : PC_EINVAL;
    return throttle(c, key, klen, PCS_THROTTLE_GCRA, max_burst, count, period_ms, quantity, out);
}

static int w_throttle_window(pc_client *c, const void *key, size_t klen, int64_t limit,
                             int64_t window_ms, int64_t quantity, pc_throttle_info *out)
{
    if (limit < 1 || window_ms < 1 || window_ms > PC_TTL_MAX_MS || quantity < 0)
        return pc__usable(c) ? pc__usable(c) : PC_EINVAL;
    return throttle(c, key, klen, PCS_THROTTLE_WINDOW, limit, window_ms, 0, quantity, out);
}

int pc_throttle(pc_client *c, const void *key, size_t klen, int64_t max_burst, int64_t count,
                int64_t period_ms, int64_t quantity, pc_throttle_info *out)
{
    return pc__note(c, w_throttle(c, key, klen, max_burst, count, period_ms, quantity, out));
}

int pc_throttle_window(pc_client *c, const void *key, size_t klen, int64_t limit, int64_t window_ms,
                       int64_t quantity, pc_throttle_info *out)
{
    return pc__note(c, w_throttle_window(c, key, klen, limit, window_ms, quantity, out));
}
