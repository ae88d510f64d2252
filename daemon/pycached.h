/*
 * pycached.h - what the daemon's files share.  Nothing here is installed.
 */
#ifndef PCD_PYCACHED_H
#define PCD_PYCACHED_H

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <sys/types.h>

#include "../shm/buf.h"
#include "../shm/channel.h"
#include "../shm/exec.h"
#include "../shm/frame.h"
#include "../shm/maint.h"
#include "../shm/reader.h"
#include "../persist/mysql.h"
#include "../persist/snapshot.h"
#include "../shm/store.h"
#include "pycache.h"

/* ---- configuration (config.c) ---- */

enum pcd_sync { PCD_SYNC_ALWAYS, PCD_SYNC_BATCH, PCD_SYNC_NONE };
/* --writers: where a store of several shards runs a pass's writes. */
enum pcd_writers_mode {
    PCD_WRITERS_AUTO,    /* in the shards' threads while that is measured faster */
    PCD_WRITERS_THREADS, /* always in the shards' threads */
    PCD_WRITERS_LOOP     /* always in the loop's thread, one shard after another */
};

#define PCD_MAX_ACL 32

/* What a peer may do: pc_role (pycache.h), 0 for a peer not admitted. */
typedef struct pcd_grant {
    uint32_t id; /* a uid, or a gid when group */
    bool group;
    uint8_t role; /* pc_role */
} pcd_grant;

typedef struct pcd_config {
    char *dir;
    char *config_file;
    char *cwd;   /* where relative paths were resolved (pcd_config_paths) */
    int argc;    /* the command line, applied again over the file on SIGHUP */
    char **argv; /* (main's argv: not freed) */
    char *log_file;
    int log_level; /* syslog priority: messages above it are dropped */
    bool foreground;
    unsigned shards;      /* creation (pcd_shards_default) */
    bool shards_set;      /* given: an existing store of another count says so */
    uint64_t max_memory;  /* the map's size (an existing store: only when given) */
    bool max_memory_set;  /* given on the command line or in the config file */
    uint64_t max_value;   /* creation */
    bool max_value_set;   /* given: else it follows max_memory */
    unsigned max_readers; /* creation */
    int sync;             /* enum pcd_sync */
    int writers;          /* enum pcd_writers_mode */
    unsigned sync_interval_ms;
    uint32_t ring_size;
    unsigned max_clients;
    unsigned spin_us;            /* how long an idle daemon polls before it sleeps */
    unsigned expire_interval_ms; /* TTL worker period; 0: stopped */
    int policy;                  /* pc_policy */
    unsigned evict_at_pct;       /* of --max-memory: eviction (or refusal) starts above */
    char *snapshot_dir;          /* snapshots go here; NULL: none */
    unsigned snapshot_keep;      /* newest N kept (0: all) */
    unsigned n_rules;            /* --snapshot-every SECONDS[:CHANGES] */
    unsigned rule_seconds[8];
    uint64_t rule_changes[8];
    char *restore_file; /* --restore FILE, or a mysql:// URL */
    /* The MariaDB/MySQL target (persist/mysql.h): --snapshot-to URL, the
     * password's file, TLS (any TLS file implies it required). */
    char *snapshot_to;
    char *snapshot_password_file;
    char *snapshot_tls_ca, *snapshot_tls_cert, *snapshot_tls_key;
    int snapshot_tls;        /* 0 off (unless a TLS file is given), 1 required, 2 verify */
    unsigned max_read_age_s; /* a read open this long gets its process disconnected */
    gid_t allow_gid[PCD_MAX_ACL];
    unsigned n_allow_gid;
    uid_t ro_uid[PCD_MAX_ACL];
    unsigned n_ro_uid;
    gid_t ro_gid[PCD_MAX_ACL];
    unsigned n_ro_gid;
    /* Roles (--allow-read/--allow-write/--allow-admin) and quotas. */
    pcd_grant grant[PCD_MAX_ACL];
    unsigned n_grant;
    unsigned max_clients_per_uid; /* 0: a quarter of max_clients (at least 1) */
    uint64_t max_buffers;         /* all clients' requests being assembled + unread answers */
    uint64_t client_backlog;      /* unread answers of one client before it is not served */
    unsigned request_timeout_s;   /* a request still incomplete this long closes its client */
} pcd_config;

