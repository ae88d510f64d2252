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
        unsigned mask = sn->want & sn->targets;
        sn->want = 0;
        sn->doing = mask;
        sn->running = true;
        pthread_mutex_unlock(&sn->mu);

        /* One read of the store for every target: they hold one moment. */
        pcp_result res[PCD_T__N];
        pcs_rtxns rt;
        pthread_mutex_lock(&d->commit_mu);
        int rc = pcs_rtxns_begin(d->st, &rt);
        pthread_mutex_unlock(&d->commit_mu);
        uint64_t gen = ++sn->gen;
        /* The last target to walk the reads ends each shard's read once
         * that shard is written (pcp_walk). */
        int last = -1;
        for (int t = 0; t < PCD_T__N; t++)
            if (mask & (1u << t))
                last = t;
        for (int t = 0; t < PCD_T__N; t++) {
            if (!(mask & (1u << t)))
                continue;
            if (rc) {
                memset(&res[t], 0, sizeof res[t]);
                res[t].rc = rc;
                res[t].when_ms = pcs_now_ms();
                snprintf(res[t].why, sizeof res[t].why, "cannot begin a read transaction: %s",
                         pc_strerror(rc));
            } else if (t == PCD_T_FILES) {
                pcp_snapshot(d->st, &rt, d->cfg.snapshot_dir, d->cfg.snapshot_keep, gen, t == last,
                             &res[t]);
            } else {
                pcp_db_snapshot(d->st, &rt, &sn->db, gen, t == last, &res[t]);
            }
        }
        pcs_rtxns_end(&rt);

        pthread_mutex_lock(&sn->mu);
        for (int t = 0; t < PCD_T__N; t++)
            if (mask & (1u << t))
                sn->last[t] = res[t];
        sn->last_mask = mask;
        sn->done = seq;
        sn->running = false;
        sn->doing = 0;
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
    if (d->cfg.snapshot_to) {
        if (pcd_config_db(&d->cfg, d->cfg.snapshot_to, &d->snap.db))
            return -1;
        d->snap.targets |= 1u << PCD_T_DB;
    }
    if (!d->cfg.snapshot_dir)
        return 0;
    d->snap.targets |= 1u << PCD_T_FILES;
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
    if (!sn->targets)
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

/* Ask for a snapshot of targets (bits of PCD_T_*) that starts after now;
 * returns its sequence number. */
uint64_t pcd_snap_request(pcd *d, const char *why, unsigned targets)
{
    pcd_snap *sn = &d->snap;
    targets &= sn->targets;
    pthread_mutex_lock(&sn->mu);
    if (sn->requested == sn->started)
        sn->requested++;
    sn->want |= targets;
    uint64_t need = sn->requested;
    pthread_cond_signal(&sn->cv);
    pthread_mutex_unlock(&sn->mu);
    for (int t = 0; t < PCD_T__N; t++)
        if (targets & (1u << t))
            sn->retry_at[t] = 0; /* this one is the try */
    if (targets == sn->targets) {
        d->writes_at_snap = d->writes;
        d->last_snap_ms = pcs_now_ms();
    }
    pcd_log(LOG_INFO, "snapshot requested (%s)", why);
    return need;
}

/* The rule of --snapshot-every: any one of them met starts a snapshot of
 * every target.  A target whose last snapshot failed is tried again, alone,
 * when its back-off has passed. */
void pcd_snap_rules(pcd *d, uint64_t now)
{
    pcd_snap *sn = &d->snap;
    if (!sn->thread)
        return;
    /* started is the thread's to write: read it under the lock (TSan). */
    pthread_mutex_lock(&sn->mu);
    bool pending = sn->requested != sn->started || sn->running;
    pthread_mutex_unlock(&sn->mu);
    if (pending)
        return;
    uint64_t changes = d->writes - d->writes_at_snap;
    for (unsigned i = 0; i < d->cfg.n_rules; i++)
        if (changes >= d->cfg.rule_changes[i] &&
            now - d->last_snap_ms >= (uint64_t)d->cfg.rule_seconds[i] * 1000) {
            pcd_snap_request(d, "schedule", PCD_T_ALL);
            return;
        }
    unsigned again = 0;
    for (int t = 0; t < PCD_T__N; t++)
        if (sn->retry_at[t] && now >= sn->retry_at[t])
            again |= 1u << t;
    if (again)
        pcd_snap_request(d, "trying again after a failure", again);
}

