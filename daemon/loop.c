/*
 * loop.c - the daemon's loop.  Each pass drains every channel with work,
 * runs what it found in one write transaction per shard (a group commit),
 * commits, and only then answers each client, in its own order.  When a pass
 * finds nothing it polls a short while, then sleeps in epoll until a client
 * rings its socket, a signal comes, or a timer is due.
 */
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <time.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/signalfd.h>
#include <syslog.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "pycached.h"

/* Per client and pass: at most this many requests, this many bytes. */
#define DRAIN_MAX_REQS 256
#define DRAIN_MAX_BYTES (8u << 20)
/* Buffers up to this size are a client's own: not charged to --max-buffers
 * (so small requests never meet the budget), and kept between messages. */
#define HELD_SMALL (64u << 10)
/* --max-buffers' default: 256 MiB, and at least four of the largest request. */
#define BUDGET_DEFAULT (UINT64_C(256) << 20)
/* The round's buffers (requests, answers) keep at most this much between rounds. */
#define ROUND_KEEP (16u << 20)

static char ev_listen, ev_signal; /* epoll tags */

/* ---- quotas ---- */

uint64_t pcd_budget(const pcd *d)
{
    uint64_t largest = d->st->max_value + PCS_FRAME_SLACK;
    if (d->cfg.max_buffers)
        return d->cfg.max_buffers > largest + HELD_SMALL ? d->cfg.max_buffers
                                                         : largest + HELD_SMALL;
    return BUDGET_DEFAULT > 4 * largest ? BUDGET_DEFAULT : 4 * largest;
}

void pcd_note_held(pcd *d, pcd_client *c)
{
    /* A request in the round is the round's, as the arena's are. */
    size_t now = (c->msg_in_round ? 0 : c->msg.cap) + c->out.cap + c->parked.cap;
    d->held = d->held - c->held + now;
    c->held = now;
    if (d->held > d->held_peak)
        d->held_peak = d->held;
}

/* May c's buffers grow by more bytes (beyond what it has)?  Growth that
 * leaves a buffer under HELD_SMALL is always allowed. */
static bool may_hold(const pcd *d, size_t after, size_t more)
{
    return after <= HELD_SMALL || d->held + more <= pcd_budget(d);
}

/* Give a buffer grown past HELD_SMALL back once it is empty. */
static void shrink_idle(pcs_buf *b)
{
    if (b->len == 0 && b->cap > HELD_SMALL)
        pcs_buf_free(b);
}

int pcd_op_role(unsigned op)
{
    switch (op) {
    case PCS_OP_A_EXPIRE_INTERVAL:
    case PCS_OP_A_CLIENTS:
    case PCS_OP_PURGE:
    case PCS_OP_A_SNAPSHOT:
    case PCS_OP_A_TEST_ALLOC:
    case PCS_OP_FLUSH:
        return PC_ROLE_ADMIN;
    default:
        return pcs_op_is_store_read(op) ? PC_ROLE_READ : PC_ROLE_WRITE;
    }
}

static int req_role(const pcs_req *rq)
{
    int need = pcd_op_role(rq->op);
    for (uint32_t i = 0; i < rq->nsub; i++) {
        int sub = pcd_op_role(rq->subs[i].op);
        need = sub > need ? sub : need;
    }
    return need;
}

void pcd_client_wake(pcd_client *c)
{
    atomic_thread_fence(memory_order_seq_cst);
    if (atomic_load_explicit(&c->hdr->client_waiting, memory_order_relaxed)) {
        atomic_fetch_add_explicit(&c->hdr->client_wake, 1, memory_order_release);
        pcs_futex_wake(&c->hdr->client_wake);
    }
}

/* ---- answers on their way to the ring ----
 *
 * An answer is encoded once: a write's by the executor into the round's
 * rout, a ring-only read's into scratch, anything else that the loop says
 * itself into a buffer of its own.  From there it goes straight into the
 * client's response ring, as far as there is room and nothing of the
 * client's waits before it; only what the ring cannot take now waits in
 * c->out (pcs_ring_send's pieces and backpressure as for anything there).
 * Everything written is published once per client, at the end of the pass
 * (flush_all). */

/* Would queueing more bytes of answer for c go over its backlog (one
 * largest answer past --client-backlog) or the daemon's budget?  from: the
 * buffer the answer is in, which becomes c->out when nothing else waits
 * there (answer_buf); NULL: the answer would be copied into c->out. */
static bool over_caps(const pcd *d, const pcd_client *c, size_t more, const pcs_buf *from)
{
    size_t unread = c->out.len - c->out_pos;
    uint64_t largest = d->st->max_value + PCS_FRAME_SLACK;
    if (unread + more > d->cfg.client_backlog + largest)
        return true;
    size_t cap = from && !unread ? from->cap : pcs_buf_grown_cap(c->out.cap, c->out.len + more);
    return cap > c->out.cap && !may_hold(d, cap, cap - c->out.cap);
}

/* When nothing of c's waits in c->out, write what the response ring takes
 * now of the answer f[0..n); *pos and *sent say how far it went (see
 * pcs_ring_send).  False when c was closed for corrupting the counters. */
static bool send_now(pcd *d, pcd_client *c, const uint8_t *f, size_t n, size_t *pos, size_t *sent)
{
    *pos = *sent = 0;
    if (c->out.len != c->out_pos)
        return true;
    int put = pcs_ring_send(&c->resp, f, n, pos, sent);
    if (put < 0) {
        pcd_client_close(d, c, "response ring counters corrupted");
        return false;
    }
    if (put)
        c->resp_put = true;
    return true;
}