/* A new store's shard count when --shards is not given: the online cores
 * (sysconf), at most PCD_SHARDS_DEFAULT_MAX, at least 1. */
#define PCD_SHARDS_DEFAULT_MAX 8u
unsigned pcd_shards_default(void);
void pcd_config_defaults(pcd_config *cfg);
void pcd_config_free(pcd_config *cfg);
/* Parse the command line into cfg (after reading --config first, so that the
 * command line wins).  Returns 0, 1 when the process should exit 0 (--help,
 * --version), or -1 after printing why on stderr. */
int pcd_config_args(pcd_config *cfg, int argc, char **argv);
/* Read a config file; 0 or -1 with a message naming the file and line. */
int pcd_config_file(pcd_config *cfg, const char *path);
/* SIGHUP: the settings a start would make now into n (to free): defaults,
 * cur's config file, cur's command line again (it wins), paths made
 * absolute as at start.  0 or -1 after a message on stderr. */
int pcd_config_reload(pcd_config *n, const pcd_config *cur);
/* Make every path setting absolute against cwd (NULL: the current
 * directory, remembered in cfg->cwd); before daemonizing, which moves to
 * "/".  0 or -1 after a message. */
int pcd_config_paths(pcd_config *cfg, const char *cwd);
/* The MariaDB/MySQL target of url (--snapshot-to's or --restore's) with
 * the password file and TLS settings into db.  0 or -1 after a message on
 * stderr. */
int pcd_config_db(const pcd_config *cfg, const char *url, pcp_db *db);
/* The shape settings' bounds (see pycached(8)): --max-memory is per shard. */
#define PCD_MEMORY_MIN (UINT64_C(1) << 20)
#define PCD_MEMORY_MAX (UINT64_C(8) << 40)     /* ext4 takes files just under 16T */
#define PCD_MAP_TOTAL_MAX (UINT64_C(64) << 40) /* half of x86-64's user address space */
#define PCD_VALUE_MAX (UINT64_C(0x7fffffff))
/* Check the settings fit together and fill in what follows from others
 * (--max-value's default); 0 or -1 with a message. */
int pcd_config_check(pcd_config *cfg);
/* The largest --max-value, and its default, for a --max-memory. */
uint64_t pcd_value_max_for(uint64_t max_memory);
uint64_t pcd_value_default_for(uint64_t max_memory);
/* Format a size the way the options take it ("64M"; bytes if no suffix fits). */
const char *pcd_fmt_size(uint64_t v, char *buf, size_t len);
void pcd_usage(FILE *f);
/* Copy the access policy and the quotas (roles, --allow-*, caps) from src:
 * what a SIGHUP takes from the config file. */
void pcd_config_take_access(pcd_config *dst, const pcd_config *src);
/* The per-uid connection cap in force (--max-clients-per-uid, or its default). */
unsigned pcd_per_uid_cap(const pcd_config *cfg);

/* ---- the store directory and its files (files.c) ---- */

/* Peers other than the daemon's own uid are admitted (the directory is then
 * 0711 and the socket 0666). */
bool pcd_others_admitted(const pcd_config *cfg);
/* Before the lock: create cfg->dir (0700, or 0711 when others are admitted)
 * or open it as it is, refusing a symbolic link, a directory not owned by
 * our uid, or one writable by group or others; it stays open (the files
 * below are opened relative to it).  0 or -1 after a message on stderr. */
int pcd_dir_prepare(const pcd_config *cfg);
/* Once the lock is held: the directory to its mode in the table. */
int pcd_dir_settle(const pcd_config *cfg);
/* Open DIR/name (O_NOFOLLOW, O_CLOEXEC, O_NOCTTY added): a regular file of
 * our uid with one link, else refused.  The fd, or -1 after a message. */
int pcd_open_own(const pcd_config *cfg, const char *name, int flags, mode_t mode);
/* Before LMDB opens them: every data-NN.mdb and data-NN.mdb-lock present
 * is a regular file of ours with one link.  0 or -1 after a message. */
