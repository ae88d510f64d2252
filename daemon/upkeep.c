/*
 * upkeep.c - what the daemon does besides answering requests: the TTL
 * worker, eviction at the memory cap, the sweep of dropped collections,
 * LMDB reader slots, and the statistics page.  Each piece runs in bounded
 * steps between passes, so a million keys expiring together, or a large
 * eviction, never holds up writes for long.
 */
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../shm/access.h"
#include "../shm/alloc.h"
#include "pycached.h"

/* Keys removed by one expiry or eviction step (one write transaction). */
#define STEP_KEYS 500
/* Candidates sampled per key evicted under allkeys-lru/lfu. */
#define EVICT_SAMPLES 16
#define EVICT_BUDGET_MAX 64 /* keys per eviction step at most */
/* Making room for one write LMDB found no pages for: keys per eviction step
 * at most, and how long one pass may wait for readers to move on. */
#define ROOM_BUDGET_MAX 1024
#define ROOM_WAIT_US 100000
/* Refused writes: a log line at most this often. */
#define FULL_LOG_MS 5000

/* ---- memory in use ---- */

/* Measure the store; the cap applies per shard, each has its own map. */
void pcd_measure(pcd *d, uint64_t now)
{
    uint64_t total = 0, worst = 0;
    for (unsigned s = 0; s < d->st->nshards; s++) {
        uint64_t b = 0;
        if (pcs_shard_usage(&d->st->shards[s], &b) == 0) {
            total += b;
            if (b > worst)
                worst = b;
        }
    }
    d->used = total;
    d->worst_shard = worst;
    d->measured_ms = now;
    d->grown = 0;
}

/* Every shard of the store, as a mask. */
static uint64_t all_shards(const pcd *d)
{
    return d->st->nshards == 64 ? UINT64_MAX : (UINT64_C(1) << d->st->nshards) - 1;
}

/* ---- the TTL worker ---- */

/* One bounded expiry step on wr's shard; true when the shard has more due.
 * In the shard's writer (PCD_W_EXPIRE). */
static bool expire_step(pcd *d, pcd_writer *wr)
{
    unsigned did = 0;
    pcs_wctx *w = &wr->w;
    if (pcs_wbegin(w, d->st, wr->shard))
        return false;
    if (pcs_maint(w, PCS_MAINT_EXPIRE, STEP_KEYS, &did) || !did) {
        pcs_wabort(w);
        return false;
    }
    if (pcs_wcommit(w))
        return false;
    wr->up.wrote = true;
    return did >= STEP_KEYS;
}

/* When the next key falls due (ms since the epoch; UINT64_MAX: none has a
 * TTL), from the head of each shard's expiry index. */
static uint64_t next_due(pcd *d)
{
    uint64_t due = UINT64_MAX;
    for (unsigned s = 0; s < d->st->nshards; s++) {
        uint64_t t;
        if (pcs_shard_next_due(&d->st->shards[s], &t))
            return 0; /* cannot say: look again at the next tick */
        if (t < due)
            due = t;
    }
    return due;
}

/* ---- eviction ---- */

/* The shard's own generator (its writer thread draws from it). */
static uint32_t rand_of(void *arg)
{
    pcd_writer *wr = arg;
    uint64_t x = wr->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    wr->rng = x;
    return (uint32_t)((x * 2685821657736338717ull) >> 32);
}

/* Pick an LRU/LFU victim among EVICT_SAMPLES sampled keys of wr's shard. */
static int pick_sampled(pcd *d, pcd_writer *wr, uint8_t *victim, size_t *vlen)
{
    return pcs_evict_sample(&wr->w, &d->shard[wr->shard].sampler, d->access,
                            d->cfg.policy == PC_POLICY_ALLKEYS_LFU, EVICT_SAMPLES, rand_of, wr,
                            victim, vlen);
}

/*
 * One bounded eviction step on wr's shard: up to budget keys, and the
 * members of collections that went.  Returns how many keys went; *none says
 * there was nothing to evict (as opposed to a transaction that failed).
 * In the shard's writer: between passes (PCD_W_EVICT), or during one
 * (pcd_room_hook); it touches nothing of d's but its shard's.
 */
