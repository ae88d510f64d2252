/*
 * snap.c - snapshots: a thread of their own that writes the store to SQLite
 * (persist/snapshot.c) from one read transaction per shard, the rule that
 * schedules them, answering clients that asked for one, and restoring at
 * start.
 *
 * The loop holds commit_mu while it writes; the thread takes it only to open
 * its read transactions, so a snapshot is the store as of one pass, across
 * every shard, and never blocks a writer for longer than that.
 *
 * The snapshot's own work (reading the store, SQLite) runs in a second
 * thread, started for it, at the lowest priority (nice 19 for that thread
 * alone): on a machine with few cores the writers and the clients go first,
 * and the snapshot takes what CPU they leave.  The thread that takes
 * commit_mu keeps the normal priority, so that no writer ever waits for a
 * lock held by a thread the scheduler keeps waiting (docs/design.md,
 * "Snapshots").
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "../persist/snapshot.h"
#include "../shm/alloc.h"
#include "../shm/bytes.h"
#include "pycached.h"

/* pcd_log through a pcp_log_fn (persist/ logs through it). */
static void log_line(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_line(int prio, const char *fmt, ...)
{
    char buf[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pcd_log(prio, "%s", buf);
}

/* The snapshot's work thread's priority: the lowest that still gets a
 * share of a busy CPU (SCHED_IDLE gets five times less, docs/design.md). */
#define SNAP_NICE 19
/* While its read is open every write takes fresh pages, so the map grows
 * for as long as the snapshot lasts.  At nice 19 that may be long: once a
 * shard's map has grown by as much as it held when the snapshot began (at
 * least GROW_MIN), or by a quarter of the room its map had left, the rest
 * of the snapshot is written at the normal priority. */
#define GROW_MIN (UINT64_C(16) << 20)

/* One snapshot's work, handed to its thread. */
typedef struct snap_job {
    pcd *d;
    pcs_rtxns *rt;
    pcp_snap *sp;
    int rows_rc;  /* what pcp_snap_rows said last */
    int nice_err; /* errno of setpriority, 0 if lowered */
    /* Growth of each shard's map while the snapshot holds its read. */
    uint64_t hwm0[PCS_SHARDS_MAX], grow_max[PCS_SHARDS_MAX];
    bool boost; /* asked to go on at the normal priority */
    unsigned boost_shard;
    uint64_t boost_grown;
    /* Prefaulting (--snapshot-prefault): each shard's state and horizon. */
    bool prefault;
    pcs_prefault pf[PCS_SHARDS_MAX];
    uint64_t ahead[PCS_SHARDS_MAX];
    uint64_t prefaulted; /* bytes, all shards */
    int pf_rc;           /* the first shard that stopped: why */
    unsigned pf_shard;
    int64_t credit;    /* CPU time (us) the prefault may still take */
    uint64_t last_cpu; /* the thread's CPU time at the end of the last tick (0: none yet) */
    uint64_t pf_cpu;   /* CPU time (us) spent prefaulting */
    bool behind;       /* a writer outran the prefault at some point */
} snap_job;

/* The prefault's CPU time is at most half the snapshot's own work's (what
 * the thread spent between ticks), plus a first allowance to fill the
 * horizons: so a snapshot takes at most about half as long again with it,
 * however fast the writers take pages.  Where a fresh page is cheap that
 * covers every page the writers take; where it is not (a hypervisor that
 * charges each page tens of microseconds), a longer snapshot would hold
 * its read longer and make the writers take more fresh pages still
 * (docs/design.md, "Snapshots"). */
#define PREFAULT_SHARE 2 /* one part of prefaulting per this many of work */
#define PREFAULT_FIRST_US 50000
#define PREFAULT_CREDIT_MAX_US 100000
/* Bytes per call, shard after shard. */
#define PREFAULT_CHUNK (UINT64_C(256) << 10)

static uint64_t thread_cpu_us(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts) < 0)
        return 0;
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

/* Has a shard whose read is still open grown past its bound?  Then ask,
 * once, to go on at the normal priority. */
static bool grown_too_much(snap_job *j)
{
    if (j->boost)
        return false;
    for (unsigned s = 0; s < j->d->st->nshards; s++) {
        pcs_shard_info info;
        if (!j->rt->txn[s] || pcs_shard_info_get(&j->d->st->shards[s], &info))
            continue;
        uint64_t hwm = info.pages * j->d->fs_psize;
        if (hwm > j->hwm0[s] && hwm - j->hwm0[s] > j->grow_max[s]) {
            j->boost = true;
            j->boost_shard = s;
            j->boost_grown = hwm - j->hwm0[s];
            return true;
        }
    }
    return false;
}

/* Keep the pages each shard's writer takes next mapped ahead of it, within
 * the CPU credit. */
static void prefault_step(snap_job *j)
{
    uint64_t now = thread_cpu_us();
    if (!j->last_cpu)
        j->credit = PREFAULT_FIRST_US;
    else if (now > j->last_cpu)
        j->credit += (int64_t)(now - j->last_cpu) / PREFAULT_SHARE;
    if (j->credit > PREFAULT_CREDIT_MAX_US)
        j->credit = PREFAULT_CREDIT_MAX_US;
    bool more = true;
    while (more && j->credit > 0) {
        more = false;
        for (unsigned s = 0; s < j->d->st->nshards; s++) {
            if (j->pf[s].rc || !j->rt->txn[s])
                continue; /* stopped, or the shard is written and its read ended */
            pcs_shard_info info;
            if (!pcs_shard_info_get(&j->d->st->shards[s], &info) && j->pf[s].upto &&
                info.pages * j->d->fs_psize > j->pf[s].upto)
                j->behind = true;
            uint64_t did = 0;
            int rc = pcs_shard_prefault(&j->d->st->shards[s], &j->pf[s], j->ahead[s],
                                        PREFAULT_CHUNK, &did);
            j->prefaulted += did;
            more |= did > 0;
            if (rc && !j->pf_rc) {
                j->pf_rc = rc;
                j->pf_shard = s;
            }
            if (rc)
                j->pf[s].rc = rc;
        }
        uint64_t t = thread_cpu_us();
        j->credit -= (int64_t)(t - now);
        j->pf_cpu += t - now;
        now = t;
    }
    j->last_cpu = now;
}

/*
 * Between rows of the snapshot (pcp_tick_fn).  While the snapshot's read
 * transactions are open, every commit takes fresh pages from the end of
 * the map, and the first store into each is a page fault in the writer;
 * at nice 19 the snapshot prefaults them first (docs/design.md,
 * "Snapshots"), never past pcd_fs_ahead: the pages mapped are ones the
 * space reservation holds already, and beyond LMDB's last page they count
 * for nothing in the memory the cap measures.  true (once) when the map
 * grew too much for the snapshot to go on at nice 19; from then on it
 * prefaults no more, to end the read sooner.
 */
static bool snap_tick(void *arg)
{
    snap_job *j = arg;
    if (grown_too_much(j))
        return true;
    if (j->prefault && !j->boost)
        prefault_step(j);
    return false;
}

static void *snap_work(void *arg)
{
    snap_job *j = arg;
    /* On Linux a thread is a task of its own: this lowers this thread only. */
    j->nice_err = setpriority(PRIO_PROCESS, (id_t)syscall(SYS_gettid), SNAP_NICE) < 0 ? errno : 0;
    j->rows_rc = pcp_snap_rows(j->sp);
    return NULL;
}

/*
 * Write the snapshot from rt: its rows in a thread at nice 19, and on at the
 * normal priority in this thread if the map grew too much meanwhile (or no
 * thread could be started).
 */
static void snap_run(pcd *d, pcs_rtxns *rt, uint64_t gen, pcp_result *res)
{
    snap_job j = {.d = d, .rt = rt, .prefault = d->cfg.snapshot_prefault};
    for (unsigned s = 0; s < d->st->nshards; s++) {
        pcs_shard_info info;
        j.ahead[s] = pcd_fs_ahead(d, s);
        j.hwm0[s] = pcs_shard_info_get(&d->st->shards[s], &info) ? 0 : info.pages * d->fs_psize;
        uint64_t room = d->fs_limit[s] > j.hwm0[s] ? d->fs_limit[s] - j.hwm0[s] : 0;
        j.grow_max[s] = j.hwm0[s] > GROW_MIN ? j.hwm0[s] : GROW_MIN;
        if (j.grow_max[s] > room / 4)
            j.grow_max[s] = room / 4;
    }
    pcp_snap_open(d->st, rt, d->cfg.snapshot_dir, d->cfg.snapshot_keep, gen, snap_tick, &j, res,
                  &j.sp);
    if (!j.sp)
        return; /* res says why */
    pthread_t th;
    int rc = pthread_create(&th, NULL, snap_work, &j);
    if (rc) {
        pcd_log(LOG_WARNING,
                "cannot start the snapshot's thread (%s): the snapshot runs at the normal "
                "priority",
                strerror(rc));
        j.rows_rc = PC_EAGAIN;
    } else {
        pthread_setname_np(th, "pycached-snap");
        pthread_join(th, NULL);
    }
    if (j.nice_err)
        pcd_log(LOG_INFO, "cannot lower the snapshot's priority (%s): it ran at the normal one",
                strerror(j.nice_err));
    if (j.boost)
        pcd_log(LOG_NOTICE,
                "the snapshot goes on at the normal priority: while its read held shard %u's "
                "freed pages, the writes grew that shard's map by %llu MiB",
                j.boost_shard, (unsigned long long)(j.boost_grown >> 20));
    while (j.rows_rc == PC_EAGAIN)
        j.rows_rc = pcp_snap_rows(j.sp);
    pcp_snap_close(j.sp);
    if (j.pf_rc == PC_ENOTSUP)
        pcd_log(LOG_INFO, "this kernel cannot prefault (MADV_POPULATE_WRITE, Linux 5.14): writes "
                          "during a snapshot take their fresh pages' faults themselves");
    else if (j.pf_rc)
        pcd_log(LOG_NOTICE, "prefaulting shard %u stopped for this snapshot: %s", j.pf_shard,
                pc_strerror(j.pf_rc));
    if (j.prefault)
        pcd_log(LOG_INFO,
                "the snapshot prefaulted %llu KiB ahead of the writers in %llu ms of its CPU "
                "time%s",
                (unsigned long long)(j.prefaulted >> 10), (unsigned long long)(j.pf_cpu / 1000),
                j.behind ? "; the writers outran it at times" : "");
}

static void *snap_thread(void *arg)
{
    pcd *d = arg;
    pcd_snap *sn = &d->snap;
    pthread_mutex_lock(&sn->mu);
    for (;;) {
        while (!sn->stop && sn->requested == sn->started)
            pthread_cond_wait(&sn->cv, &sn->mu);
        if (sn->requested == sn->started)
            break; /* stopping, nothing asked */
        uint64_t seq = sn->started = sn->requested;
        sn->running = true;
        pthread_mutex_unlock(&sn->mu);

        pcp_result res;
        pcs_rtxns rt;
        pthread_mutex_lock(&d->commit_mu);
        int rc = pcs_rtxns_begin(d->st, &rt);
        pthread_mutex_unlock(&d->commit_mu);
        if (rc) {
            memset(&res, 0, sizeof res);
            res.rc = rc;
            snprintf(res.why, sizeof res.why, "cannot begin a read transaction: %s",
                     pc_strerror(rc));
        } else {
            snap_run(d, &rt, ++sn->gen, &res);
        }
        pcs_rtxns_end(&rt);

        pthread_mutex_lock(&sn->mu);
        sn->last = res;
        sn->done = seq;
        sn->running = false;
        pthread_cond_broadcast(&sn->cv);
        uint64_t one = 1;
        if (write(sn->efd, &one, sizeof one) < 0) {
            /* the loop also looks each pass; a lost wake-up only delays */
        }
    }
    pthread_mutex_unlock(&sn->mu);
    return NULL;
}

static void refuse(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void refuse(const char *fmt, ...)
{
    char buf[2048];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(buf, sizeof buf, fmt, ap);
    va_end(ap);
    pcd_log(LOG_ERR, "%s", buf);
    fprintf(stderr, "pycached: %s\n", buf);
}

/*
 * Before anything else touches it: the snapshot directory must be one we
 * can write (created if missing), that is ours and that nobody else can
 * write: whoever can write there can plant a snapshot to be restored, or
 * remove ours.  A shared directory such as /tmp (sticky, writable by all)
 * is refused too.  Then leftovers of a killed snapshot go, and the
 * generations count on from the highest there.
 */
int pcd_snap_check(pcd *d)
{
    d->snap.efd = -1;
    if (!d->cfg.snapshot_dir)
        return 0;
    const char *dir = d->cfg.snapshot_dir;
    if (mkdir(dir, 0700) < 0 && errno != EEXIST) {
        pcd_log(LOG_ERR, "cannot create the snapshot directory %s: %s", dir, strerror(errno));
        fprintf(stderr, "pycached: cannot create the snapshot directory %s: %s\n", dir,
                strerror(errno));
        return -1;
    }
    struct stat sb;
    errno = 0;
    if (stat(dir, &sb) < 0 || !S_ISDIR(sb.st_mode) || access(dir, W_OK | X_OK) < 0) {
        int e = errno ? errno : ENOTDIR;
        refuse("the snapshot directory %s is not a writable directory: %s", dir, strerror(e));
        return -1;
    }
    if (sb.st_mode & (S_IWGRP | S_IWOTH)) {
        refuse("the snapshot directory %s is writable by %s (mode %04o): anyone who can write "
               "there can plant a snapshot to be restored; run chmod go-w %s, or give a "
               "directory of the daemon's own%s",
               dir, sb.st_mode & S_IWOTH ? "every user" : "its group",
               (unsigned)(sb.st_mode & 07777), dir,
               sb.st_mode & S_ISVTX ? " (a shared directory such as /tmp cannot be one)" : "");
        return -1;
    }
    if (sb.st_uid != geteuid()) {
        refuse("the snapshot directory %s belongs to uid %u, not to the daemon's uid %u: its "
               "owner can plant a snapshot to be restored; run chown %u %s, or give a "
               "directory of the daemon's own",
               dir, (unsigned)sb.st_uid, (unsigned)geteuid(), (unsigned)geteuid(), dir);
        return -1;
    }
    pcp_clean_temp(dir);
    /* Files left alone are logged by the restore and by retention. */
    int rc = pcp_last_generation(dir, NULL, &d->snap.gen);
    if (rc) {
        refuse("cannot read the snapshot directory %s: %s", dir, pc_strerror(rc));
        return -1;
    }
    return 0;
}

int pcd_snap_start(pcd *d)
{
    pcd_snap *sn = &d->snap;
    if (!d->cfg.snapshot_dir)
        return 0;
    sn->efd = eventfd(0, EFD_NONBLOCK | EFD_CLOEXEC);
    if (sn->efd < 0)
        return -1;
    struct epoll_event ev = {.events = EPOLLIN, .data.ptr = &d->snap};
    if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, sn->efd, &ev) < 0)
        return -1;
    pthread_mutex_init(&sn->mu, NULL);
    pthread_cond_init(&sn->cv, NULL);
    if (pthread_create(&sn->th, NULL, snap_thread, d)) {
        pcd_log(LOG_ERR, "cannot start the snapshot thread");
        return -1;
    }
    sn->thread = true;
    d->last_snap_ms = pcs_now_ms();
    return 0;
}

