/*
 * main.c - pycached: settings, the store's lock, daemonizing (the parent
 * returns only once the daemon serves, with its exit status), the store,
 * the daemon page, and the loop.
 */
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>
#ifdef HAVE_LIBSYSTEMD
#include <systemd/sd-daemon.h>
#endif

#include "../shm/access.h"
#include "../shm/alloc.h"
#include "../shm/hello.h"
#include "pycached.h"

static int default_dir(pcd_config *cfg)
{
    char buf[4096];
    const char *xdg = getenv("XDG_RUNTIME_DIR");
    if (geteuid() == 0)
        snprintf(buf, sizeof buf, "/run/pycache");
    else if (xdg && *xdg)
        snprintf(buf, sizeof buf, "%s/pycache", xdg);
    else {
        fprintf(stderr, "pycached: no store directory: give -d DIR (XDG_RUNTIME_DIR is unset)\n");
        return -1;
    }
    cfg->dir = pcs_strdup(buf);
    return cfg->dir ? 0 : -1;
}

/*
 * Hold the store: an exclusive flock on DIR/pycached.pid (never through a
 * link: pcd_open_own).  A second daemon, or a daemon over a store that
 * embedded clients have open (they hold it shared), is refused with a
 * message that says which.
 */
static int take_lock(pcd *d)
{
    d->lock_fd = pcd_open_own(&d->cfg, PCS_LOCK_NAME, O_RDWR | O_CREAT, 0600);
    if (d->lock_fd < 0)
        return -1;
    if (flock(d->lock_fd, LOCK_EX | LOCK_NB) == 0)
        return 0;
    char pid[32] = "";
    ssize_t n = pread(d->lock_fd, pid, sizeof pid - 1, 0);
    pid[n > 0 ? n : 0] = 0;
    pid[strcspn(pid, "\n")] = 0;
    if (*pid)
        fprintf(stderr, "pycached: %s is already served by pycached (pid %s)\n", d->cfg.dir, pid);
    else
        fprintf(stderr, "pycached: %s is open by embedded clients; close them before serving it\n",
                d->cfg.dir);
    return -1;
}

/*
 * What a start found in DIR.  A start that fails removes what it created --
 * a new store's files, the pid file, the directory -- so that a bad setting
 * does not stay written in a store that every later start then refuses;
 * a store that was there before is never touched.
 */
typedef struct found {
    bool dir, pid;
    uint64_t data, lock; /* bit s: data-NN.mdb, data-NN.mdb-lock existed */
} found;

static bool exists_in(const char *dir, const char *name)
{
    char path[4200];
    struct stat sb;
    snprintf(path, sizeof path, "%s/%s", dir, name);
    return lstat(path, &sb) == 0;
}

static void survey(const char *dir, found *f)
{
    struct stat sb;
    memset(f, 0, sizeof *f);
    f->dir = stat(dir, &sb) == 0;
    f->pid = exists_in(dir, PCS_LOCK_NAME);
    for (unsigned s = 0; s < PCS_SHARDS_MAX; s++) {
        char name[32];
        snprintf(name, sizeof name, "data-%02u.mdb", s);
        if (exists_in(dir, name))
            f->data |= UINT64_C(1) << s;
        snprintf(name, sizeof name, "data-%02u.mdb-lock", s);
        if (exists_in(dir, name))
            f->lock |= UINT64_C(1) << s;
    }
}

/* After a failed start: remove what it created (see found). */
static void remove_created(const char *dir, const found *f)
{
    char path[4200];
    if (f->data & 1)
        return; /* the store was there before: leave it as it is */
    for (unsigned s = 0; s < PCS_SHARDS_MAX; s++) {
        if (!(f->data >> s & 1)) {
            snprintf(path, sizeof path, "%s/data-%02u.mdb", dir, s);
            unlink(path);
        }
        if (!(f->lock >> s & 1)) {
            snprintf(path, sizeof path, "%s/data-%02u.mdb-lock", dir, s);
            unlink(path);
        }
    }
    if (!f->pid) {
        snprintf(path, sizeof path, "%s/%s", dir, PCS_LOCK_NAME);
        unlink(path);
    }
    if (!f->dir)
        rmdir(dir); /* only if empty: anything else in it stays */
}

