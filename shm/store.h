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
    int lock_fd;            /* embedded: the shared flock on pycached.pid */
    unsigned refs;          /* guarded by the registry lock */
    struct pcs_store *next; /* registry list */
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