/* Ask for a snapshot that starts after now; returns its sequence number. */
uint64_t pcd_snap_request(pcd *d, const char *why)
{
    pcd_snap *sn = &d->snap;
    pthread_mutex_lock(&sn->mu);
    if (sn->requested == sn->started)
        sn->requested++;
    uint64_t need = sn->requested;
    pthread_cond_signal(&sn->cv);
    pthread_mutex_unlock(&sn->mu);
    d->writes_at_snap = d->writes;
    d->last_snap_ms = pcs_now_ms();
    pcd_log(LOG_INFO, "snapshot requested (%s)", why);
    return need;
}

/* The rule of --snapshot-every: any one of them met starts a snapshot. */
void pcd_snap_rules(pcd *d, uint64_t now)
{
    if (!d->snap.thread)
        return;
    /* started is the thread's to write: read it under the lock (TSan). */
    pthread_mutex_lock(&d->snap.mu);
    bool pending = d->snap.requested != d->snap.started;
    pthread_mutex_unlock(&d->snap.mu);
    if (pending)
        return;
    uint64_t changes = d->writes - d->writes_at_snap;
    for (unsigned i = 0; i < d->cfg.n_rules; i++)
        if (changes >= d->cfg.rule_changes[i] &&
            now - d->last_snap_ms >= (uint64_t)d->cfg.rule_seconds[i] * 1000) {
            pcd_snap_request(d, "schedule");
            return;
        }
}