/* Answer c with f[0..n) (one frame, padded), which stays where it is: what
 * the ring does not take now is copied into c->out. */
static void answer_frame(pcd *d, pcd_client *c, const uint8_t *f, size_t n)
{
    size_t pos, sent;
    if (!send_now(d, c, f, n, &pos, &sent) || pos == n)
        return;
    if (sent) /* c->out was empty: its next message is this one */
        c->out_msg_sent = sent;
    pcs_buf_put(&c->out, f, n);
}

/* Answer c with what b holds (one frame, padded); b is left empty.  What
 * the ring does not take now stays in b's memory, which becomes c->out when
 * nothing waits there (c's old buffer becomes b); else it is copied. */
static void answer_buf(pcd *d, pcd_client *c, pcs_buf *b)
{
    size_t pos, sent;
    if (send_now(d, c, b->data, b->len, &pos, &sent) && pos < b->len) {
        if (c->out.len == c->out_pos) {
            pcs_buf t = c->out;
            c->out = *b;
            *b = t;
            c->out_pos = pos;
            c->out_msg_sent = sent;
            pcd_note_held(d, c);
        } else {
            pcs_buf_put(&c->out, b->data, b->len);
        }
    }
    pcs_buf_reset(b);
}

/* An answer that carries only rc, for a request of op/id. */
static void answer_error(pcd *d, pcd_client *c, uint16_t op, uint64_t id, int rc)
{
    uint8_t f[PCS_RESP_ERROR_MAX];
    answer_frame(d, c, f, pcs_resp_error(f, op, id, rc));
}

/* ---- the round's items ---- */

/* Room in the round for one more item and for len bytes more in the arena
 * (len 0: a request that stays where it is).  False when memory ran out. */
static bool round_room(pcd *d, size_t len)
{
    if (d->nitems == d->icap) {
        size_t cap = d->icap ? d->icap * 2 : 256;
        pcd_item *n = pcs_reallocarray(d->items, cap, sizeof *n);
        if (!n)
            return false;
        d->items = n;
        d->icap = cap;
    }
    if (len && pcs_buf_reserve(&d->arena, pcs_align8(len))) {
        d->arena.err = 0;
        return false;
    }
    return true;
}

/* Add c's request (a whole frame of len bytes at off in buf, private to the
 * daemon, alive until end_round) to the round; round_room made room. */
static pcd_item *item_add(pcd *d, pcd_client *c, const pcs_buf *buf, size_t off, size_t len)
{
    pcd_item *it = &d->items[d->nitems++];
    memset(it, 0, sizeof *it);
    it->c = c;
    it->buf = buf;
    it->off = off;
    it->len = len;
    it->resp_off = SIZE_MAX;
    c->items++;
    /* A read is served after the commit, and a waiting pop, a flight claim
     * or a blocking stream read may park: nothing may overtake either, so
     * drain c no further. */
    uint16_t op = pcs_le16(buf->data + off + 4);
    if (pcs_op_is_read(op) || pcs_op_parks(op))
        c->read_queued = true;
    return it;
}

static const uint8_t *item_msg(const pcd_item *it)
{
    return it->buf->data + it->off;
}

/* ---- draining ---- */

/* Memory ran out for a record of c's current message (len bytes, not yet
 * taken).  Begin dropping that message: its answer will be PC_ENOMEM.  The
 * op and id come from what was reassembled, completed from the record.
 * Returns false (and closes c) when the message is too short to carry them. */
static bool discard_begin(pcd *d, pcd_client *c, uint32_t len)
{
    uint8_t hdr[PCS_FRAME_HDR];
    size_t have = c->msg.len < sizeof hdr ? c->msg.len : sizeof hdr;
    if (have + len < sizeof hdr) {
        pcd_client_close(d, c, "out of memory reassembling a request");
        return false;
    }
    if (have) /* msg.data is NULL while nothing was ever reassembled */
        memcpy(hdr, c->msg.data, have);
    pcs_ring_peek(&c->req, hdr + have, (uint32_t)(sizeof hdr - have));
    c->discard = true;
    c->discard_op = pcs_le16(hdr + 4);
    c->discard_id = pcs_le64(hdr + 8);
    c->discard_len = c->msg.len;
    c->msg.len = 0;
    shrink_idle(&c->msg);
    pcd_note_held(d, c);
    return true;
}

/*
 * Make room in c->msg for a record of len bytes.  The first record of a
 * message names the message's length (its frame header): the buffer is made
 * that size at once, not doubled past it.  Growth beyond HELD_SMALL is
 * charged to --max-buffers; false when it does not fit, or memory ran out.
 */
static bool reserve_msg(pcd *d, pcd_client *c, uint32_t len, size_t limit)
{
    size_t need = c->msg.len + len;
    if (need <= c->msg.cap)
        return true;
    size_t want = need;
    if (c->msg.len == 0 && len >= 4) {
        uint8_t h[4];
        pcs_ring_peek(&c->req, h, 4);
        size_t total = pcs_le32(h);
        if (total > want && total <= limit)
            want = total;
    }
    if (want < need * 2 && c->msg.len)
        want = need * 2 < limit ? need * 2 : (need > limit ? need : limit);
    if (want < 256)
        want = 256;
    if (!may_hold(d, want, want - c->msg.cap))
        return false;
    uint8_t *p = pcs_reallocarray(c->msg.data, want, 1);
    if (!p)
        return false;
    c->msg.data = p;
    c->msg.cap = want;
    pcd_note_held(d, c);
    return true;
}

/*
 * The next message of c is one record of len bytes (the usual case): copy
 * it out of the ring once, into the round's arena, where it is checked and
 * decoded.  Returns 1 when it was taken, 0 when it stays in the ring for the
 * next round, -1 when c was closed.
 */