static unsigned evict_step(pcd *d, pcd_writer *wr, unsigned budget, bool *none)
{
    unsigned gone = 0;
    pcs_wctx *w = &wr->w;
    *none = false;
    if (pcs_wbegin(w, d->st, wr->shard))
        return 0;
    for (unsigned i = 0; i < budget; i++) {
        uint8_t key[PC_KEY_MAX];
        size_t klen;
        int rc = d->cfg.policy == PC_POLICY_VOLATILE_TTL ? pcs_evict_soonest(w, key, &klen)
                                                         : pick_sampled(d, wr, key, &klen);
        if (rc == PC_ENOTFOUND && i == 0)
            *none = true;
        bool g;
        if (rc || pcs_evict_key(w, key, klen, &g))
            break;
        gone += g;
    }
    /* Dropped collections: sweep their members now, they are the space. */
    unsigned swept = 0;
    if (!gone || pcs_maint(w, PCS_MAINT_SWEEP, 4096, &swept) || pcs_wcommit(w)) {
        pcs_wabort(w);
        return 0;
    }
    return gone;
}

/*
 * LMDB hands the pages a commit freed to writes only from the transaction
 * after the next one (it cannot tell whether a reader still holds the
 * snapshot before that commit): a write right after an eviction cannot use
 * a page of what went.  So after evicting, commit once more, changing
 * nothing (the shard's sequence number, rewritten as it is).  Returns the
 * id of the eviction's commit, or 0.
 */
static uint64_t settle(pcd *d, pcd_writer *wr)
{
    pcs_shard_info info;
    pcs_wctx *w = &wr->w;
    if (pcs_shard_info_get(&d->st->shards[wr->shard], &info))
        return 0;
    if (pcs_wbegin(w, d->st, wr->shard))
        return info.last_txnid;
    if (pcs_meta_put(w->root, w->sh, "seq", w->seq))
        pcs_wabort(w);
    else
        pcs_wcommit(w);
    return info.last_txnid;
}

/*
 * Keep the next pass under the cap.  incoming: bytes of the writes it is
 * about to run.  Usage is measured (a walk of LMDB's free list) when the
 * estimate -- the last measurement plus twice what was written since --
 * comes near the cap, and at least every 100 ms; eviction then runs first,
 * in steps, until the pass fits (or nothing is left to evict, or a second
 * passed).  Sets d->room: the bytes of growth the pass may still add.
 */
void pcd_make_room(pcd *d, uint64_t now, uint64_t incoming)
{
    uint64_t cap = d->evict_above;
    uint64_t est = d->worst_shard + d->grown + 2 * incoming;
    if (est > cap / 10 * 9 || now - d->measured_ms >= 100) {
        pcd_measure(d, now);
        est = d->worst_shard + 2 * incoming;
    }
    if (est > cap && d->cfg.policy != PC_POLICY_NOEVICTION) {
        /* Evict until the pass fits.  Growth is refused only when nothing is
         * left to evict; a second is the bound on one pass's wait.
         *
         * A step deletes up to `budget` keys in one write transaction, and
         * every key it deletes copies a leaf page: near a full map the step
         * itself can fail for want of free pages (MDB_MAP_FULL), and then
         * evicts nothing.  So a failed step is retried with half the budget,
         * down to one key, whose few pages the last commit's freed pages
         * cover; the budget grows back as steps succeed.
         *
         * Deleting small keys spread over the tree frees whole pages only
         * once most of a leaf's keys are gone, so on a slow or busy machine
         * a second may end while eviction is still getting somewhere.  Then
         * the pass is not refused: it may use the headroom above the cap
         * (up to halfway to the map's end), and the next pass evicts on. */
        uint64_t t0 = pcs_now_ms(), low = cap / 100 * 95;
        bool progressing = false, none_all = false;
        uint64_t evicted = 0; /* shards evicted from (a bit each) */
        for (;;) {
            if (pcs_now_ms() - t0 >= 1000) {
                if (progressing)
                    cap += (d->map_limit - cap) / 2; /* the map as cut to its filesystem */
                break;
            }
            unsigned gone = 0;
            none_all = true;
            for (unsigned s = 0; s < d->st->nshards; s++)
                d->wr[s].up.budget = d->evict_budget;
            pcd_writers_run(d, all_shards(d), PCD_W_EVICT); /* a step in each, at once */
            for (unsigned s = 0; s < d->st->nshards; s++) {
                const pcd_writer *wr = &d->wr[s];
                if (wr->up.gone)
                    evicted |= UINT64_C(1) << s;
                gone += wr->up.gone;
                none_all &= wr->up.none;
            }
            if (none_all)
                break;
            progressing |= gone > 0;
            if (!gone) {
                if (d->evict_budget == 1)
                    break; /* not even one key: nothing more to do now */
                d->evict_budget /= 2;
                continue;
            }
            if (d->evict_budget < EVICT_BUDGET_MAX)
                d->evict_budget *= 2;
            pcd_measure(d, pcs_now_ms());
            if (d->worst_shard + 2 * incoming <= low)
                break;
        }
        /* What went is for this pass's writes: let them have its pages. */
        if (evicted) {
            pcd_writers_run(d, evicted, PCD_W_SETTLE);
            for (uint64_t m = evicted; m; m &= m - 1) {
                unsigned s = (unsigned)__builtin_ctzll(m);
                d->shard[s].room_txnid = d->wr[s].up.txnid;
            }
            d->unsynced = true;
        }
        d->room_why = none_all ? "nothing left to evict"
                               : "eviction found no free pages to work in for a second";
    } else {
        d->room_why = "the store is at its cap";
    }
    d->room = d->worst_shard < cap ? cap - d->worst_shard : 0;
}