/* A snapshot finished: log it, publish it, answer the clients waiting. */
void pcd_snap_finished(pcd *d)
{
    pcd_snap *sn = &d->snap;
    uint64_t drain;
    if (read(sn->efd, &drain, sizeof drain) < 0) {
        /* nothing pending: we were called from the pass, not the event */
    }
    pthread_mutex_lock(&sn->mu);
    uint64_t done = sn->done;
    bool running = sn->running;
    pcp_result res = sn->last;
    pthread_mutex_unlock(&sn->mu);
    d->stats.snapshot_state = running ? 2 : 1;
    if (done == d->snap_seen)
        return;
    d->snap_seen = done;
    d->stats.snapshot_rc = res.rc;
    d->stats.snapshot_ms = res.when_ms;
    d->stats.snapshot_took_ms = res.took_ms;
    d->stats.snapshot_keys = res.keys;
    d->stats.snapshot_bytes = res.bytes;
    if (res.rc)
        pcd_log(LOG_ERR, "snapshot failed: %s (%s); the previous snapshots stay", res.why,
                pc_err_name(res.rc));
    else
        pcd_log(LOG_NOTICE,
                "snapshot %s: %llu keys, %llu members, %llu bytes in %llu ms (generation %llu)",
                res.path, (unsigned long long)res.keys, (unsigned long long)res.members,
                (unsigned long long)res.bytes, (unsigned long long)res.took_ms,
                (unsigned long long)res.generation);
    if (!res.rc && res.ignored)
        pcd_log(LOG_WARNING, "snapshot retention left %u file(s) alone in %s: %s%s", res.ignored,
                d->cfg.snapshot_dir, res.ignored_first, res.ignored > 1 ? "; and others" : "");
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE || !c->snap_need || c->snap_need > done)
            continue;
        size_t s = pcs_resp_begin(&c->out, PCS_OP_A_SNAPSHOT, pcs_le64(c->parked.data + 8));
        if (!res.rc) {
            pcs_out_int(&c->out, (int64_t)res.keys);
            pcs_out_int(&c->out, (int64_t)res.bytes);
            pcs_out_int(&c->out, (int64_t)res.took_ms);
            pcs_out_bytes(&c->out, res.path, strlen(res.path));
        }
        pcs_resp_end(&c->out, s, res.rc, res.rc ? 0 : 4);
        c->snap_need = 0;
        c->blocked = false;
    }
}