static int take_one(pcd *d, pcd_client *c, uint32_t len)
{
    if (len < PCS_FRAME_HDR) {
        pcd_client_close(d, c, "malformed frame");
        return -1;
    }
    if (!round_room(d, len)) {
        if (c->items)
            return 0; /* try again next round */
        /* Answer PC_ENOMEM now, from a copy of the frame's header alone. */
        uint8_t hdr[PCS_FRAME_HDR];
        pcs_ring_peek(&c->req, hdr, sizeof hdr);
        pcs_ring_take(&c->req, NULL, len);
        if (pcs_frame_len(hdr) != len) {
            pcd_client_close(d, c, "malformed frame");
            return -1;
        }
        answer_error(d, c, pcs_le16(hdr + 4), pcs_le64(hdr + 8), PC_ENOMEM);
        return 1;
    }
    size_t off = d->arena.len, padded = pcs_align8(len);
    uint8_t *m = d->arena.data + off;
    pcs_ring_take(&c->req, m, len);
    memset(m + len, 0, padded - len);
    /* From here on only the copy is looked at. */
    if (pcs_frame_len(m) != len) {
        pcd_client_close(d, c, "malformed frame");
        return -1;
    }
    d->arena.len = off + padded;
    item_add(d, c, &d->arena, off, len);
    return 1;
}

/* c->msg holds a whole request: into the round, decoded where it is (it
 * counts as the round's, not c's, until end_round gives it back).  False
 * when it must wait for the next round. */
static bool msg_to_round(pcd *d, pcd_client *c)
{
    if (round_room(d, 0)) {
        item_add(d, c, &c->msg, 0, c->msg.len);
        c->msg_in_round = true;
    } else {
        if (c->items)
            return false; /* try again next round */
        answer_error(d, c, pcs_le16(c->msg.data + 4), pcs_le64(c->msg.data + 8), PC_ENOMEM);
        c->msg.len = 0;
        c->msg_whole = false;
        shrink_idle(&c->msg);
    }
    pcd_note_held(d, c);
    return true;
}

/* Move the client's complete request messages into the round.  Returns how
 * many records and requests it handled (0: nothing to do).  A protocol error
 * closes the client.
 *
 * Every byte is copied out of the ring once, into the buffer the request is
 * checked and decoded from: a message of one record into the round's arena
 * (take_one), a message of several into c->msg, where it is reassembled,
 * across passes if need be, and then decoded in place (msg_to_round).  While
 * c->msg is in the round, c's next message of several records waits.
 *
 * When memory runs out for a request (reassembling it, or adding it to the
 * round), the request is answered PC_ENOMEM at once if none of c's requests
 * waits in this round, so the answer keeps its place in c's order.  Otherwise
 * draining c stops, and the request is tried again in the next round, after
 * those earlier ones have been answered. */
static unsigned drain_client(pcd *d, pcd_client *c)
{
    unsigned took = 0, reqs = 0;
    size_t bytes = 0;
    size_t limit = d->st->max_value + PCS_FRAME_SLACK;
    /* (An answer sent on the way may find the response ring's counters
     * corrupted and close c.) */
    while (reqs < DRAIN_MAX_REQS && bytes < DRAIN_MAX_BYTES && !c->read_queued &&
           c->state == PCD_C_ACTIVE) {
        if (c->msg_whole && !c->msg_in_round) {
            if (!msg_to_round(d, c))
                break;
            reqs++;
            continue;
        }
        uint32_t len;
        uint16_t flags;
        int rc = pcs_ring_next(&c->req, &len, &flags);
        if (rc == PC_EAGAIN)
            break;
        /* The record goes on with the message in c->msg (or the one being
         * dropped), or begins a new one. */
        bool cont = c->discard || (c->msg.len && !c->msg_whole);
        size_t seen = !cont ? 0 : c->discard ? c->discard_len : c->msg.len;
        if (rc || len > limit - seen) {
            pcd_client_close(d, c, rc ? "malformed ring record" : "request larger than allowed");
            return took;
        }
        if (!cont && !(flags & PCS_REC_MORE)) {
            int r = take_one(d, c, len);
            if (r < 0)
                return took;
            if (r == 0)
                break;
            bytes += len;
            took++;
            reqs++;
            continue;
        }
        if (!cont) {
            if (c->msg_in_round)
                break; /* c->msg is taken until the round ends */
            c->msg_since = pcs_now_ms();
        }
        if (!c->discard && !reserve_msg(d, c, len, limit)) {
            c->msg.err = 0; /* the buffer is as it was: try again later */
            if (c->items)
                break; /* try again next round */
            if (!discard_begin(d, c, len))
                return took;
        }
        if (c->discard) {
            pcs_ring_take(&c->req, NULL, len);
            c->discard_len += len;
        } else {
            /* (msg.data is NULL while nothing was ever reassembled) */
            pcs_ring_take(&c->req, len ? c->msg.data + c->msg.len : NULL, len);
            c->msg.len += len;
        }
        bytes += len;
        took++;
        if (flags & PCS_REC_MORE)
            continue;
        if (c->discard) {
            answer_error(d, c, c->discard_op, c->discard_id, PC_ENOMEM);
            c->discard = false;
            reqs++;
            continue;
        }
        /* A whole message: one request frame. */
        if (c->msg.len < PCS_FRAME_HDR || pcs_frame_len(c->msg.data) != c->msg.len) {
            pcd_client_close(d, c, "malformed frame");
            return took;
        }
        c->msg_whole = true;
    }
    pcd_note_held(d, c);
    if (took) {
        pcs_ring_release(&c->req);
        pcd_client_wake(c);
    }
    return took + reqs;
}