/* After a pass: what it may have added, until the next measurement. */
void pcd_note_growth(pcd *d, uint64_t bytes)
{
    d->grown += 2 * bytes;
}

/*
 * Work between passes: at most one bounded step of expiry per call.  Returns
 * true if it did something (the loop then does not sleep).
 */
bool pcd_upkeep_step(pcd *d, uint64_t now)
{
    /* The TTL worker's tick, skipped while nothing can be due: the daemon
     * then sleeps until the soonest expiry instead of every interval. */
    if (d->cfg.expire_interval_ms && now >= d->next_expire &&
        (!d->next_due || now >= d->next_due)) {
        d->next_expire = now + d->cfg.expire_interval_ms;
        d->expire_due = (UINT64_C(1) << d->st->nshards) - 1;
        if (d->st->nshards == 64)
            d->expire_due = UINT64_MAX;
    }
    if (d->expire_due && d->cfg.expire_interval_ms) {
        /* A step in every shard with keys due, each in its writer's thread,
         * at once; in the loop alone, one shard's step between passes. */
        uint64_t step = d->expire_due;
        if (!pcd_writers_par(d))
            step &= -step;
        pcd_writers_run(d, step, PCD_W_EXPIRE);
        for (uint64_t m = step; m; m &= m - 1) {
            unsigned s = (unsigned)__builtin_ctzll(m);
            if (!d->wr[s].up.more)
                d->expire_due &= ~(UINT64_C(1) << s);
            d->unsynced |= d->wr[s].up.wrote;
        }
        if (!d->expire_due)
            d->next_due = next_due(d);
        return true;
    }
    return false;
}

/* Idle upkeep: sweep members of dropped collections a little at a time,
 * each shard in its writer. */
void pcd_sweep_idle(pcd *d)
{
    pcd_writers_run(d, all_shards(d), PCD_W_SWEEP);
    for (unsigned s = 0; s < d->st->nshards; s++)
        d->unsynced |= d->wr[s].up.wrote;
}

void pcd_upkeep_job(pcd *d, pcd_writer *wr, int job)
{
    wr->up.wrote = false;
    switch (job) {
    case PCD_W_EXPIRE:
        wr->up.more = expire_step(d, wr);
        break;
    case PCD_W_EVICT:
        wr->up.gone = evict_step(d, wr, wr->up.budget, &wr->up.none);
        break;
    case PCD_W_SETTLE:
        wr->up.txnid = settle(d, wr);
        break;
    case PCD_W_SWEEP: {
        unsigned did = 0;
        pcs_wctx *w = &wr->w;
        if (pcs_wbegin(w, d->st, wr->shard))
            break;
        if (pcs_maint(w, PCS_MAINT_SWEEP, 4096, &did) || !did)
            pcs_wabort(w);
        else if (pcs_wcommit(w) == 0)
            wr->up.wrote = true;
        break;
    }
    default:
        break;
    }
}

void pcd_touch(pcd *d, const void *key, size_t klen, uint64_t now)
{
    if (d->access)
        pcs_access_touch(d->access, pcs_access_slot(key, klen), now,
                         d->cfg.policy == PC_POLICY_ALLKEYS_LFU, pcd_rand(d));
}

/* ---- reader slots ---- */