/* A client asked for a snapshot: park it until one that starts after now is
 * on disk. */
int pcd_snap_ask(pcd *d, pcd_client *c, const void *msg, size_t len)
{
    if (!d->snap.thread)
        return PC_ENOTSUP;
    c->parked.len = 0;
    pcs_buf_put(&c->parked, msg, len);
    if (c->parked.err)
        return PC_ENOMEM;
    c->snap_need = pcd_snap_request(d, "asked by a client");
    c->blocked = true;
    c->parked_deadline = UINT64_MAX;
    return 0;
}

/* SIGTERM: one last snapshot, waited for, then the thread ends.  0, or the
 * final snapshot's error (the exit status says so: main.c). */
int pcd_snap_stop(pcd *d, bool final)
{
    pcd_snap *sn = &d->snap;
    int rc = 0;
    if (!sn->thread)
        return 0;
    if (final) {
        uint64_t need = pcd_snap_request(d, "final, before exit");
        pthread_mutex_lock(&sn->mu);
        while (sn->done < need)
            pthread_cond_wait(&sn->cv, &sn->mu);
        rc = sn->last.rc;
        pthread_mutex_unlock(&sn->mu);
        pcd_snap_finished(d);
        if (rc)
            pcd_log(LOG_ERR,
                    "the final snapshot failed (%s): the store's last state is not on disk; "
                    "exiting with status 3",
                    pc_err_name(rc));
    }
    pthread_mutex_lock(&sn->mu);
    sn->stop = true;
    pthread_cond_broadcast(&sn->cv);
    pthread_mutex_unlock(&sn->mu);
    pthread_join(sn->th, NULL);
    sn->thread = false;
    close(sn->efd);
    return rc;
}