/* Parked queue pops and flight claims: answer those whose time is up,
 * retry the others when the last round wrote something, and flight claims
 * also when a client went (it may have held their lease) or when the lease
 * they wait behind ends (decoded from c->parked, where the request waits). */
static void parked_pass(pcd *d, uint64_t now)
{
    bool kick = d->kick_parked;
    d->kick_parked = false;
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE || !c->blocked || c->snap_need)
            continue;
        uint16_t op = pcs_le16(c->parked.data + 4);
        bool flight = op == PCS_OP_FC_CLAIM;
        /* A client went: it may have held the lease this claim waits
         * behind.  Its process closes its files before it is a zombie, so
         * the owner may still look alive now: try a few times more over the
         * next ~300 ms (answer_items). */
        if (flight && kick)
            c->parked_kicks = 6;
        if (now >= c->parked_deadline) {
            answer_error(d, c, op, pcs_le64(c->parked.data + 8), PC_ETIMEDOUT);
            c->blocked = false;
        } else if ((d->wrote_last_round ||
                    (flight && (kick || (c->parked_retry_at && now >= c->parked_retry_at)))) &&
                   round_room(d, 0)) {
            item_add(d, c, &c->parked, 0, c->parked.len)->parked_retry = true;
        }
    }
}

/* Does an answer rc to the request of op park it?  A queue's or sorted
 * set's pop that found nothing, a flight claim that found the lease taken,
 * a blocking stream read that found no entry, and may wait.  *wait
 * and *until (0: none) get its timeout and the waiter's own deadline
 * (CLOCK_MONOTONIC ms). */
static bool parks(const pcs_req *rq, int rc, uint64_t *wait, uint64_t *until)
{
    unsigned at;
    if ((rq->op == PCS_OP_QPOPW || rq->op == PCS_OP_BZPOP) && rc == PC_ENOTFOUND)
        at = 2;
    else if (rq->op == PCS_OP_FC_CLAIM && rc == PC_EBUSY && rq->argv[4].i > 0)
        at = 4; /* (the executor checked the arguments' kinds) */
    else if (rq->op == PCS_OP_XREADW && rc == PC_EAGAIN && rq->argv[3].i > 0)
        at = 3; /* streams: wait, then until */
    else if (rq->op == PCS_OP_XREADGROUP && rc == PC_EAGAIN && rq->argv[6].i > 0)
        at = 6;
    else
        return false;
    *wait = (uint64_t)rq->argv[at].i;
    *until = rq->argc > at + 1 ? (uint64_t)rq->argv[at + 1].i : 0;
    return true;
}

/* A parked flight claim: when does the lease it waits behind end?  Then it
 * is tried again (0: no lease seen; a write or a client's end will do). */
static uint64_t lease_end(pcd *d, const pcs_req *rq)
{
    pc_flight f;
    pcs_reader_begin(&d->reader, pcs_now_ms());
    int rc = pcs_rd_flight(&d->reader, rq->argv[0].s.ptr, rq->argv[0].s.len, &f);
    pcs_reader_end(&d->reader);
    return rc || !f.token || f.lease_until_ms <= 0 ? 0 : (uint64_t)f.lease_until_ms + 1;
}

static bool drain_all(pcd *d)
{
    bool any = false;
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE || c->blocked || c->read_queued ||
            c->out.len - c->out_pos > d->cfg.client_backlog)
            continue;
        any |= drain_client(d, c) > 0;
    }
    return any;
}

/* ---- running a round ---- */

/* A flight claim's owner is the peer the daemon sees, whatever pid the
 * request names: a client cannot hold a lease in another process's name. */
static void own_claims(pcs_req *rq, int64_t pid)
{
    if (rq->op == PCS_OP_FC_CLAIM && rq->argc > 3 && rq->argv[3].kind == PC_INT)
        rq->argv[3].i = pid;
    for (uint32_t i = 0; i < rq->nsub; i++)
        own_claims(&rq->subs[i], pid);
}

/* Decode every item from the daemon's own copy of it (its views point into
 * that copy, which lives until end_round); a malformed frame closes its
 * client. */
static void decode_items(pcd *d)
{
    for (size_t i = 0; i < d->nitems; i++) {
        pcd_item *it = &d->items[i];
        it->decoded = pcs_req_decode(item_msg(it), it->len, &it->rq);
        it->parsed = it->decoded == 0;
        if (it->parsed)
            own_claims(&it->rq, it->c->pid);
        if (it->decoded == PC_EPROTO)
            pcd_client_close(d, it->c, "malformed request frame");
        /* The peer's role: a request it does not allow changes nothing. */
        if (it->decoded != PC_EPROTO &&
            (it->parsed ? req_role(&it->rq) : pcd_op_role(pcs_le16(item_msg(it) + 4))) >
                it->c->role)
            it->decoded = PC_EACCES;
        if (!it->decoded && !pcs_op_is_read(it->rq.op)) {
            int rc = pcs_req_shard(d->st, &it->rq, &it->shard);
            if (rc == PC_ECROSSSHARD)
                it->decoded = rc;
        }
    }
}

/*
 * The memory cap: make room for this pass's writes (evicting first under an
 * eviction policy), then let growing requests in while the room lasts; the
 * rest are answered PC_EFULL without running.  Requests that cannot grow the
 * store (deletes, pops, trims) always run.  Returns the bytes let in.
 */