int pcd_store_files_check(const pcd_config *cfg);
/* After the store opened: each shard's files to the modes (and group) of
 * the table: 0600, or with --allow-group data 0640 and lock 0660. */
int pcd_store_files_modes(const pcd_config *cfg, unsigned shards);
/* Before bind: remove a socket of ours left at DIR/name; refuse anything
 * else there.  0 or -1 after logging. */
int pcd_sock_clear(const pcd_config *cfg, const char *name);
/* Remove DIR/name (at exit: the socket). */
void pcd_unlink_own(const char *name);

/* ---- logging (log.c) ---- */

int pcd_log_open(const pcd_config *cfg);
void pcd_log_reopen(const pcd_config *cfg);
void pcd_log(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* A line about a peer (uid, or PCD_LOG_NOUID when unknown), rate-limited
 * per uid and over all peers (pycached(8), "Logging"): at most
 * PCD_LOG_PEER_BURST lines at once and PCD_LOG_PEER_PER_S a second per uid,
 * PCD_LOG_ALL_BURST and PCD_LOG_ALL_PER_S for all peers together.  Lines
 * over the limits are counted; pcd_log_tick() (once a second) reports each
 * uid's count in one line, at most every PCD_LOG_REPORT_MS; final: every
 * count now (at exit).  Both from the loop's thread only. */
void pcd_log_peer(uint32_t uid, int prio, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
void pcd_log_tick(bool final);
#define PCD_LOG_NOUID UINT32_MAX
#define PCD_LOG_PEER_BURST 100
#define PCD_LOG_PEER_PER_S 5
#define PCD_LOG_ALL_BURST 500
#define PCD_LOG_ALL_PER_S 25
#define PCD_LOG_REPORT_MS 10000

/* ---- clients (server.c) ---- */

enum pcd_cstate { PCD_C_HELLO, PCD_C_ACTIVE, PCD_C_DEAD };

typedef struct pcd_client {
    int fd;
    int state; /* enum pcd_cstate */
    uint64_t id;
    pid_t pid;      /* SO_PEERCRED: in the daemon's pid namespace */
    pid_t self_pid; /* the hello's: the client's getpid() in its own namespace (unchecked) */
    uid_t uid;
    gid_t gid;
    bool ring_only;
    uint8_t role;      /* pc_role: what its requests may do */
    uint64_t since_ms; /* connected at */
    void *map;         /* the channel, mapped by the daemon */
    size_t maplen;
    pcs_chan_hdr *hdr;
    pcs_ring req, resp;
    pcs_buf msg;         /* a request of several records, reassembled here */
    bool msg_whole;      /* msg is complete: waiting for room in a round, or in one */
    bool msg_in_round;   /* ... in the current round, which decodes it from msg */
    bool discard;        /* dropping the rest of a message memory ran out for */
    uint16_t discard_op; /* ... whose op and id its PC_ENOMEM answer carries */
    uint64_t discard_id;
    size_t discard_len;  /* bytes of it seen so far (bounded like msg) */
    pcs_buf out;         /* answers waiting for room in the ring (pcs_ring_send) */
    size_t out_pos;      /* bytes of out already sent */
    size_t out_msg_sent; /* of the message at out_pos, bytes already sent */
    bool resp_put;       /* records written to resp, to publish at the end of the pass */
    unsigned items;      /* requests of this client in the current round */
    bool read_queued;    /* a read is queued this round: drain no further */
    bool blocked;        /* a waiting queue pop is parked */
    pcs_buf parked;      /* its request message */
    uint64_t parked_deadline;
    uint64_t parked_retry_at; /* a parked flight claim: try again then (a lease ends) */
    unsigned parked_kicks;    /* ... tries left after a client went (see parked_pass) */
    uint64_t requests;        /* served so far */
    uint64_t snap_need;       /* waiting for snapshot number snap_need (0: not) */
    size_t held;              /* bytes of msg (but in a round), out and parked, as in pcd.held */
    uint64_t msg_since;       /* when the first record of the message in msg came (ms) */
    uint64_t out_moved;       /* when its unread answers last moved into its ring (ms) */
} pcd_client;

/* ---- the daemon (loop.c) ---- */

typedef struct pcd_item {
    pcd_client *c;
    const pcs_buf *buf; /* the request: the round's arena, or c's msg or parked */
    size_t off, len;    /* ... at off in it, its frame's length */
    pcs_req rq;
    int decoded; /* 0, or the decode error */
    bool parsed; /* rq holds a decoded request (to free) */
    unsigned shard;
    size_t resp_off; /* its response in its shard's writer's out, or SIZE_MAX */
    bool parked_retry;
} pcd_item;

/* The snapshot targets: SQLite files (--snapshot-dir), a MariaDB or MySQL
 * database (--snapshot-to).  A request names them by bit. */
enum { PCD_T_FILES, PCD_T_DB, PCD_T__N };
#define PCD_T_ALL ((1u << PCD_T__N) - 1)

typedef struct pcd_snap {
    pthread_t th;
    bool thread;        /* the thread runs */
    unsigned targets;   /* the configured ones (bits of PCD_T_*) */
    pcp_db db;          /* --snapshot-to's, with its password file and TLS */
    pthread_mutex_t mu; /* guards what follows */
    pthread_cond_t cv;
    uint64_t requested, started, done; /* snapshot sequence numbers */
    unsigned want;                     /* targets of the snapshot requested */
    unsigned doing;                    /* the targets of the one running */
    bool running, stop;
    uint64_t gen;                     /* the generation of the last snapshot begun (the thread's) */
    struct pcp_result last[PCD_T__N]; /* each target's last result */
    unsigned last_mask;               /* the targets the last snapshot wrote */
    int efd;                          /* the thread wakes the loop through it */
    /* The loop's: a failed target is tried again after a back-off. */
    uint64_t seen_ms[PCD_T__N]; /* when_ms of the result last reported */
    uint64_t retry_at[PCD_T__N];
    unsigned backoff_s[PCD_T__N];
} pcd_snap;

typedef struct pcd_shard_state {
    uint64_t pin_txnid; /* the oldest snapshot a reader holds, if stale */
    uint64_t pin_since; /* when we first saw it held */
    int pidlock_fd;     /* data-NN.mdb-lock, to ask who holds a pid's byte lock;
                           opened once, never closed (closing any descriptor of
                           it would drop this process's own LMDB locks) */
    bool pidlock_open;
    uint64_t room_txnid; /* the last commit whose pages pcd_room_hook freed */
    pcs_sampler sampler; /* eviction samples: where the cursor is */
} pcd_shard_state;

/* What a writer is asked to do (pcd_writers_run). */
enum pcd_wjob {
    PCD_W_RUN = 1, /* run the pass's requests of its shard (rptr, n) */
    PCD_W_SYNC,    /* fsync its shard (--sync batch) */
    PCD_W_EXPIRE,  /* one bounded step of the TTL worker (up.more) */
    PCD_W_EVICT,   /* one eviction step of up.budget keys (up.gone, up.none) */
    PCD_W_SETTLE,  /* the commit after an eviction (up.txnid) */
    PCD_W_SWEEP,   /* one step of sweeping dropped collections' members */
    PCD_W_STOP     /* end the thread */
};

struct pcd;

/*
 * A shard's writer (writers.c).  Each pass, the loop gives every shard with
 * writes its requests, and the shards run them in parallel, each in its own
 * thread (shard 0's, and any whose thread could not start, in the loop's),
 * into answers of their own (the loop runs a job itself that its thread
 * has not begun when the loop is free); the loop waits for all and then
 * answers in request order.  Between jobs the loop owns everything here (the upkeep
 * uses w for its steps); during one, the shard's thread does, and touches
 * nothing of the daemon's but the store, its shard's pcd_shard_state and
 * the access array (atomics).
 */
typedef struct pcd_writer {
    _Alignas(64) _Atomic uint32_t go; /* jobs posted (the thread waits for a new one) */
    _Atomic uint32_t sleeping;        /* the thread sleeps on go */
    _Atomic uint32_t claim;           /* 1: a job is posted; 2: taken (thread or loop) */
    struct pcd *d;
    unsigned shard;
    pthread_t th;
    bool thread; /* th runs this shard's jobs */
    int job;     /* enum pcd_wjob */
    pcs_wctx w;  /* the shard's write transactions */
    /* The pass's requests of this shard: rptr[0..n), each from item idx[j],
     * answered at roff[j] in out (roff[n]: the end). */
    pcs_req **rptr;
    size_t *roff, *idx;
    size_t n, cap;
    pcs_buf out;
    int rc; /* the pass's outcome: 0, or the code all its requests get */
    /* Making room for a write (pcd_room_hook), this pass. */
    unsigned room_budget;    /* keys the next eviction step takes */
    uint64_t room_waited_us; /* waits for readers to move on */
    char refused_why[160];   /* why the latest write was refused room ("": none) */
    uint64_t rng;            /* eviction sampling */
    /* An upkeep job's argument and results (upkeep.c). */
    struct {
        unsigned budget; /* PCD_W_EVICT: keys to take */
        unsigned gone;   /* PCD_W_EVICT: keys that went */
        bool none;       /* PCD_W_EVICT: nothing to evict */
        bool more;       /* PCD_W_EXPIRE: more keys are due */
        bool wrote;      /* the job committed a change (--sync batch owes a sync) */
        uint64_t txnid;  /* PCD_W_SETTLE: the eviction's commit */
    } up;
    /* Counted by whoever runs the shard's job (one at a time), read by the
     * loop to publish (pcd_stats_publish): pc_shard_stats. */
    struct {
        _Atomic uint64_t writes, commits, failed, busy_us;
        _Atomic uint64_t commit_size[PC_STATS_HIST];
    } ct;
} pcd_writer;

/* The pc_stats histogram bucket of v: 0 for 0..1, i for [2^i, 2^(i+1)). */
static inline unsigned pcd_log2_bucket(uint64_t v)
{
    unsigned b = v < 2 ? 0 : 63u - (unsigned)__builtin_clzll(v);
    return b < PC_STATS_HIST ? b : PC_STATS_HIST - 1;
}

typedef struct pcd {
    pcd_config cfg;
    pcs_store *st;
    int lock_fd;
    int lsock;
    int epfd;
    int sigfd;
    int dpage_fd;
    pcs_dpage *dpage;
    bool live_held; /* this thread holds dpage->live (make_dpage) */
    pcd_client **cl;
    size_t ncl, clcap;
    uint64_t next_id;
    pcd_writer wr[PCS_SHARDS_MAX]; /* each shard's writer: its wctx, the pass's answers */
    _Atomic uint32_t pending;      /* jobs posted to writer threads and not yet done */
    _Atomic uint32_t joining;      /* the loop sleeps on pending */
    /* --writers auto: windows of PCD_W_RUN jobs, in threads and in the loop,
     * compared; the faster holds for a while (writers.c). */
    struct {
        bool par;          /* passes hand shards to their threads now */
        int phase;         /* measuring threads, measuring the loop, holding */
        unsigned hold;     /* windows left to hold */
        uint64_t t0, reqs; /* the window: since, requests run */
        double rate[2];    /* requests a second: in the loop [0], threads [1] */
    } wad;
    pcs_buf arena; /* requests of one record, copied out of their rings */
    pcd_item *items;
    size_t nitems, icap;
    pcs_reader reader; /* the daemon's own reader of st: ring-only reads (reads.c) */
    bool stop;
    bool reload;
    bool wrote_last_round; /* parked queue pops deserve another try */
    bool kick_parked;      /* a client went: parked flight claims deserve another try
                              (it may have held their lease) */
    bool emptied;          /* a flush succeeded in this pass */
    bool empty_sweep;      /* sweeping what flushes left, between passes */
    uint64_t last_housekeep;
    uint64_t last_sync;
    bool unsynced;
    uint64_t rounds, requests;
    /* upkeep */
    uint64_t rng;
    uint64_t used, worst_shard, measured_ms; /* bytes in use (all, largest shard) */
    uint64_t evict_above;                    /* per shard */
    /* the filesystem (fsroom.c) */
    uint64_t map_limit;                   /* the smallest shard's map, as cut to fit */
    uint64_t fs_total;                    /* all shards' maps, as cut to fit */
    uint64_t fs_limit[PCS_SHARDS_MAX];    /* each shard's map, as cut to fit */
    uint64_t fs_reserved[PCS_SHARDS_MAX]; /* fallocated up to here */
    unsigned fs_psize;                    /* LMDB's page size */
    bool fs_noreserve;                    /* the filesystem has no fallocate */
    bool fs_short;                        /* a reservation failed: growth is held */
    unsigned evict_budget;                /* keys per eviction step, 1..EVICT_BUDGET_MAX */
    uint64_t grown;                       /* estimated growth since the last measurement */
    uint64_t room;                        /* growth the current pass may still add */
    const char *room_why;                 /* why there is no more (for the log) */
    /* Writes refused with PC_EFULL, logged at most every FULL_LOG_MS. */
    uint64_t refused;        /* since the last log line */
    uint64_t refused_log_ms; /* when that line was written (0: never) */
    char refused_why[160];   /* the latest refusal's reason */
    uint64_t next_expire;
    uint64_t next_due; /* soonest expiry in the index (0: unknown) */
    uint64_t published_requests;
    uint64_t expire_due;      /* shards whose expiry step has more to do */
    _Atomic uint32_t *access; /* the access array (allkeys-lru/lfu), or NULL */
    int access_fd;
    pcd_shard_state shard[PCS_SHARDS_MAX];
    unsigned readers_used;
    uint64_t oldest_reader_ms;
    uint64_t last_publish;
    uint64_t hits_gone, misses_gone; /* read counts of clients that left */
    pc_stats stats;                  /* counted here, published to the daemon page */
    /* snapshots */
    pthread_mutex_t commit_mu; /* held by the loop while a pass writes */
    pcd_snap snap;
    uint64_t writes; /* write requests that succeeded */
    uint64_t writes_at_snap;
    uint64_t last_snap_ms;
    uint64_t snap_seen; /* the last finished snapshot we reported */
    int stalled_pid;    /* the last process reported for --max-read-age */
    bool test_hooks;    /* PYCACHED_TEST_HOOKS=1: fault injection allowed */
    /* Quotas: memory held for clients (requests being received, answers not
     * yet read) against --max-buffers; refusals at accept, logged at most
     * REFUSE_LOG_BURST a while. */
    uint64_t held, held_peak;
    pcs_buf scratch; /* a ring-only read's answer, before it goes to the ring */
    uint64_t refuse_window_ms;
    unsigned refuse_logged, refuse_quiet;
} pcd;

static inline uint32_t pcd_rand(pcd *d)
{
    uint64_t x = d->rng;
    x ^= x >> 12;
    x ^= x << 25;
    x ^= x >> 27;
    d->rng = x;
    return (uint32_t)((x * 2685821657736338717ull) >> 32);
}

/* server.c */
int pcd_listen(pcd *d);
void pcd_accept(pcd *d);
void pcd_client_readable(pcd *d, pcd_client *c);
void pcd_client_close(pcd *d, pcd_client *c, const char *why);
void pcd_reap(pcd *d);
/* The role (pc_role) of a peer of uid with groups gids (its primary group
 * first), or 0 when it is not admitted; *trusted: it may map the store. */
int pcd_peer_role(const pcd_config *cfg, uid_t uid, const gid_t *gids, size_t ngids, bool *trusted);
/* The connection caps: 0 when a peer of uid may connect while live clients
 * are connected, mine of them of its uid; else the cap that refuses it
 * (--max-clients; --max-clients-per-uid, which the daemon's own uid is
 * not held to). */
enum { PCD_CAP_CLIENTS = 1, PCD_CAP_PER_UID = 2 };
int pcd_conn_cap(const pcd_config *cfg, uid_t uid, size_t live, size_t mine);

/* config.c: SIGHUP's settings; reopen the log and reread the config file
 * (what takes a restart is reported and kept). */
void pcd_reload(pcd *d);

/* loop.c */
/* The role (pc_role) a request's op needs. */
int pcd_op_role(unsigned op);

/* zreads.c: the sorted set reads of ring-only clients (reads.c's table). */
int pcd_r_zscore(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv);
int pcd_r_zrank(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv);
int pcd_r_zcount(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv);
int pcd_r_zrange(pcs_reader *r, const pcs_req *rq, pcs_buf *out, uint32_t *nv);
int pcd_loop_setup(pcd *d);
int pcd_run(pcd *d);
void pcd_client_wake(pcd_client *c);
/* Recount what c holds (its buffers' capacities, but msg's while its request
 * is in the round) into d->held. */
void pcd_note_held(pcd *d, pcd_client *c);
/* The byte budget in force: --max-buffers, its default, at least four of
 * the largest request. */
uint64_t pcd_budget(const pcd *d);

/* upkeep.c */
void pcd_measure(pcd *d, uint64_t now);
void pcd_make_room(pcd *d, uint64_t now, uint64_t incoming);
void pcd_note_growth(pcd *d, uint64_t bytes);
/* pcs_wctx.room_fn for the daemon's writes (arg: the shard's pcd_writer);
 * runs in the shard's writer thread. */
bool pcd_room_hook(void *arg, unsigned shard, const pcs_req *rq, unsigned round);
/* Count a write answered PC_EFULL; log refusals, at most a line a while. */
void pcd_note_refused(pcd *d, uint64_t now);
void pcd_log_refused(pcd *d, uint64_t now);
bool pcd_upkeep_step(pcd *d, uint64_t now);
void pcd_sweep_idle(pcd *d);
/* The upkeep jobs (PCD_W_EXPIRE, _EVICT, _SETTLE, _SWEEP) on wr's shard,
 * in whichever thread runs its jobs: they touch the store, the shard's
 * writer and pcd_shard_state, and the access array, nothing else of d's. */
void pcd_upkeep_job(pcd *d, pcd_writer *wr, int job);
void pcd_readers(pcd *d, uint64_t now);
void pcd_note_pass(pcd *d, size_t items, uint64_t us);
void pcd_stats_publish(pcd *d, uint64_t now);
/* Record an access to key for allkeys-lru/lfu (no-op otherwise). */
void pcd_touch(pcd *d, const void *key, size_t klen, uint64_t now);

/* writers.c: a thread per shard (but shard 0) for its writes. */
int pcd_writers_start(pcd *d);
void pcd_writers_stop(pcd *d);
/* Do job on every shard of the mask (bit s: shard s) in parallel, shard 0's
 * and any without a thread of its own in the calling thread; returns when
 * all are done.  With one shard in the mask, no thread is woken; nor for
 * PCD_W_RUN and the upkeep's jobs while --writers auto finds the loop
 * faster (or --writers loop), when the loop runs them one after another. */
void pcd_writers_run(pcd *d, uint64_t shards, int job);
/* Whether the upkeep's jobs go to the shards' threads now (--writers
 * threads, or auto while it finds the threads faster for writes). */
bool pcd_writers_par(pcd *d);

/* fsroom.c: cap each shard's map to what the filesystem can hold (after
 * the store opened, before any read transaction); 0 or -1 after logging. */
int pcd_fs_open(pcd *d);
/* Before a new store is created: refuse a filesystem too small for it. */
int pcd_fs_precheck(pcd *d);
/* Before a pass writing incoming bytes: extend the reservations; returns
 * the growth the filesystem guarantees (UINT64_MAX: up to the cap). */
uint64_t pcd_fs_room(pcd *d, uint64_t incoming);

/* snap.c */
int pcd_snap_check(pcd *d);
int pcd_snap_start(pcd *d);
uint64_t pcd_snap_request(pcd *d, const char *why, unsigned targets);
void pcd_snap_rules(pcd *d, uint64_t now);
void pcd_snap_finished(pcd *d);
int pcd_snap_ask(pcd *d, pcd_client *c, const void *msg, size_t len);
int pcd_snap_stop(pcd *d, bool final);
int pcd_snap_restore(pcd *d);

/* reads.c: serve a ring-only read (or a question for the daemon) into out;
 * uid: the asking peer's, for the log. */
void pcd_serve_read(pcd *d, uint32_t uid, const pcs_req *rq, pcs_buf *out);

/* Human-friendly sizes: "64M", "1G", "4096". */
int pcd_parse_size(const char *s, uint64_t *out);

#endif