/*
 * Which process holds LMDB's byte lock for reader pid rpid on shard s: its
 * pid in the daemon's namespace.  LMDB writes each reader's getpid() in the
 * reader table, in the reader's own pid namespace, and locks byte rpid of
 * the lock file (fcntl) while that process has the store open; F_GETLK
 * reports the holder as this process sees it.  0 when the kernel cannot say
 * (no such lock, the holder out of our namespace's sight, an error).
 */
static pid_t pidlock_holder(pcd *d, unsigned s, int rpid)
{
    pcd_shard_state *ss = &d->shard[s];
    if (!ss->pidlock_open) {
        char path[4096];
        snprintf(path, sizeof path, "%s/data-%02u.mdb-lock", d->st->dir, s);
        ss->pidlock_fd = open(path, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
        ss->pidlock_open = ss->pidlock_fd >= 0;
        if (!ss->pidlock_open)
            return 0;
    }
    struct flock fl = {.l_type = F_RDLCK, .l_whence = SEEK_SET, .l_start = rpid, .l_len = 1};
    if (rpid <= 0 || fcntl(ss->pidlock_fd, F_GETLK, &fl) < 0 || fl.l_type == F_UNLCK)
        return 0;
    return fl.l_pid > 0 ? fl.l_pid : 0;
}

/*
 * --max-read-age: a process that holds an outdated snapshot for longer pins
 * pages that writes cannot reuse.  LMDB gives no safe way to take a live
 * process's reader slot away, so the daemon does what it can: it logs it,
 * and closes that process's connections, so its next call fails with
 * PC_ECONNRESET instead of going on as if nothing happened.  The pages come
 * back when its read ends or it exits.
 *
 * rpid is the reader table's pid, in the reader's own pid namespace, which
 * need not be the daemon's: the process is the holder of LMDB's lock for
 * that pid (pidlock_holder).  When the kernel cannot say, a client matches
 * only if its hello's pid is rpid and agrees with SO_PEERCRED (the same
 * namespace).  A slot that matches no client is logged and left alone.
 */
static void stalled_reader(pcd *d, unsigned s, int rpid, uint64_t age_ms)
{
    pid_t who = pidlock_holder(d, s, rpid);
    if (!who) {
        for (size_t i = 0; i < d->ncl && !who; i++) {
            const pcd_client *c = d->cl[i];
            if (c->state == PCD_C_ACTIVE && c->self_pid == rpid && c->pid == rpid)
                who = rpid;
        }
    }
    if (who == getpid())
        who = 0; /* the daemon's own (ring-only) reads end within the pass */
    bool any = false;
    for (size_t i = 0; who && i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state == PCD_C_ACTIVE && c->pid == who) {
            pcd_client_close(d, c, "its process held a read open past --max-read-age");
            any = true;
        }
    }
    if (any || d->stalled_pid != rpid) {
        char as[64] = "";
        if (who && who != rpid)
            snprintf(as, sizeof as, " (pid %d here)", (int)who);
        pcd_log(LOG_WARNING,
                "process %d%s has held an outdated snapshot for %llu s (--max-read-age %u)%s", rpid,
                as, (unsigned long long)(age_ms / 1000), d->cfg.max_read_age_s,
                any ? "" : "; no client of this daemon is that process: left alone");
    }
    d->stalled_pid = rpid;
}

/* Clear dead processes' slots; find how long the oldest open read has held
 * a snapshot that a newer commit replaced. */
void pcd_readers(pcd *d, uint64_t now)
{
    unsigned used = 0;
    uint64_t oldest = 0;
    for (unsigned s = 0; s < d->st->nshards; s++) {
        const pcs_shard *sh = &d->st->shards[s];
        int dead = 0;
        pcs_shard_reader_check(sh, &dead);
        if (dead)
            pcd_log(LOG_INFO, "cleared %d reader slot(s) of dead processes", dead);
        pcs_readers rs;
        pcs_shard_readers(sh, &rs);
        used += rs.used;
        pcs_shard_info info;
        if (pcs_shard_info_get(sh, &info))
            info.last_txnid = 0; /* cannot say: no reader counts as stale */
        pcd_shard_state *ss = &d->shard[s];
        /* A reader on an older snapshot than the newest pins pages; its age
         * counts from when we first saw it holding that snapshot. */
        if (rs.min_txnid < info.last_txnid) {
            if (ss->pin_txnid != rs.min_txnid) {
                ss->pin_txnid = rs.min_txnid;
                ss->pin_since = now;
            }
            if (now - ss->pin_since > oldest)
                oldest = now - ss->pin_since;
            if (d->cfg.max_read_age_s && now - ss->pin_since > d->cfg.max_read_age_s * 1000ull)
                stalled_reader(d, s, rs.min_pid, now - ss->pin_since);
        } else {
            ss->pin_txnid = 0;
        }
    }
    d->readers_used = used;
    d->oldest_reader_ms = oldest;
}