/* When a flush last emptied the store (0: never), from the shards' meta. */
static uint64_t flushed_at(pcd *d)
{
    uint64_t when = 0;
    for (unsigned s = 0; s < d->st->nshards; s++) {
        uint64_t v;
        if (pcs_shard_meta(&d->st->shards[s], "flushed_at", &v) == 0 && v > when)
            when = v;
    }
    return when;
}

/* At start: --restore FILE, or the newest good snapshot into an empty store
 * (not into one that a flush emptied: its keys were meant to go). */
int pcd_snap_restore(pcd *d)
{
    pcp_result res;
    int rc;
    if (d->cfg.restore_file) {
        rc = pcp_restore_file(d->st, d->cfg.restore_file, &res);
        if (rc) {
            pcd_log(LOG_ERR, "cannot restore %s: %s", d->cfg.restore_file, res.why);
            fprintf(stderr, "pycached: cannot restore %s: %s\n", d->cfg.restore_file, res.why);
            return -1;
        }
    } else if (d->cfg.snapshot_dir && flushed_at(d)) {
        pcd_log(LOG_NOTICE, "a flush emptied the store; not restoring a snapshot into it");
        return 0;
    } else if (d->cfg.snapshot_dir) {
        rc = pcp_restore_newest(d->st, d->cfg.snapshot_dir, log_line, &res);
        if (rc == PC_EEXIST)
            return 0; /* the store has data: it is newer than any snapshot */
        if (rc == PC_ENOENT) {
            pcd_log(LOG_NOTICE, "no snapshot to restore in %s", d->cfg.snapshot_dir);
            return 0;
        }
        if (rc) {
            pcd_log(LOG_ERR, "restoring from %s failed: %s", d->cfg.snapshot_dir, pc_strerror(rc));
            return -1;
        }
    } else {
        return 0;
    }
    pcd_log(LOG_NOTICE, "restored %llu keys from %s in %llu ms (%llu had expired), generation %llu",
            (unsigned long long)res.keys, res.path, (unsigned long long)res.took_ms,
            (unsigned long long)res.skipped, (unsigned long long)res.generation);
    return 0;
}