/* The words of a target in the log. */
static const char *target_name(const pcd *d, int t, char *buf, size_t n)
{
    if (t == PCD_T_FILES)
        snprintf(buf, n, "in %s", d->cfg.snapshot_dir);
    else
        snprintf(buf, n, "to %s", d->snap.db.url);
    return buf;
}

/* A target's result, new to the loop: log it, publish it, and after a
 * failure plan the next try (1 s, doubling to 5 minutes). */
static void report(pcd *d, int t, const pcp_result *res, uint64_t now)
{
    pcd_snap *sn = &d->snap;
    char tn[PCP_DB_PATH_MAX + 8];
    target_name(d, t, tn, sizeof tn);
    if (t == PCD_T_FILES) {
        d->stats.snapshot_rc = res->rc;
        d->stats.snapshot_ms = res->when_ms;
        d->stats.snapshot_took_ms = res->took_ms;
        d->stats.snapshot_keys = res->keys;
        d->stats.snapshot_bytes = res->bytes;
    } else {
        d->stats.db_snapshot_rc = res->rc;
        d->stats.db_snapshot_ms = res->when_ms;
        d->stats.db_snapshot_took_ms = res->took_ms;
        d->stats.db_snapshot_keys = res->keys;
    }
    if (res->rc && t == PCD_T_FILES) {
        pcd_log(LOG_ERR, "snapshot failed: %s (%s); the previous snapshots stay", res->why,
                pc_err_name(res->rc));
    } else if (res->rc) {
        sn->backoff_s[t] = sn->backoff_s[t] ? sn->backoff_s[t] * 2 : 1;
        if (sn->backoff_s[t] > 300)
            sn->backoff_s[t] = 300;
        sn->retry_at[t] = now + (uint64_t)sn->backoff_s[t] * 1000;
        pcd_log(LOG_ERR,
                "snapshot %s failed: %s (%s); the previous snapshot there stays; trying again "
                "in %u s",
                tn, res->why, pc_err_name(res->rc), sn->backoff_s[t]);
    } else {
        sn->backoff_s[t] = 0;
        sn->retry_at[t] = 0;
        pcd_log(LOG_NOTICE,
                "snapshot %s: %llu keys, %llu members, %llu bytes in %llu ms (generation %llu)",
                t == PCD_T_FILES ? res->path : tn, (unsigned long long)res->keys,
                (unsigned long long)res->members, (unsigned long long)res->bytes,
                (unsigned long long)res->took_ms, (unsigned long long)res->generation);
    }
    d->stats.db_snapshot_retry_ms = sn->retry_at[PCD_T_DB];
    if (t == PCD_T_FILES && !res->rc && res->ignored)
        pcd_log(LOG_WARNING, "snapshot retention left %u file(s) alone in %s: %s%s", res->ignored,
                d->cfg.snapshot_dir, res->ignored_first, res->ignored > 1 ? "; and others" : "");
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
    unsigned doing = sn->doing;
    pcp_result res[PCD_T__N];
    memcpy(res, sn->last, sizeof res);
    pthread_mutex_unlock(&sn->mu);
    if (sn->targets & (1u << PCD_T_FILES))
        d->stats.snapshot_state = running && (doing & (1u << PCD_T_FILES)) ? 2 : 1;
    if (sn->targets & (1u << PCD_T_DB))
        d->stats.db_snapshot_state = running && (doing & (1u << PCD_T_DB)) ? 2 : 1;
    uint64_t now = pcs_now_ms();
    for (int t = 0; t < PCD_T__N; t++)
        if (res[t].when_ms && res[t].when_ms != sn->seen_ms[t]) {
            sn->seen_ms[t] = res[t].when_ms;
            report(d, t, &res[t], now);
        }
    if (done == d->snap_seen)
        return;
    d->snap_seen = done;
    /* A client is answered with the files' snapshot (else the database's),
     * or the first failure. */
    const pcp_result *ans = &res[sn->targets & (1u << PCD_T_FILES) ? PCD_T_FILES : PCD_T_DB];
    for (int t = 0; t < PCD_T__N; t++)
        if ((sn->targets & (1u << t)) && res[t].rc) {
            ans = &res[t];
            break;
        }
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state != PCD_C_ACTIVE || !c->snap_need || c->snap_need > done)
            continue;
        size_t s = pcs_resp_begin(&c->out, PCS_OP_A_SNAPSHOT, pcs_le64(c->parked.data + 8));
        if (!ans->rc) {
            pcs_out_int(&c->out, (int64_t)ans->keys);
            pcs_out_int(&c->out, (int64_t)ans->bytes);
            pcs_out_int(&c->out, (int64_t)ans->took_ms);
            pcs_out_bytes(&c->out, ans->path, strlen(ans->path));
        }
        pcs_resp_end(&c->out, s, ans->rc, ans->rc ? 0 : 4);
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
    c->snap_need = pcd_snap_request(d, "asked by a client", PCD_T_ALL);
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
        uint64_t need = pcd_snap_request(d, "final, before exit", PCD_T_ALL);
        pthread_mutex_lock(&sn->mu);
        while (sn->done < need)
            pthread_cond_wait(&sn->cv, &sn->mu);
        for (int t = 0; t < PCD_T__N && !rc; t++)
            if (sn->targets & (1u << t))
                rc = sn->last[t].rc;
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
    const char *from = d->cfg.restore_file;
    if (from && pcp_db_is_url(from)) {
        /* --restore mysql://...: from that database, with the target's
         * password file and TLS settings. */
        pcp_db db;
        if (pcd_config_db(&d->cfg, from, &db))
            return -1;
        rc = pcp_db_restore(d->st, &db, &res);
        if (rc) {
            pcd_log(LOG_ERR, "cannot restore from %s: %s (%s)", from, res.why, pc_err_name(rc));
            fprintf(stderr, "pycached: cannot restore from %s: %s\n", from, res.why);
            return -1;
        }
    } else if (from) {
        rc = pcp_restore_file(d->st, from, &res);
        if (rc) {
            pcd_log(LOG_ERR, "cannot restore %s: %s", from, res.why);
            fprintf(stderr, "pycached: cannot restore %s: %s\n", from, res.why);
            return -1;
        }
    } else if ((d->cfg.snapshot_dir || d->cfg.snapshot_to) && flushed_at(d)) {
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
    } else if (d->cfg.snapshot_to) {
        /* Without a snapshot directory, the database is where the data is.
         * A start that cannot read it stops: serving an empty store would
         * let the next snapshot replace the data there with nothing. */
        rc = pcp_db_restore(d->st, &d->snap.db, &res);
        if (rc == PC_EEXIST)
            return 0;
        if (rc == PC_ENOENT && !strstr(res.why, "cannot connect")) {
            pcd_log(LOG_NOTICE, "no snapshot to restore from %s: %s", d->snap.db.url, res.why);
            return 0;
        }
        if (rc) {
            refuse("cannot restore from %s: %s (%s); the daemon does not start on an empty store "
                   "while the snapshot there cannot be read",
                   d->snap.db.url, res.why, pc_err_name(rc));
            return -1;
        }
    } else {
        return 0;
    }
    if (res.generation > d->snap.gen)
        d->snap.gen = res.generation; /* the next snapshot counts on from it */
    pcd_log(LOG_NOTICE, "restored %llu keys from %s in %llu ms (%llu had expired), generation %llu",
            (unsigned long long)res.keys, res.path, (unsigned long long)res.took_ms,
            (unsigned long long)res.skipped, (unsigned long long)res.generation);
    return 0;
}