/* ---- making room for a write ---- */

/* The oldest snapshot a reader of shard s holds (UINT64_MAX: none), and
 * the process holding it. */
static uint64_t oldest_read(pcd *d, unsigned s, int *pid)
{
    pcs_readers rs;
    pcs_shard_readers(&d->st->shards[s], &rs);
    *pid = rs.min_pid;
    return rs.min_txnid;
}

/*
 * pcs_run calls this when a write on shard s failed because LMDB found no
 * pages for it (MDB_MAP_FULL), and runs the write again while this returns
 * true.  The cap check before the pass counts pages, but that is not the
 * same as this write fitting: a value larger than a page needs a run of
 * contiguous pages, and free pages scattered over the free list do not
 * make one; pages that eviction freed cannot be reused until the commit
 * after next; and none that a reader's snapshot still holds can be.
 *
 * So evict, commit once more (settle), and let the write try again: one
 * key first, then twice as many each round (up to ROOM_BUDGET_MAX), until
 * the write succeeds or nothing is left to evict.  Every round that goes
 * on evicts at least a key, so this ends.  A failing eviction step (it too
 * needs pages) is retried with half the keys, down to one.  When a reader
 * that began before the last eviction still holds its pages, evicting more
 * would not help: wait for it a little (ROOM_WAIT_US per pass, readers are
 * quick), then refuse.  noeviction never evicts.
 */
bool pcd_room_hook(void *arg, unsigned s, const pcs_req *rq, unsigned round)
{
    pcd_writer *wr = arg;
    pcd *d = wr->d;
    pcd_shard_state *ss = &d->shard[s];
    (void)rq;
    if (d->cfg.policy == PC_POLICY_NOEVICTION) {
        snprintf(wr->refused_why, sizeof wr->refused_why, "the map is full");
        return false;
    }
    if (round == 0)
        wr->room_budget = 1;
    int pid;
    if (ss->room_txnid && oldest_read(d, s, &pid) <= ss->room_txnid) {
        if (wr->room_waited_us >= ROOM_WAIT_US) {
            snprintf(wr->refused_why, sizeof wr->refused_why,
                     "process %d holds an old snapshot: the pages eviction freed cannot be "
                     "reused yet",
                     pid);
            return false;
        }
        struct timespec ts = {0, 500000};
        nanosleep(&ts, NULL);
        wr->room_waited_us += 500;
        return true;
    }
    bool none;
    unsigned gone = evict_step(d, wr, wr->room_budget, &none);
    if (gone) {
        ss->room_txnid = settle(d, wr);
        if (wr->room_budget < ROOM_BUDGET_MAX)
            wr->room_budget *= 2;
        return true;
    }
    if (none) {
        snprintf(wr->refused_why, sizeof wr->refused_why, "nothing left to evict");
        return false;
    }
    if (wr->room_budget > 1) {
        wr->room_budget /= 2;
        return true;
    }
    snprintf(wr->refused_why, sizeof wr->refused_why,
             "no free pages left even to evict a key with");
    return false;
}

/* ---- refused writes ---- */

void pcd_note_refused(pcd *d, uint64_t now)
{
    d->refused++;
    pcd_log_refused(d, now);
}

/* A line for the refusals since the last one, at most every FULL_LOG_MS
 * (the loop's housekeeping calls this too, so a count is never left out). */
void pcd_log_refused(pcd *d, uint64_t now)
{
    if (!d->refused || (d->refused_log_ms && now - d->refused_log_ms < FULL_LOG_MS))
        return;
    char since[48] = "";
    if (d->refused_log_ms)
        snprintf(since, sizeof since, " in the last %.1f s",
                 (double)(now - d->refused_log_ms) / 1000);
    pcd_log(LOG_WARNING,
            "store full: %llu write(s) refused with PC_EFULL%s: %s (--eviction %s; "
            "fullest shard: %.1f MiB in use, eviction above %.1f MiB, map %.1f MiB)",
            (unsigned long long)d->refused, since, d->refused_why[0] ? d->refused_why : "full",
            pc_policy_name(d->cfg.policy), (double)d->worst_shard / (1 << 20),
            (double)d->evict_above / (1 << 20), (double)d->st->map_size / (1 << 20));
    d->refused = 0;
    d->refused_log_ms = now;
}