static uint64_t keep_under_cap(pcd *d, uint64_t now)
{
    uint64_t incoming = 0;
    for (size_t i = 0; i < d->nitems; i++) {
        const pcd_item *it = &d->items[i];
        if (!it->decoded && !pcs_op_is_read(it->rq.op) && pcs_op_grows(&it->rq))
            incoming += it->len;
    }
    pcd_make_room(d, now, incoming);
    uint64_t fs = pcd_fs_room(d, incoming); /* the filesystem's guarantee */
    if (d->room > fs)
        d->room = fs;
    uint64_t let = 0;
    for (size_t i = 0; i < d->nitems; i++) {
        pcd_item *it = &d->items[i];
        if (it->decoded || pcs_op_is_read(it->rq.op) || !pcs_op_grows(&it->rq))
            continue;
        uint64_t need = 2 * (uint64_t)it->len;
        if (need > d->room) {
            it->decoded = PC_EFULL;
            snprintf(d->refused_why, sizeof d->refused_why, "%s", d->room_why);
            continue;
        }
        d->room -= need;
        let += it->len;
    }
    return let;
}

/* Room in wr for n requests.  False when memory ran out. */
static bool writer_room(pcd_writer *wr, size_t n)
{
    if (n <= wr->cap)
        return true;
    // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers to structs
    pcs_req **rp = pcs_reallocarray(wr->rptr, n, sizeof *rp);
    if (rp)
        wr->rptr = rp;
    size_t *ro = pcs_reallocarray(wr->roff, n + 1, sizeof *ro);
    if (ro)
        wr->roff = ro;
    size_t *ix = pcs_reallocarray(wr->idx, n, sizeof *ix);
    if (ix)
        wr->idx = ix;
    if (!rp || !ro || !ix)
        return false;
    wr->cap = n;
    return true;
}

/* Run the write items, one group commit per shard, the shards in parallel
 * (pcd_writers_run).  A shard that fails as a whole has its requests
 * answered with its code (wr->rc); the other shards' stand. */
static void run_writes(pcd *d)
{
    unsigned nshards = d->st->nshards;
    size_t count[PCS_SHARDS_MAX] = {0};
    for (size_t i = 0; i < d->nitems; i++) {
        pcd_item *it = &d->items[i];
        if (!it->decoded && it->c->state != PCD_C_DEAD && !pcs_op_is_read(it->rq.op))
            count[it->shard]++;
    }
    uint64_t want = 0, busy = 0;
    for (unsigned s = 0; s < nshards; s++) {
        pcd_writer *wr = &d->wr[s];
        wr->n = 0;
        wr->rc = 0;
        pcs_buf_reset(&wr->out);
        if (!count[s])
            continue;
        want |= UINT64_C(1) << s;
        wr->room_waited_us = 0;
        wr->refused_why[0] = 0;
        if (!writer_room(wr, count[s])) {
            wr->rc = PC_ENOMEM;
            continue;
        }
        busy |= UINT64_C(1) << s;
    }
    for (size_t i = 0; i < d->nitems; i++) {
        pcd_item *it = &d->items[i];
        if (it->decoded || it->c->state == PCD_C_DEAD || pcs_op_is_read(it->rq.op))
            continue;
        pcd_writer *wr = &d->wr[it->shard];
        if (!(busy >> it->shard & 1))
            continue;
        wr->rptr[wr->n] = &it->rq;
        wr->idx[wr->n++] = i;
    }
    if (busy)
        pcd_writers_run(d, busy, PCD_W_RUN);
    bool wrote = false;
    d->unsynced |= busy != 0;
    for (uint64_t m = want; m; m &= m - 1) {
        pcd_writer *wr = &d->wr[__builtin_ctzll(m)];
        if (wr->refused_why[0])
            memcpy(d->refused_why, wr->refused_why, sizeof d->refused_why);
        if (wr->rc) {
            pcd_log(LOG_ERR, "a round failed on shard %u: %s; its writes were answered with it",
                    wr->shard, pc_strerror(wr->rc));
            continue;
        }
        for (size_t j = 0; j < wr->n; j++) {
            pcd_item *it = &d->items[wr->idx[j]];
            it->resp_off = wr->roff[j];
            /* A retried parked pop changes nothing unless it pops: only other
             * writes give parked pops a reason to try again. */
            if (!it->parked_retry)
                wrote = true;
        }
    }
    d->wrote_last_round = wrote;
}

/* Answer every item, in order, into its client's response ring (or c->out,
 * for what the ring cannot take now). */
