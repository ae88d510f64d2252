/*
 * writers.c - a writer thread per shard.  A pass's writes run fork-join:
 * the loop hands each shard with writes its requests (pcd_writer), runs
 * shard 0's itself, and waits until every shard is done; then it answers
 * every item in request order from the shards' answer buffers.  Group
 * commit stays per shard; --sync batch syncs the shards the same way, each
 * in its own thread.
 *
 * The handoff: a writer waits for its go to move (spinning a little, then
 * on a futex), and claims the job posted (claim: 1 -> 2); the loop, once
 * its own shard is done, claims and runs every job whose thread has not
 * claimed it yet, then waits for the count of pending jobs to reach 0.  So
 * the loop never waits for a thread to be scheduled, only for work under
 * way.  A pass with writes for one shard alone, and every pass of a store
 * of one shard, wakes no thread.
 */
#include <errno.h>
#include <limits.h>
#include <linux/futex.h>
#include <stdio.h>
#include <string.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "pycached.h"

/* Upkeep budget (expired keys, dead members) per write transaction. */
#define MAINT_BUDGET 64
/* How long a writer spins for its next job, and the loop for the writers to
 * finish, before sleeping on a futex: a busy loop posts the next job within
 * about this, and the writers of one pass finish about together. */
#define WRITER_SPIN_US 50
#define JOIN_SPIN_US 50

static void fx_wait(_Atomic uint32_t *w, uint32_t val)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAIT_PRIVATE, val, NULL, NULL, 0);
}

static void fx_wake(_Atomic uint32_t *w)
{
    syscall(SYS_futex, (uint32_t *)w, FUTEX_WAKE_PRIVATE, INT_MAX, NULL, NULL, 0);
}

static uint64_t mono_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Wait, spinning for up to spin_us, then on the futex, while *w == val. */
static void wait_while(_Atomic uint32_t *w, uint32_t val, _Atomic uint32_t *sleeping,
                       unsigned spin_us)
{
    uint64_t t0 = 0;
    for (unsigned i = 0;; i++) {
        if (atomic_load_explicit(w, memory_order_acquire) != val)
            return;
        if ((i & 15) == 0) {
            uint64_t t = mono_us();
            if (!t0)
                t0 = t;
            else if (t - t0 >= spin_us)
                break;
        }
        pcs_cpu_relax();
    }
    /* Announce the sleep, then look once more: whoever changes *w after our
     * look sees sleeping and wakes us (both sides sequentially consistent). */
    atomic_store_explicit(sleeping, 1, memory_order_seq_cst);
    while (atomic_load_explicit(w, memory_order_seq_cst) == val)
        fx_wait(w, val);
    atomic_store_explicit(sleeping, 0, memory_order_relaxed);
}

/* Add by to a counter of the shard's: one job of a shard runs at a time. */
static void bump(_Atomic uint64_t *c, uint64_t by)
{
    atomic_store_explicit(c, atomic_load_explicit(c, memory_order_relaxed) + by,
                          memory_order_relaxed);
}

static void do_job(pcd_writer *wr)
{
    pcd *d = wr->d;
    uint64_t t0 = mono_us();
    switch (wr->job) {
    case PCD_W_RUN:
        wr->rc = pcs_run(&wr->w, d->st, wr->shard, wr->rptr, wr->n, &wr->out, wr->roff,
                         MAINT_BUDGET, PCS_MAINT_SWEEP);
        bump(&wr->ct.writes, wr->n);
        if (wr->rc) {
            bump(&wr->ct.failed, 1);
        } else {
            bump(&wr->ct.commits, 1);
            bump(&wr->ct.commit_size[pcd_log2_bucket(wr->n)], 1);
        }
        break;
    case PCD_W_SYNC:
        pcs_shard_sync(&d->st->shards[wr->shard]);
        break;
    case PCD_W_EXPIRE:
    case PCD_W_EVICT:
    case PCD_W_SETTLE:
    case PCD_W_SWEEP:
        pcd_upkeep_job(d, wr, wr->job);
        break;
    default:
        return;
    }
    bump(&wr->ct.busy_us, mono_us() - t0);
}

/* Claim wr's posted job, for its thread or for the loop: whoever comes first
 * runs it. */
