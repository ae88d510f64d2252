/*
 * snap.c - snapshots: a thread of their own that writes the store to SQLite
 * (persist/snapshot.c) from one read transaction per shard, the rule that
 * schedules them, answering clients that asked for one, and restoring at
 * start.
 *
 * The loop holds commit_mu while it writes; the thread takes it only to open
 * its read transactions, so a snapshot is the store as of one pass, across
 * every shard, and never blocks a writer for longer than that.
 */
#include <errno.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>
#include <sys/stat.h>
#include <syslog.h>
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
            pcp_snapshot(d->st, &rt, d->cfg.snapshot_dir, d->cfg.snapshot_keep, ++sn->gen, &res);
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
