/*
 * store.h - a store: a directory holding one LMDB environment per shard.
 *
 * A process opens each store once (LMDB forbids opening an environment twice
 * in one process: its fcntl locks would break), so open stores live in a
 * process-wide registry and are shared, counted, by every client of the
 * process.  After fork() the child forgets the registry: its stores are the
 * parent's and are never touched again (pcs_fork_gen tells clients so).
 *
 * Files in the directory:
 *   data-NN.mdb, data-NN.mdb-lock   shard NN's LMDB data and lock files
 *   pycached.pid                    flock'ed: exclusively by the daemon,
 *                                   shared by embedded clients, so neither
 *                                   opens a store the other holds
 */
#ifndef PCS_STORE_H
#define PCS_STORE_H

#include <lmdb.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <sys/types.h>

#define PCS_FORMAT 1
#define PCS_SHARDS_MAX 64
#define PCS_MAP_SIZE_DEFAULT (UINT64_C(1) << 30)
#define PCS_MAX_READERS_DEFAULT 4096
#define PCS_LOCK_NAME "pycached.pid"

typedef struct pcs_shard {
    MDB_env *env;
    MDB_dbi keys, members, expiry, sweep, meta;
} pcs_shard;

enum pcs_mode {
    PCS_MODE_EMBEDDED = 1, /* reads and writes; shares the lock with other embedded users */
    PCS_MODE_DAEMON,       /* reads and writes; the caller holds the lock exclusively */
    PCS_MODE_READER        /* read-only environment: a client of the daemon */
};

typedef struct pcs_params {
    uint64_t map_size;    /* creation: 0 = default */
    uint64_t max_value;   /* creation: 0 = default */
    unsigned shards;      /* creation: 0 = 1 */
    unsigned max_readers; /* creation: 0 = default */
    bool create;          /* create the directory and store if missing */
    bool nosync;          /* MDB_NOSYNC */
    unsigned file_mode;   /* creation: permission bits of new files (0 = 0600) */
} pcs_params;

/*
 * One client's zero-copy reads of a store opened PCS_MODE_READER, as a
 * thread that replaces a shard's map (pcs_store_adopt) must see them: LMDB
 * unmaps the old map, so no read transaction of this process may be open
 * on that shard meanwhile.
 */
typedef struct pcs_rgate {
    _Atomic uint64_t live;  /* shards this client may have a read transaction
                               open on: stored by the client's thread, read
                               by a resizing thread */
    struct pcs_rgate *next; /* guarded by the store's gate_mu */
} pcs_rgate;

typedef struct pcs_store {
    char *dir;
    dev_t dev; /* the registry's key: data-00.mdb's identity */
    ino_t ino;
    int mode;
    unsigned nshards;
    unsigned max_readers;
    uint64_t map_size;
    uint64_t max_value;
    uint64_t created_ms;
    uint64_t id; /* the store's identity: random, made with the store (meta "id") */
    pcs_shard *shards;
    int lock_fd;               /* embedded: the shared flock on pycached.pid */
    pthread_mutex_t gate_mu;   /* held while a shard's map is replaced */
    pcs_rgate *gates;          /* reader mode: every client's gate (gate_mu) */
    _Atomic uint64_t resizing; /* shards whose map is being replaced */
    _Atomic uint64_t broken;   /* shards whose map could not be replaced */
    unsigned refs;             /* guarded by the registry lock */
    struct pcs_store *next;    /* registry list */
} pcs_store;

/*
 * Open (or share) the store in dir.  Returns 0, PC_ENOENT, PC_EBUSY (a daemon
 * holds it, or this process has it open in another mode), PC_EACCES,
 * PC_EINCOMPAT, PC_ECORRUPT, PC_EINVAL, PC_ENOMEM, PC_EIO.
 */
int pcs_store_open(const char *dir, int mode, const pcs_params *p, pcs_store **out);
/* Take one more reference on an open store. */
void pcs_store_ref(pcs_store *st);
/* Drop one reference; the last closes the environments. */
void pcs_store_release(pcs_store *st);

/*
 * Grow the map of every shard of a store this process writes (daemon or
 * embedded mode, no transaction open) to map_size bytes, and commit that, so
 * that processes opening the store later map the new size (readers already
 * open adopt it on MDB_MAP_RESIZED: pcs_store_adopt).  A map does not
 * shrink, and nothing changes: PC_EFULL when map_size is below the highest
 * page a shard uses (LMDB cannot go below it), PC_ERANGE when it is above
 * that but below the current map (LMDB would keep the larger size in its
 * meta page and map it again at the next open).  *need (may be NULL) gets
 * the smallest size the shards' data allows.  Returns 0, PC_EFULL,
 * PC_ERANGE, PC_EINVAL, or an LMDB failure (PC_ENOMEM, PC_EIO, ...), after
 * which shards may differ.
 */
int pcs_store_resize(pcs_store *st, uint64_t map_size, uint64_t *need);

/*
 * Reader mode: the gates through which each client's reads pass.  join and
 * leave when a client opens and closes; enter before a read transaction
 * begins on shard s (it waits while that shard's map is being replaced;
 * PC_EIO if that failed); set to the shards still open when a begin failed
 * or the read ended (0).
 */
void pcs_gate_join(pcs_store *st, pcs_rgate *g);
void pcs_gate_leave(pcs_store *st, pcs_rgate *g);
int pcs_gate_enter(pcs_store *st, pcs_rgate *g, unsigned s);
static inline void pcs_gate_set(pcs_rgate *g, uint64_t live)
{
    atomic_store_explicit(&g->live, live, memory_order_release);
}

/*
 * Reader mode, after LMDB answered MDB_MAP_RESIZED on shard s (the daemon
 * grew the map since this process mapped it): map the shard anew at its new
 * size.  The caller has no read transaction open on shard s.  Waits up to
 * about 100 ms for the other clients of this process to end their reads of
 * that shard; PC_EAGAIN if one did not (nothing changed: end the read and
 * begin again).  Returns 0, PC_EAGAIN, or PC_ENOMEM / PC_EIO if the new map
 * could not be made (the shard then fails every read with PC_EIO).
 */
int pcs_store_adopt(pcs_store *st, unsigned s);

/* Bumped in the child after every fork(): a client made before the fork
 * compares it to refuse use. */
extern volatile unsigned pcs_fork_gen;

/* Translate an LMDB (or errno) code into a PC_E* code. */
int pcs_mdb_err(int rc);

/* Milliseconds since the epoch, CLOCK_REALTIME (a vDSO call, no syscall). */
uint64_t pcs_now_ms(void);
/* Milliseconds of CLOCK_MONOTONIC: one clock for every process of the host. */
uint64_t pcs_mono_ms(void);

/* Meta values (little-endian u64 under a short name). */
int pcs_meta_get(MDB_txn *txn, const pcs_shard *sh, const char *name, uint64_t *v);
int pcs_meta_put(MDB_txn *txn, const pcs_shard *sh, const char *name, uint64_t v);

#endif