static void answer_items(pcd *d, uint64_t now)
{
    for (size_t i = 0; i < d->nitems; i++) {
        pcd_item *it = &d->items[i];
        pcd_client *c = it->c;
        const uint8_t *hdr = item_msg(it);
        uint16_t op = pcs_le16(hdr + 4);
        uint64_t id = pcs_le64(hdr + 8);
        if (c->state == PCD_C_DEAD)
            continue;
        c->requests++;
        d->requests++;
        d->stats.requests++;
        d->stats.ops[op < PC_STATS_OPS ? op : 0]++;
        if (c->out.len == c->out_pos)
            c->out_moved = now; /* the wait for it to read starts now */
        int32_t rc;             /* the answer's */
        bool answered = true;   /* (a snapshot is answered when it is on disk) */
        if (it->decoded) {
            answer_error(d, c, op, id, rc = it->decoded);
        } else if (op == PCS_OP_A_SNAPSHOT) {
            rc = pcd_snap_ask(d, c, hdr, it->len);
            if (rc)
                answer_error(d, c, op, id, rc);
            answered = rc != 0;
        } else if (pcs_op_is_read(op)) {
            /* Built aside, queued only within the client's and the
             * daemon's caps: a read changes nothing, so one over them is
             * answered PC_ENOMEM instead. */
            pcs_buf_reset(&d->scratch);
            pcd_serve_read(d, c->uid, &it->rq, &d->scratch);
            if (!d->scratch.err && !over_caps(d, c, d->scratch.len, &d->scratch)) {
                rc = (int32_t)pcs_le32(d->scratch.data + PCS_FRAME_HDR);
                answer_buf(d, c, &d->scratch);
            } else {
                answer_error(d, c, op, id, rc = PC_ENOMEM);
            }
            pcs_buf_reset(&d->scratch);
            shrink_idle(&d->scratch);
        } else if (d->wr[it->shard].rc || it->resp_off == SIZE_MAX) {
            answer_error(d, c, op, id, rc = d->wr[it->shard].rc ? d->wr[it->shard].rc : PC_EIO);
        } else {
            const uint8_t *r = d->wr[it->shard].out.data + it->resp_off;
            rc = (int32_t)pcs_le32(r + PCS_FRAME_HDR);
            uint64_t wait, until;
            bool parking = parks(&it->rq, rc, &wait, &until);
            if (parking) {
                /* Nothing to pop yet, or the lease is another's: park it
                 * until a write (or its lease's end) or its deadline. */
                if (!it->parked_retry) {
                    c->parked.len = 0;
                    pcs_buf_put(&c->parked, hdr, it->len);
                    /* Until the waiter's own deadline when it sent one
                     * (a daemon that was stopped meanwhile waits less). */
                    if (until) {
                        uint64_t mono = pcs_mono_ms();
                        uint64_t left = until > mono ? until - mono : 0;
                        wait = left < wait ? left : wait;
                    }
                    /* From the clock now, not from the pass's start (the
                     * round ran since), and a millisecond over: both
                     * clocks are read in whole milliseconds, and a wait
                     * must never end before the waiter's deadline. */
                    c->parked_deadline = pcs_now_ms() + wait + 1;
                    c->parked_kicks = 0; /* (a new request: none left from the last) */
                }
                if (op == PCS_OP_FC_CLAIM) {
                    c->parked_retry_at = lease_end(d, &it->rq);
                    if (c->parked_kicks) { /* 5, 10, 20 ... 160 ms */
                        uint64_t soon = now + (UINT64_C(160) >> --c->parked_kicks);
                        if (!c->parked_retry_at || soon < c->parked_retry_at)
                            c->parked_retry_at = soon;
                    }
                }
                if (!c->parked.err) {
                    c->blocked = true;
                    continue;
                }
                rc = PC_ENOMEM;
            }
            bool parkable = pcs_op_parks(op);
            if (parkable)
                c->blocked = false;
            size_t n = pcs_align8(pcs_frame_len(r));
            if (rc == PC_ENOMEM && parking) {
                answer_error(d, c, op, id, rc);
            } else if (over_caps(d, c, n, NULL) && c->out.len - c->out_pos > HELD_SMALL) {
                /* A write that ran: its answer cannot be replaced, and this
                 * client does not read what it has. */
                pcd_client_close(d, c,
                                 "does not read its answers (over --client-backlog or "
                                 "--max-buffers)");
                continue;
            } else {
                answer_frame(d, c, r, n);
            }
        }
        pcd_note_held(d, c);
        if (c->out.err) {
            pcd_client_close(d, c, "out of memory queueing answers");
            continue;
        }
        if (!answered || c->state == PCD_C_DEAD)
            continue;
        /* A read of a missing key is a miss (counted as one), not an error. */
        d->stats.errors += rc < 0 && !(rc == PC_ENOTFOUND && pcs_op_is_read(op));
        if (rc == PC_EFULL && !pcs_op_is_read(op))
            pcd_note_refused(d, now);
        d->writes += !rc && !pcs_op_is_read(op);
        d->emptied |= !rc && op == PCS_OP_FLUSH;
        /* Writes count as accesses for allkeys-lru/lfu. */
        if (!rc && d->access && !it->decoded && !pcs_op_is_read(op) && it->rq.argc &&
            it->rq.argv[0].kind == PC_BYTES)
            pcd_touch(d, it->rq.argv[0].s.ptr, it->rq.argv[0].s.len, now);
    }
}

static void end_round(pcd *d)
{
    for (size_t i = 0; i < d->nitems; i++) {
        pcd_item *it = &d->items[i];
        pcd_client *c = it->c;
        if (it->parsed)
            pcs_req_free(&it->rq);
        c->items = 0;
        c->read_queued = false;
        if (it->buf == &c->msg) {
            /* Its request is done with: c->msg is c's again. */
            c->msg.len = 0;
            c->msg_whole = c->msg_in_round = false;
            shrink_idle(&c->msg);
            pcd_note_held(d, c);
        }
    }
    d->nitems = 0;
    pcs_buf_reset(&d->arena);
    /* A round of large requests or answers gives its memory back. */
    if (d->arena.cap > ROUND_KEEP)
        pcs_buf_free(&d->arena);
    for (unsigned s = 0; s < d->st->nshards; s++)
        if (d->wr[s].out.cap > ROUND_KEEP)
            pcs_buf_free(&d->wr[s].out);
}

/* ---- answering ---- */

/* Move c's waiting answers into its response ring as far as there is room,
 * and publish what went in (also what answer_frame and answer_buf wrote). */