static void write_pid(pcd *d)
{
    char buf[32];
    int n = snprintf(buf, sizeof buf, "%d\n", (int)getpid());
    if (ftruncate(d->lock_fd, 0) < 0 || pwrite(d->lock_fd, buf, (size_t)n, 0) != n)
        pcd_log(LOG_WARNING, "cannot write the pid file: %s", strerror(errno));
}

/*
 * Fork into the background.  The parent waits on a pipe and exits with the
 * daemon's verdict: 0 once it serves, 1 if it failed (it said why on
 * stderr, which stays the terminal's until then).
 */
static int daemonize(int *ready_fd)
{
    int p[2];
    if (pipe2(p, O_CLOEXEC) < 0)
        return -1;
    pid_t pid = fork();
    if (pid < 0)
        return -1;
    if (pid > 0) {
        close(p[1]);
        char ok = 0;
        ssize_t n;
        do
            n = read(p[0], &ok, 1);
        while (n < 0 && errno == EINTR);
        _exit(n == 1 && ok == 'R' ? 0 : 1);
    }
    close(p[0]);
    if (setsid() < 0)
        return -1;
    pid = fork(); /* not a session leader: never gets a terminal again */
    if (pid < 0)
        return -1;
    if (pid > 0)
        _exit(0);
    if (chdir("/") < 0)
        return -1;
    umask(0077);
    *ready_fd = p[1];
    return 0;
}

static void detach_stdio(void)
{
    int fd = open("/dev/null", O_RDWR);
    if (fd < 0)
        return;
    dup2(fd, STDIN_FILENO);
    dup2(fd, STDOUT_FILENO);
    dup2(fd, STDERR_FILENO);
    if (fd > STDERR_FILENO)
        close(fd);
}