static bool take(pcd_writer *wr)
{
    uint32_t posted = 1;
    return atomic_compare_exchange_strong_explicit(&wr->claim, &posted, 2, memory_order_acq_rel,
                                                   memory_order_relaxed);
}

/* A job is done: the last one wakes the loop if it sleeps. */
static void done(pcd *d)
{
    if (atomic_fetch_sub_explicit(&d->pending, 1, memory_order_seq_cst) == 1 &&
        atomic_load_explicit(&d->joining, memory_order_seq_cst))
        fx_wake(&d->pending);
}

static void *writer_main(void *arg)
{
    pcd_writer *wr = arg;
    pcd *d = wr->d;
    uint32_t seen = 0;
    for (;;) {
        wait_while(&wr->go, seen, &wr->sleeping, WRITER_SPIN_US);
        seen = atomic_load_explicit(&wr->go, memory_order_acquire);
        if (!take(wr))
            continue; /* the loop ran it itself */
        int job = wr->job;
        do_job(wr);
        done(d);
        if (job == PCD_W_STOP)
            return NULL;
    }
}

static void post(pcd_writer *wr, int job)
{
    wr->job = job;
    atomic_store_explicit(&wr->claim, 1, memory_order_release); /* the job, to its taker */
    atomic_fetch_add_explicit(&wr->go, 1, memory_order_seq_cst);
    if (atomic_load_explicit(&wr->sleeping, memory_order_seq_cst))
        fx_wake(&wr->go);
}

static void join(pcd *d)
{
    for (;;) {
        uint32_t left = atomic_load_explicit(&d->pending, memory_order_acquire);
        if (!left)
            return;
        wait_while(&d->pending, left, &d->joining, JOIN_SPIN_US);
    }
}

/*
 * --writers auto.  A thread per shard pays only when there is a core for
 * it: on a machine whose cores the clients and the loop keep busy, the
 * handoffs cost more than the parallel inserts give back (on 2 busy cores,
 * SET with 64 in flight on 2 shards lost a third).  So the rate of
 * requests run (a second, over all PCD_W_RUN jobs) is measured in a window
 * of WINDOW_US with the threads, then in one without them; the faster (the
 * threads only if by more than a tenth) holds for HOLD_WINDOWS windows,
 * then both are measured again.  A window that spans an idle spell (longer
 * than STALE_US) says nothing and is begun again.
 */
#define WINDOW_US 100000
#define HOLD_WINDOWS 30
#define STALE_US (10 * WINDOW_US)
enum { AD_THREADS, AD_LOOP, AD_HOLD };

/* Whether this pass's writes go to the threads (--writers auto). */
static bool adapt_par(pcd *d)
{
    if (d->cfg.writers != PCD_WRITERS_AUTO)
        return d->cfg.writers == PCD_WRITERS_THREADS;
    if (!d->wad.t0) {
        d->wad.t0 = mono_us();
        d->wad.phase = AD_THREADS;
        d->wad.par = true;
    }
    return d->wad.par;
}

/* After a pass's writes (reqs of them): close the window when it is due. */
static void adapt_note(pcd *d, size_t reqs)
{
    if (d->cfg.writers != PCD_WRITERS_AUTO)
        return;
    d->wad.reqs += reqs;
    uint64_t now = mono_us(), took = now - d->wad.t0;
    if (took < WINDOW_US)
        return;
    double rate = (double)d->wad.reqs * 1e6 / (double)took;
    d->wad.t0 = now;
    d->wad.reqs = 0;
    if (took > STALE_US)
        return; /* an idle spell: measure this phase again */
    switch (d->wad.phase) {
    case AD_THREADS:
        d->wad.rate[1] = rate;
        d->wad.phase = AD_LOOP;
        d->wad.par = false;
        break;
    case AD_LOOP: {
        d->wad.rate[0] = rate;
        bool par = d->wad.rate[1] > d->wad.rate[0] * 1.1;
        pcd_log(LOG_DEBUG, "writers: %.0f requests/s in threads, %.0f in the loop: %s",
                d->wad.rate[1], d->wad.rate[0], par ? "threads" : "the loop");
        d->wad.par = par;
        d->wad.phase = AD_HOLD;
        d->wad.hold = HOLD_WINDOWS;
        break;
    }
    default:
        if (--d->wad.hold == 0) {
            d->wad.phase = AD_THREADS;
            d->wad.par = true;
        }
        break;
    }
}