static void flush_client(pcd *d, pcd_client *c)
{
    if (c->out_pos < c->out.len) {
        int put = pcs_ring_send(&c->resp, c->out.data, c->out.len, &c->out_pos, &c->out_msg_sent);
        if (put < 0) {
            pcd_client_close(d, c, "response ring counters corrupted");
            return;
        }
        if (put)
            c->resp_put = true;
    }
    if (c->out_pos == c->out.len) {
        c->out.len = c->out_pos = 0;
        if (c->out.cap > HELD_SMALL) {
            shrink_idle(&c->out);
            pcd_note_held(d, c);
        }
    } else if (c->out_pos > (1u << 20) && c->out_pos > c->out.len / 2) {
        memmove(c->out.data, c->out.data + c->out_pos, c->out.len - c->out_pos);
        c->out.len -= c->out_pos;
        c->out_pos = 0;
    }
    if (c->resp_put) {
        c->resp_put = false;
        c->out_moved = pcs_now_ms();
        pcs_ring_publish(&c->resp);
        pcd_client_wake(c);
    }
}

static bool flush_all(pcd *d)
{
    bool backlog = false;
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state == PCD_C_ACTIVE && (c->out.len > c->out_pos || c->resp_put)) {
            flush_client(d, c);
            backlog |= c->state == PCD_C_ACTIVE && c->out.len > c->out_pos;
        }
    }
    return backlog;
}

static uint64_t now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Keys per sweep step after a flush: each a B-tree delete, a few ms. */
#define EMPTY_SWEEP_STEP 4096

/*
 * After a flush: its members go in bounded steps between passes, one write
 * transaction per shard each, until none is left (PCS_MAINT_SWEEP finds the
 * flushed range first).  True while there was something to delete.
 */
static bool empty_sweep_step(pcd *d, uint64_t now)
{
    unsigned total = 0;
    for (unsigned s = 0; s < d->st->nshards; s++) {
        unsigned did = 0;
        pcs_wctx *w = &d->wr[s].w;
        if (pcs_wbegin(w, d->st, s))
            continue;
        if (pcs_maint(w, PCS_MAINT_SWEEP, EMPTY_SWEEP_STEP, &did) || !did) {
            pcs_wabort(w);
        } else if (pcs_wcommit(w) == 0) {
            d->unsynced = true;
            total += did;
        }
    }
    if (!total)
        d->empty_sweep = false;
    if (!total || now - d->measured_ms >= 100)
        pcd_measure(d, now); /* the stats page shows the space coming back */
    return total > 0;
}

/* A flush succeeded in the pass: sweep what it left, measure, and take a
 * snapshot, so that a restart or a reboot does not bring the keys back. */
static void after_flush(pcd *d, uint64_t now)
{
    d->emptied = false;
    d->empty_sweep = true;
    pcd_measure(d, now);
    if (d->snap.thread)
        pcd_snap_request(d, "after a flush", PCD_T_ALL);
}

/* One pass: drain, run, answer.  True when it did anything. */
static bool pass(pcd *d)
{
    uint64_t now = pcs_now_ms();
    parked_pass(d, now);
    d->wrote_last_round = false;
    bool drained = drain_all(d);
    if (d->nitems) {
        uint64_t t0 = now_us();
        size_t items = d->nitems;
        decode_items(d);
        uint64_t incoming = keep_under_cap(d, now);
        pthread_mutex_lock(&d->commit_mu);
        run_writes(d);
        pthread_mutex_unlock(&d->commit_mu);
        pcd_note_growth(d, incoming);
        answer_items(d, now);
        end_round(d);
        d->rounds++;
        pcd_note_pass(d, items, now_us() - t0);
        d->next_due = 0; /* writes may have brought an expiry forward */
        if (d->emptied)
            after_flush(d, now);
    }
    bool backlog = flush_all(d);
    bool swept = d->empty_sweep && empty_sweep_step(d, now);
    return drained || backlog || swept;
}

/* ---- sleeping, events, housekeeping ---- */

/* Is there anything for a pass to do?  (Checked after announcing sleep.) */
static bool work_waiting(pcd *d)
{
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE)
            continue;
        if (c->out.len > c->out_pos || c->msg_whole)
            return true;
        if (!c->blocked && atomic_load_explicit(c->req.head, memory_order_acquire) != c->req.pos)
            return true;
    }
    return false;
}

static void handle_signals(pcd *d)
{
    struct signalfd_siginfo si;
    while (read(d->sigfd, &si, sizeof si) == (ssize_t)sizeof si) {
        if (si.ssi_signo == SIGTERM || si.ssi_signo == SIGINT) {
            pcd_log(LOG_NOTICE, "signal %u: stopping after the round in flight", si.ssi_signo);
            d->stop = true;
        } else if (si.ssi_signo == SIGHUP) {
            d->reload = true;
        }
    }
}

static void poll_events(pcd *d, int timeout_ms)
{
    struct epoll_event ev[64];
    int n = epoll_wait(d->epfd, ev, 64, timeout_ms);
    for (int i = 0; i < n; i++) {
        void *p = ev[i].data.ptr;
        if (p == &ev_listen) {
            pcd_accept(d);
        } else if (p == &ev_signal) {
            handle_signals(d);
        } else if (p == &d->snap) {
            pcd_snap_finished(d);
        } else {
            pcd_client *c = p;
            if (c->state == PCD_C_DEAD)
                continue;
            if (ev[i].events & EPOLLIN)
                pcd_client_readable(d, c);
            if (c->state != PCD_C_DEAD && (ev[i].events & (EPOLLHUP | EPOLLERR | EPOLLRDHUP)))
                pcd_client_close(d, c, NULL);
        }
    }
}