/* The daemon page: clients can only map it read-only. */
static int make_dpage(pcd *d)
{
    d->dpage_fd = memfd_create("pycache-daemon", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (d->dpage_fd < 0 || ftruncate(d->dpage_fd, PCS_DPAGE_SIZE) < 0)
        return -1;
    d->dpage = mmap(NULL, PCS_DPAGE_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->dpage_fd, 0);
    if (d->dpage == MAP_FAILED)
        return -1;
    memset(d->dpage, 0, sizeof *d->dpage);
    d->dpage->magic = PCS_DPAGE_MAGIC;
    d->dpage->version = PCS_DPAGE_VERSION;
    d->dpage->pid = (uint32_t)getpid();
    d->dpage->started_ms = pcs_now_ms();
    /* The liveness word (pcs_dpage.live): held by this thread while we
     * serve, marked by the kernel when we die.  Check that the word holds
     * our thread id, as clients will read it. */
    pthread_mutexattr_t ma;
    pthread_mutexattr_init(&ma);
    pthread_mutexattr_setpshared(&ma, PTHREAD_PROCESS_SHARED);
    pthread_mutexattr_setrobust(&ma, PTHREAD_MUTEX_ROBUST);
    int mrc = pthread_mutex_init(&d->dpage->live.mu, &ma);
    pthread_mutexattr_destroy(&ma);
    if (mrc || pthread_mutex_lock(&d->dpage->live.mu))
        return -1;
    d->live_held = true;
    if ((d->dpage->live.word & PCS_LIVE_TID_MASK) != ((uint32_t)gettid() & PCS_LIVE_TID_MASK) ||
        !pcs_daemon_alive(d->dpage)) {
        pcd_log(LOG_ERR, "this C library's robust mutexes do not keep the owner's thread id "
                         "in their first word: clients could not tell when the daemon dies");
        return -1;
    }
    if (fcntl(d->dpage_fd, F_ADD_SEALS,
              F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_FUTURE_WRITE | F_SEAL_SEAL) < 0)
        return -1;
    return 0;
}

/* The access array, for allkeys-lru/lfu: trusted clients map it read-write
 * and record their reads in it (shm/access.h). */
static int make_access(pcd *d)
{
    if (d->cfg.policy != PC_POLICY_ALLKEYS_LRU && d->cfg.policy != PC_POLICY_ALLKEYS_LFU)
        return 0;
    d->access_fd = memfd_create("pycache-access", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (d->access_fd < 0 || ftruncate(d->access_fd, (off_t)PCS_ACCESS_SIZE) < 0 ||
        fcntl(d->access_fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        return -1;
    void *m = mmap(NULL, PCS_ACCESS_SIZE, PROT_READ | PROT_WRITE, MAP_SHARED, d->access_fd, 0);
    if (m == MAP_FAILED)
        return -1;
    d->access = m;
    return 0;
}

/*
 * --max-memory given for an existing store of another size: grow every
 * shard's map.  A map does not shrink: refused, and nothing changes.
 */
static int resize_store(pcd *d)
{
    uint64_t was = d->st->map_size, need = 0;
    int rc = pcs_store_resize(d->st, d->cfg.max_memory, &need);
    if (rc == PC_EFULL || rc == PC_ERANGE) {
        char msg[600];
        snprintf(msg, sizeof msg,
                 "--max-memory %llu is %s: the store in %s has a map of %llu bytes per shard "
                 "and its data reaches %llu; a map can grow but not shrink; give --max-memory "
                 "%llu or more, or leave it out (the store is unchanged)",
                 (unsigned long long)d->cfg.max_memory,
                 rc == PC_EFULL ? "too small for what the store holds" : "smaller than the map",
                 d->cfg.dir, (unsigned long long)was, (unsigned long long)need,
                 (unsigned long long)was);
        pcd_log(LOG_ERR, "%s", msg);
        fprintf(stderr, "pycached: %s\n", msg);
        return -1;
    }
    if (rc) {
        pcd_log(LOG_ERR, "cannot resize the store's map to %llu bytes: %s",
                (unsigned long long)d->cfg.max_memory, pc_strerror(rc));
        return -1;
    }
    pcd_log(LOG_NOTICE, "the store's map grew from %llu to %llu bytes per shard (--max-memory)",
            (unsigned long long)was, (unsigned long long)d->st->map_size);
    return 0;
}

static int open_store(pcd *d)
{
    pcs_params p = {
        .map_size = d->cfg.max_memory,
        .max_value = d->cfg.max_value,
        .shards = d->cfg.shards,
        .max_readers = d->cfg.max_readers,
        .create = true,
        .nosync = d->cfg.sync != PCD_SYNC_ALWAYS,
        .file_mode = 0600, /* opened up for --allow-group below, the data file read-only */
    };
    int rc = pcs_store_open(d->cfg.dir, PCS_MODE_DAEMON, &p, &d->st);
    if (rc) {
        pcd_log(LOG_ERR, "cannot open the store in %s: %s", d->cfg.dir, pc_strerror(rc));
        return -1;
    }
    if (d->cfg.max_memory_set && d->st->map_size != d->cfg.max_memory && resize_store(d))
        return -1;
    if ((d->cfg.shards_set && d->st->nshards != d->cfg.shards) ||
        d->st->map_size != d->cfg.max_memory)
        pcd_log(LOG_NOTICE,
                "the store keeps the shape it was created with: %u shard(s), map %llu bytes",
                d->st->nshards, (unsigned long long)d->st->map_size);
    if (pcd_fs_open(d))
        return -1;
    /* Peers of --allow-group map the store: they need its files. */
    if (pcd_store_files_modes(&d->cfg, d->st->nshards))
        return -1;
    pcs_reader_init(&d->reader, d->st, NULL, NULL);
    return 0;
}

static void shutdown_all(pcd *d)
{
    /* We serve no more: clients' next reads see it (see make_dpage). */
    if (d->live_held) {
        pthread_mutex_unlock(&d->dpage->live.mu);
        d->live_held = false;
    }
    pcd_snap_stop(d, false);
    for (size_t i = 0; i < d->ncl; i++)
        pcd_client_close(d, d->cl[i], NULL);
    pcd_reap(d);
    pcs_free(d->cl);
    pcs_reader_fini(&d->reader);
    pcd_writers_stop(d);
    pcs_buf_free(&d->arena);
    pcs_buf_free(&d->scratch);
    pcs_free(d->items);
    if (d->st)
        pcs_store_release(d->st);
    if (d->lsock >= 0)
        pcd_unlink_own(PCS_SOCK_NAME); /* ours: made by pcd_listen */
    if (d->lock_fd >= 0 && ftruncate(d->lock_fd, 0) < 0)
        pcd_log(LOG_WARNING, "cannot clear the pid file");
}

int main(int argc, char **argv)
{
    static pcd d;
    d.lock_fd = d.lsock = d.epfd = d.sigfd = d.dpage_fd = d.access_fd = -1;
    pcd_config_defaults(&d.cfg);
    int rc = pcd_config_args(&d.cfg, argc, argv);
    if (rc)
        return rc > 0 ? 0 : 2;
    if ((!d.cfg.dir && default_dir(&d.cfg)) || pcd_config_paths(&d.cfg, NULL) ||
        pcd_config_check(&d.cfg))
        return 2;
    found before;
    survey(d.cfg.dir, &before);
    if (pcd_dir_prepare(&d.cfg)) {
        if (!before.dir)
            rmdir(d.cfg.dir); /* only if we made it, and it is empty */
        return 1;
    }
    if (take_lock(&d))
        return 1;
    if (pcd_dir_settle(&d.cfg) || pcd_store_files_check(&d.cfg)) {
        remove_created(d.cfg.dir, &before);
        return 1;
    }
    int ready = -1;
    if (!d.cfg.foreground && daemonize(&ready) < 0) {
        fprintf(stderr, "pycached: cannot daemonize: %s\n", strerror(errno));
        remove_created(d.cfg.dir, &before);
        return 1;
    }
    if (pcd_log_open(&d.cfg)) {
        remove_created(d.cfg.dir, &before);
        return 1;
    }
    write_pid(&d);
    pthread_mutex_init(&d.commit_mu, NULL);
    if (d.cfg.snapshot_to || pcp_db_is_url(d.cfg.restore_file))
        pcp_db_library_init(); /* before the snapshot thread */
    if (pcd_fs_precheck(&d) || open_store(&d) || pcd_snap_check(&d) || pcd_snap_restore(&d) ||
        make_dpage(&d) || make_access(&d) || pcd_listen(&d) || pcd_loop_setup(&d) ||
        pcd_snap_start(&d)) {
        pcd_log(LOG_ERR, "pycached did not start");
        fprintf(stderr, "pycached: did not start (see the log)\n");
        shutdown_all(&d);
        remove_created(d.cfg.dir, &before);
        return 1;
    }
    d.rng = pcs_now_ms() ^ ((uint64_t)getpid() << 32) ^ 0x9e3779b97f4a7c15ull;
    const char *hooks = getenv("PYCACHED_TEST_HOOKS");
    d.test_hooks = hooks && !strcmp(hooks, "1");
    if (d.test_hooks)
        pcd_log(LOG_WARNING, "test hooks are on (PYCACHED_TEST_HOOKS=1): not for production");
    d.evict_above = d.map_limit / 100 * d.cfg.evict_at_pct;
    d.evict_budget = 64;
    d.next_expire = pcs_now_ms() + d.cfg.expire_interval_ms;
    d.stats.pid = (uint64_t)getpid();
    d.stats.started_ms = d.dpage->started_ms;
    pcd_measure(&d, pcs_now_ms());
    pcd_stats_publish(&d, pcs_now_ms());
    pcd_log(LOG_NOTICE, "serving %s: %u shard(s), map %llu MiB, sync %s, pid %d", d.cfg.dir,
            d.st->nshards, (unsigned long long)(d.st->map_size >> 20),
            d.cfg.sync == PCD_SYNC_ALWAYS  ? "always"
            : d.cfg.sync == PCD_SYNC_BATCH ? "batch"
                                           : "none",
            (int)getpid());
    if (ready >= 0) {
        if (write(ready, "R", 1) != 1)
            pcd_log(LOG_WARNING, "could not tell the parent we are ready");
        close(ready);
        detach_stdio();
    }
#ifdef HAVE_LIBSYSTEMD
    sd_notify(0, "READY=1");
#endif
    rc = pcd_run(&d);
    int snap_rc = pcd_snap_stop(&d, true);
    pcd_log(LOG_NOTICE, "stopped after %llu rounds, %llu requests", (unsigned long long)d.rounds,
            (unsigned long long)d.requests);
    shutdown_all(&d);
    if (d.cfg.snapshot_to || pcp_db_is_url(d.cfg.restore_file))
        pcp_db_library_end();
    pcd_config_free(&d.cfg);
    /* 3: stopped, but the final snapshot failed (pycached(8), EXIT STATUS). */
    return rc ? 1 : snap_rc ? 3 : 0;
}