bool pcd_writers_par(pcd *d)
{
    return adapt_par(d);
}

void pcd_writers_run(pcd *d, uint64_t shards, int job)
{
    uint64_t threads = 0;
    bool par = job == PCD_W_SYNC || adapt_par(d);
    for (uint64_t m = shards; m; m &= m - 1) {
        unsigned s = (unsigned)__builtin_ctzll(m);
        if (par && d->wr[s].thread && m != shards) /* not the first: that one is ours */
            threads |= UINT64_C(1) << s;
    }
    if (threads) {
        atomic_store_explicit(&d->pending, (uint32_t)__builtin_popcountll(threads),
                              memory_order_relaxed);
        for (uint64_t m = threads; m; m &= m - 1)
            post(&d->wr[__builtin_ctzll(m)], job);
    }
    for (uint64_t m = shards & ~threads; m; m &= m - 1) {
        pcd_writer *wr = &d->wr[__builtin_ctzll(m)];
        wr->job = job;
        do_job(wr);
    }
    /* A job whose thread has not taken it yet (a busy machine may not have
     * run it since its wake-up) is ours: never wait for a thread to start. */
    for (uint64_t m = threads; m; m &= m - 1) {
        pcd_writer *wr = &d->wr[__builtin_ctzll(m)];
        if (take(wr)) {
            do_job(wr);
            done(d);
        }
    }
    if (threads)
        join(d);
    if (job == PCD_W_RUN && d->st->nshards > 1) {
        size_t reqs = 0;
        for (uint64_t m = shards; m; m &= m - 1)
            reqs += d->wr[__builtin_ctzll(m)].n;
        adapt_note(d, reqs);
    }
}

int pcd_writers_start(pcd *d)
{
    for (unsigned s = 0; s < d->st->nshards; s++) {
        pcd_writer *wr = &d->wr[s];
        wr->d = d;
        wr->shard = s;
        pcs_wctx_init(&wr->w);
        /* A write LMDB finds no pages for: evict and try it again. */
        wr->w.room_fn = pcd_room_hook;
        wr->w.room_arg = wr;
        wr->rng = pcs_now_ms() ^ ((uint64_t)getpid() << 32) ^ (0x9e3779b97f4a7c15ull * (s + 1));
    }
    /* Shard 0 is always the loop's (pcd_writers_run runs the first shard of
     * a job itself), and so is every shard of a store of one. */
    for (unsigned s = 1; s < d->st->nshards; s++) {
        pcd_writer *wr = &d->wr[s];
        int rc = pthread_create(&wr->th, NULL, writer_main, wr);
        if (rc) {
            pcd_log(LOG_WARNING,
                    "cannot start a writer thread for shard %u (%s): the loop runs its writes", s,
                    strerror(rc));
            continue;
        }
        wr->thread = true;
        char name[16];
        snprintf(name, sizeof name, "pycached-w%02u", s % 100u);
        pthread_setname_np(wr->th, name);
    }
    return 0;
}

void pcd_writers_stop(pcd *d)
{
    uint64_t threads = 0;
    for (unsigned s = 0; s < PCS_SHARDS_MAX; s++)
        if (d->wr[s].thread)
            threads |= UINT64_C(1) << s;
    if (threads) {
        atomic_store_explicit(&d->pending, (uint32_t)__builtin_popcountll(threads),
                              memory_order_relaxed);
        for (uint64_t m = threads; m; m &= m - 1)
            post(&d->wr[__builtin_ctzll(m)], PCD_W_STOP);
        for (uint64_t m = threads; m; m &= m - 1) {
            pcd_writer *wr = &d->wr[__builtin_ctzll(m)];
            pthread_join(wr->th, NULL);
            wr->thread = false;
        }
        atomic_store_explicit(&d->pending, 0, memory_order_relaxed);
    }
    for (unsigned s = 0; s < PCS_SHARDS_MAX; s++) {
        pcd_writer *wr = &d->wr[s];
        pcs_wctx_free(&wr->w);
        pcs_buf_free(&wr->out);
        pcs_free(wr->rptr);
        pcs_free(wr->roff);
        pcs_free(wr->idx);
        wr->rptr = NULL;
        wr->roff = wr->idx = NULL;
        wr->cap = wr->n = 0;
    }
}