/* ---- statistics ---- */

void pcd_note_pass(pcd *d, size_t items, uint64_t us)
{
    d->stats.rounds++;
    d->stats.round_size[pcd_log2_bucket(items)]++;
    d->stats.round_us[pcd_log2_bucket(us)]++;
}

_Static_assert(PC_SHARDS_STATS_MAX == PCS_SHARDS_MAX, "every shard has its statistics");

/* Gather what is measured rather than counted, then publish the page. */
void pcd_stats_publish(pcd *d, uint64_t now)
{
    pc_stats *st = &d->stats;
    uint64_t c[PCS_COUNTS] = {0};
    for (unsigned s = 0; s < d->st->nshards; s++) {
        uint64_t sc[PCS_COUNTS];
        if (pcs_shard_counts(&d->st->shards[s], sc) == 0)
            for (unsigned i = 0; i < PCS_COUNTS; i++)
                c[i] += sc[i];
    }
    st->keys[0] = 0;
    for (int t = 1; t < PC_T__COUNT; t++) {
        st->keys[t] = c[pcs_c_type((pc_type)t)];
        st->keys[0] += st->keys[t];
    }
    st->keys_ttl = c[PCS_C_TTL];
    st->expired = c[PCS_C_EXPIRED];
    st->evicted = c[PCS_C_EVICTED];
    st->swept = c[PCS_C_SWEPT];
    /* Writes since the last measurement (which the cap check makes only when
     * it needs one): measure now, or the page shows bytes_used from before
     * a burst of writes until the next write comes. */
    if (d->grown)
        pcd_measure(d, now);
    st->bytes_used = d->used;
    st->max_memory = d->st->map_size * d->st->nshards;
    st->max_memory_fs = d->fs_total < st->max_memory ? d->fs_total : 0;
    st->evict_above = d->evict_above * d->st->nshards;
    st->policy = (uint32_t)d->cfg.policy;
    st->expire_interval_ms = d->cfg.expire_interval_ms;
    st->shards = d->st->nshards;
    st->readers_used = d->readers_used;
    st->readers_max = d->st->max_readers * d->st->nshards;
    st->oldest_reader_ms = d->oldest_reader_ms;
    st->buffered = d->held;
    st->buffered_peak = d->held_peak;
    uint32_t trusted = 0, ring = 0;
    uint64_t hit = d->hits_gone, miss = d->misses_gone;
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *cl = d->cl[i];
        if (cl->state != PCD_C_ACTIVE)
            continue;
        if (cl->ring_only)
            ring++;
        else
            trusted++;
        hit += atomic_load_explicit(&cl->hdr->reads_hit, memory_order_relaxed);
        miss += atomic_load_explicit(&cl->hdr->reads_miss, memory_order_relaxed);
    }
    st->clients_trusted = trusted;
    st->clients_ring_only = ring;
    st->reads_hit = hit;
    st->reads_miss = miss;
    st->taken_ms = now;

    pcs_dpage *dp = d->dpage;
    uint32_t seq = atomic_load_explicit(&dp->stats_seq, memory_order_relaxed);
    atomic_store_explicit(&dp->stats_seq, seq + 1, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    memcpy((void *)&dp->stats, st, sizeof *st);
    for (unsigned s = 0; s < d->st->nshards; s++) {
        const pcd_writer *wr = &d->wr[s];
        pc_shard_stats *o = (pc_shard_stats *)&dp->shard_stats[s];
        o->writes = atomic_load_explicit(&wr->ct.writes, memory_order_relaxed);
        o->commits = atomic_load_explicit(&wr->ct.commits, memory_order_relaxed);
        o->failed = atomic_load_explicit(&wr->ct.failed, memory_order_relaxed);
        o->busy_us = atomic_load_explicit(&wr->ct.busy_us, memory_order_relaxed);
        for (unsigned b = 0; b < PC_STATS_HIST; b++)
            o->commit_size[b] = atomic_load_explicit(&wr->ct.commit_size[b], memory_order_relaxed);
    }
    atomic_store_explicit(&dp->stats_seq, seq + 2, memory_order_release);
}