/* Things done about once a second, or when due. */
static void housekeeping(pcd *d, uint64_t now)
{
    if (d->cfg.sync == PCD_SYNC_BATCH && d->unsynced &&
        now - d->last_sync >= d->cfg.sync_interval_ms) {
        /* Each shard in its writer's thread, in parallel. */
        uint64_t all = d->st->nshards == 64 ? UINT64_MAX : (UINT64_C(1) << d->st->nshards) - 1;
        pcd_writers_run(d, all, PCD_W_SYNC);
        d->unsynced = false;
        d->last_sync = now;
    }
    /* Statistics: every 100 ms while requests come, every second otherwise. */
    bool moved = d->requests != d->published_requests;
    if (now - d->last_publish >= (moved ? 100u : 1000u)) {
        if (d->snap.thread) {
            pcd_snap_finished(d);
            pcd_snap_rules(d, now);
        }
        pcd_stats_publish(d, now);
        d->last_publish = now;
        d->published_requests = d->requests;
    }
    if (now - d->last_housekeep < 1000)
        return;
    d->last_housekeep = now;
    pcd_log_refused(d, now);
    pcd_log_tick(false);
    pcd_readers(d, now);
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        /* since_ms may be later than now: the client was accepted after
         * now was read.  Compare without subtracting. */
        if (c->state == PCD_C_HELLO && c->since_ms + 5000 < now)
            pcd_client_close(d, c, "no handshake within 5 s");
        /* A request begun long ago and still incomplete holds its buffer. */
        else if (c->state == PCD_C_ACTIVE && d->cfg.request_timeout_s &&
                 (c->msg.len || c->discard) && !c->msg_whole &&
                 c->msg_since + d->cfg.request_timeout_s * UINT64_C(1000) < now)
            pcd_client_close(d, c, "request still incomplete after --request-timeout");
        /* ... and answers it does not read. */
        else if (c->state == PCD_C_ACTIVE && d->cfg.request_timeout_s && c->out.len > c->out_pos &&
                 c->out_moved + d->cfg.request_timeout_s * UINT64_C(1000) < now)
            pcd_client_close(d, c, "has not read its answers within --request-timeout");
    }
    pcd_sweep_idle(d);
}

/* How long the loop may sleep: until the next timer that matters. */
static int sleep_ms(pcd *d, uint64_t now)
{
    uint64_t due = d->last_housekeep + 1000;
    if (d->requests != d->published_requests && d->last_publish + 100 < due)
        due = d->last_publish + 100;
    if (d->cfg.expire_interval_ms) {
        uint64_t tick = d->next_due > d->next_expire ? d->next_due : d->next_expire;
        if (tick < due)
            due = tick;
    }
    if (d->cfg.sync == PCD_SYNC_BATCH && d->unsynced &&
        d->last_sync + d->cfg.sync_interval_ms < due)
        due = d->last_sync + d->cfg.sync_interval_ms;
    for (size_t i = 0; i < d->ncl; i++) {
        const pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE || !c->blocked)
            continue;
        if (c->parked_deadline < due)
            due = c->parked_deadline;
        if (c->parked_retry_at && c->parked_retry_at < due)
            due = c->parked_retry_at;
    }
    if (d->kick_parked)
        due = now;
    return due <= now ? 0 : (int)(due - now);
}

int pcd_loop_setup(pcd *d)
{
    d->epfd = epoll_create1(EPOLL_CLOEXEC);
    if (d->epfd < 0)
        return -1;
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGHUP);
    sigprocmask(SIG_BLOCK, &set, NULL);
    signal(SIGPIPE, SIG_IGN);
    d->sigfd = signalfd(-1, &set, SFD_NONBLOCK | SFD_CLOEXEC);
    if (d->sigfd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &ev_listen};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->lsock, &ev) < 0)
        return -1;
    ev.data.ptr = &ev_signal;
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, d->sigfd, &ev) < 0)
        return -1;
    d->last_housekeep = d->last_sync = pcs_now_ms();
    /* After the signals are blocked: the writers' threads inherit that. */
    return pcd_writers_start(d);
}

int pcd_run(pcd *d)
{
    uint64_t idle_since = pcs_now_ms(), last_poll = 0;
    unsigned spins = 0;
    while (!d->stop) {
        bool busy = pass(d);
        uint64_t now = pcs_now_ms();
        busy |= pcd_upkeep_step(d, now);
        pcd_reap(d);
        if (d->reload) {
            d->reload = false;
            pcd_reload(d);
        }
        if (busy) {
            idle_since = now;
            /* While busy, look at sockets and signals every millisecond or so:
             * no system call per request. */
            if (now != last_poll) {
                poll_events(d, 0);
                housekeeping(d, now);
                last_poll = now;
            }
            continue;
        }
        if ((now - idle_since) * 1000 < d->cfg.spin_us) {
            if (++spins % 64 == 0 && now != last_poll) {
                poll_events(d, 0);
                last_poll = now;
            }
            pcs_cpu_relax();
            continue;
        }
        /* Announce sleep, then look once more: a client that published after
         * our last look sees sleeping = 1 and rings its socket. */
        atomic_store_explicit(&d->dpage->sleeping, 1, memory_order_seq_cst);
        atomic_thread_fence(memory_order_seq_cst);
        if (!work_waiting(d))
            poll_events(d, sleep_ms(d, now));
        atomic_store_explicit(&d->dpage->sleeping, 0, memory_order_seq_cst);
        now = pcs_now_ms();
        housekeeping(d, now);
        idle_since = now;
        last_poll = now;
    }
    /* SIGTERM: the pass in flight was finished above; answer what is queued,
     * waiting up to a second for clients to make room in full rings. */
    uint64_t until = pcs_now_ms() + 1000;
    while (flush_all(d) && pcs_now_ms() < until) {
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    pcd_log_tick(true);
    return 0;
}
