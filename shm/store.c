/*
 * store.c - open the shards of a store, share them within a process.
 */
#include "store.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/random.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "alloc.h"
#include "bytes.h"
#include "pycache.h"

volatile unsigned pcs_fork_gen;

static pthread_mutex_t reg_lock = PTHREAD_MUTEX_INITIALIZER;
static pcs_store *reg_head; /* guarded by reg_lock */
static pthread_once_t reg_once = PTHREAD_ONCE_INIT;

static void reg_prepare(void)
{
    pthread_mutex_lock(&reg_lock);
}
static void reg_parent(void)
{
    pthread_mutex_unlock(&reg_lock);
}
/* The parent's stores, which a child must not use.  Kept reachable here
 * rather than dropped, so that a leak checker in the child (valgrind, LSan)
 * does not count them as lost: they belong to the parent. */
static pcs_store *volatile reg_abandoned; /* volatile: written, never read */
/* In the child: the parent's stores are not ours to use or close. */
static void reg_child(void)
{
    reg_abandoned = reg_head;
    reg_head = NULL;
    pcs_fork_gen++;
    /* reg_prepare locked it in the thread that forked, which is the child's
     * one thread: unlock it (re-initialising a locked mutex is undefined, and
     * TSan then reports the child's next lock as a double lock). */
    pthread_mutex_unlock(&reg_lock);
}
static void reg_init(void)
{
    pthread_atfork(reg_prepare, reg_parent, reg_child);
}

uint64_t pcs_now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

uint64_t pcs_mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

int pcs_mdb_err(int rc)
{
    switch (rc) {
    case 0:
        return 0;
    case MDB_NOTFOUND:
        return PC_ENOTFOUND;
    case MDB_MAP_FULL:
    case MDB_TXN_FULL:
    case MDB_PAGE_FULL:
        return PC_EFULL;
    case MDB_CORRUPTED:
    case MDB_PAGE_NOTFOUND:
    case MDB_BAD_TXN:
    case MDB_BAD_DBI:
        return PC_ECORRUPT;
    case MDB_VERSION_MISMATCH:
    case MDB_INVALID:
        return PC_EINCOMPAT;
    case MDB_READERS_FULL:
    case MDB_DBS_FULL:
    case MDB_TLS_FULL:
        return PC_EBUSY;
    case MDB_BAD_VALSIZE:
        return PC_ETOOBIG;
    case MDB_MAP_RESIZED:
        return PC_EAGAIN; /* reader mode adopts the new size: pcs_store_adopt */
    case ENOMEM:
        return PC_ENOMEM;
    case EACCES:
    case EPERM:
    case EROFS:
        return PC_EACCES;
    case ENOENT:
        return PC_ENOENT;
    case ENOSPC:
        return PC_EFULL;
    case EAGAIN:
        return PC_EBUSY;
    default:
        return PC_EIO;
    }
}

int pcs_meta_get(MDB_txn *txn, const pcs_shard *sh, const char *name, uint64_t *v)
{
    MDB_val k = {strlen(name), (void *)name}, d;
    int rc = mdb_get(txn, sh->meta, &k, &d);
    if (rc)
        return pcs_mdb_err(rc);
    if (d.mv_size != 8)
        return PC_ECORRUPT;
    *v = pcs_le64(d.mv_data);
    return 0;
}

int pcs_meta_put(MDB_txn *txn, const pcs_shard *sh, const char *name, uint64_t v)
{
    uint8_t b[8];
    pcs_put_le64(b, v);
    MDB_val k = {strlen(name), (void *)name}, d = {8, b};
    return pcs_mdb_err(mdb_put(txn, sh->meta, &k, &d, 0));
}

/* A store's identity: 64 random bits, never 0, made with the store. */
static uint64_t new_store_id(void)
{
    uint64_t id = 0;
    while (!id) {
        if (getrandom(&id, sizeof id, 0) != (ssize_t)sizeof id) {
            struct timespec ts;
            clock_gettime(CLOCK_MONOTONIC, &ts);
            id = pcs_now_ms() * UINT64_C(0x9e3779b97f4a7c15) ^ (uint64_t)ts.tv_nsec ^
                 ((uint64_t)getpid() << 40);
        }
    }
    return id;
}

/* Open the five databases; create them (and the meta) if writable. */
static int shard_dbis(pcs_store *st, pcs_shard *sh, unsigned idx, const pcs_params *p)
{
    bool ro = st->mode == PCS_MODE_READER;
    MDB_txn *txn;
    int rc = mdb_txn_begin(sh->env, NULL, ro ? MDB_RDONLY : 0, &txn);
    if (rc)
        return pcs_mdb_err(rc);
    unsigned f = ro ? 0 : MDB_CREATE;
    if ((rc = mdb_dbi_open(txn, "keys", f, &sh->keys)) ||
        (rc = mdb_dbi_open(txn, "members", f, &sh->members)) ||
        (rc = mdb_dbi_open(txn, "expiry", f, &sh->expiry)) ||
        (rc = mdb_dbi_open(txn, "sweep", f, &sh->sweep)) ||
        (rc = mdb_dbi_open(txn, "meta", f, &sh->meta))) {
        mdb_txn_abort(txn);
        return rc == MDB_NOTFOUND ? PC_ENOENT : pcs_mdb_err(rc);
    }
    uint64_t format = 0;
    int mrc = pcs_meta_get(txn, sh, "format", &format);
    if (mrc == PC_ENOTFOUND && !ro && idx == 0) {
        /* A new store: record its shape.  Later openers adopt it. */
        uint64_t nsh = p->shards ? p->shards : 1;
        uint64_t mv = p->max_value ? p->max_value : PC_VALUE_MAX_DEFAULT;
        uint64_t mr = p->max_readers ? p->max_readers : PCS_MAX_READERS_DEFAULT;
        if ((mrc = pcs_meta_put(txn, sh, "format", PCS_FORMAT)) ||
            (mrc = pcs_meta_put(txn, sh, "shards", nsh)) ||
            (mrc = pcs_meta_put(txn, sh, "shard", 0)) ||
            (mrc = pcs_meta_put(txn, sh, "max_value", mv)) ||
            (mrc = pcs_meta_put(txn, sh, "max_readers", mr)) ||
            (mrc = pcs_meta_put(txn, sh, "created", pcs_now_ms())) ||
            (mrc = pcs_meta_put(txn, sh, "id", new_store_id())) ||
            (mrc = pcs_meta_put(txn, sh, "seq", 0)))
            goto out;
        format = PCS_FORMAT;
    } else if (mrc == PC_ENOTFOUND && !ro) {
        /* Shard idx of a store whose shape shard 0 already holds. */
        if ((mrc = pcs_meta_put(txn, sh, "format", PCS_FORMAT)) ||
            (mrc = pcs_meta_put(txn, sh, "shards", st->nshards)) ||
            (mrc = pcs_meta_put(txn, sh, "shard", idx)) || (mrc = pcs_meta_put(txn, sh, "seq", 0)))
            goto out;
        format = PCS_FORMAT;
    } else if (mrc) {
        goto out;
    }
    if (format != PCS_FORMAT) {
        mrc = PC_EINCOMPAT;
        goto out;
    }
    uint64_t nsh = 0, shard = 0;
    if ((mrc = pcs_meta_get(txn, sh, "shards", &nsh)) ||
        (mrc = pcs_meta_get(txn, sh, "shard", &shard)))
        goto out;
    if (nsh < 1 || nsh > PCS_SHARDS_MAX || shard != idx || (idx && nsh != st->nshards)) {
        mrc = PC_ECORRUPT;
        goto out;
    }
    if (idx == 0) {
        uint64_t mv = 0, mr = 0, created = 0, id = 0;
        if ((mrc = pcs_meta_get(txn, sh, "max_value", &mv)) ||
            (mrc = pcs_meta_get(txn, sh, "max_readers", &mr)) ||
            (mrc = pcs_meta_get(txn, sh, "created", &created)))
            goto out;
        /* Stores made before identities existed get one from their first
         * writer; a reader of such a store sees 0 until then. */
        mrc = pcs_meta_get(txn, sh, "id", &id);
        if (mrc == PC_ENOTFOUND && !ro)
            mrc = pcs_meta_put(txn, sh, "id", id = new_store_id());
        else if (mrc == PC_ENOTFOUND)
            mrc = 0;
        if (mrc)
            goto out;
        if (mv < 1 || mv > UINT32_MAX - PCS_MAX_READERS_DEFAULT || mr < 1 || mr > (1u << 20)) {
            mrc = PC_ECORRUPT;
            goto out;
        }
        st->nshards = (unsigned)nsh;
        st->max_value = mv;
        st->max_readers = (unsigned)mr;
        st->created_ms = created;
        st->id = id;
    }
    /* Commit even a read-only txn: that keeps the dbi handles open. */
    rc = mdb_txn_commit(txn);
    return pcs_mdb_err(rc);
out:
    mdb_txn_abort(txn);
    return mrc;
}

static int shard_open(pcs_store *st, unsigned idx, const pcs_params *p, unsigned readers)
{
    pcs_shard *sh = &st->shards[idx];
    char path[4096];
    if (snprintf(path, sizeof path, "%s/data-%02u.mdb", st->dir, idx) >= (int)sizeof path)
        return PC_EINVAL;
    struct stat sb;
    bool exists = stat(path, &sb) == 0;
    if (!exists && (!p->create || st->mode == PCS_MODE_READER))
        return PC_ENOENT;

    int rc = mdb_env_create(&sh->env);
    if (rc)
        return pcs_mdb_err(rc);
    unsigned flags = MDB_NOSUBDIR | MDB_NOTLS | MDB_NORDAHEAD;
    /* Writers write through the map: a commit is a few stores and no
     * system call (pwrite-based commits cost ten times more).  Readers map
     * it read-only, so only this process's writer can touch the pages. */
    flags |= st->mode == PCS_MODE_READER ? MDB_RDONLY : MDB_WRITEMAP;
    if (p->nosync)
        flags |= MDB_NOSYNC;
    mdb_env_set_maxdbs(sh->env, 8);
    mdb_env_set_maxreaders(sh->env, readers);
    /* An existing store keeps its map size: LMDB reads it from the file. */
    if (!exists)
        mdb_env_set_mapsize(sh->env, p->map_size ? p->map_size : PCS_MAP_SIZE_DEFAULT);
    rc = mdb_env_open(sh->env, path, flags, p->file_mode ? p->file_mode : 0600);
    if (rc)
        goto fail;
    /* LMDB leaves its data file's descriptor inheritable: keep it out of
     * programs this process starts. */
    mdb_filehandle_t fd;
    if (mdb_env_get_fd(sh->env, &fd) == 0)
        fcntl(fd, F_SETFD, fcntl(fd, F_GETFD) | FD_CLOEXEC);
    rc = shard_dbis(st, sh, idx, p);
    if (rc) {
        mdb_env_close(sh->env);
        sh->env = NULL;
        return rc;
    }
    if (idx == 0) {
        MDB_envinfo info;
        mdb_env_info(sh->env, &info);
        st->map_size = info.me_mapsize;
    }
    if (st->mode != PCS_MODE_READER) {
        int dead;
        mdb_reader_check(sh->env, &dead);
    }
    return 0;
fail:
    mdb_env_close(sh->env);
    sh->env = NULL;
    return pcs_mdb_err(rc);
}

static void store_close(pcs_store *st)
{
    if (st->shards) {
        for (unsigned i = 0; i < st->nshards; i++)
            if (st->shards[i].env)
                mdb_env_close(st->shards[i].env);
        pcs_free(st->shards);
    }
    if (st->lock_fd >= 0)
        close(st->lock_fd); /* drops the shared flock */
    pthread_mutex_destroy(&st->gate_mu);
    pcs_free(st->dir);
    pcs_free(st);
}

/* Embedded users share pycached.pid's flock; the daemon holds it exclusively. */
static int store_lock(pcs_store *st, bool create)
{
    char path[4096];
    if (snprintf(path, sizeof path, "%s/%s", st->dir, PCS_LOCK_NAME) >= (int)sizeof path)
        return PC_EINVAL;
    st->lock_fd =
        open(path, O_RDWR | O_CLOEXEC | O_NOFOLLOW | O_NOCTTY | (create ? O_CREAT : 0), 0600);
    if (st->lock_fd < 0)
        return errno == EACCES ? PC_EACCES : errno == ENOENT ? PC_ENOENT : PC_EIO;
    if (flock(st->lock_fd, LOCK_SH | LOCK_NB) < 0)
        return errno == EWOULDBLOCK ? PC_EBUSY : PC_EIO;
    return 0;
}

static int store_build(const char *dir, int mode, const pcs_params *p, pcs_store **out)
{
    pcs_store *st = pcs_calloc(1, sizeof *st);
    if (!st)
        return PC_ENOMEM;
    st->lock_fd = -1;
    pthread_mutex_init(&st->gate_mu, NULL);
    st->mode = mode;
    st->refs = 1;
    st->dir = pcs_strdup(dir);
    st->shards = pcs_calloc(PCS_SHARDS_MAX, sizeof *st->shards);
    int rc = PC_ENOMEM;
    if (!st->dir || !st->shards)
        goto fail;
    if (mode == PCS_MODE_EMBEDDED && (rc = store_lock(st, p->create)))
        goto fail;
    st->nshards = 1;
    unsigned readers = p->max_readers ? p->max_readers : PCS_MAX_READERS_DEFAULT;
    if ((rc = shard_open(st, 0, p, readers)))
        goto fail;
    if (st->max_readers != readers) {
        /* LMDB sizes its reader table from what each opener asks: ask again
         * with what the store was made with. */
        mdb_env_close(st->shards[0].env);
        st->shards[0].env = NULL;
        readers = st->max_readers;
        if ((rc = shard_open(st, 0, p, readers)))
            goto fail;
    }
    for (unsigned i = 1; i < st->nshards; i++)
        if ((rc = shard_open(st, i, p, readers)))
            goto fail;
    /* The identity of the data file this process mapped. */
    mdb_filehandle_t fd;
    struct stat fb;
    if (mdb_env_get_fd(st->shards[0].env, &fd) || fstat(fd, &fb) < 0) {
        rc = PC_EIO;
        goto fail;
    }
    st->dev = fb.st_dev;
    st->ino = fb.st_ino;
    *out = st;
    return 0;
fail:
    store_close(st);
    return rc;
}

int pcs_store_open(const char *dir, int mode, const pcs_params *p, pcs_store **out)
{
    static const pcs_params none;
    if (!p)
        p = &none;
    if (!dir || !*dir || (p->shards > PCS_SHARDS_MAX))
        return PC_EINVAL;
    if (p->max_value && (p->max_value > (UINT32_MAX / 2) || p->max_value < 1))
        return PC_EINVAL;
    pthread_once(&reg_once, reg_init);
    if (p->create && mode != PCS_MODE_READER && mkdir(dir, 0700) < 0 && errno != EEXIST)
        return errno == EACCES ? PC_EACCES : errno == ENOENT ? PC_ENOENT : PC_EIO;
    struct stat sb;
    if (stat(dir, &sb) < 0)
        return errno == EACCES ? PC_EACCES : PC_ENOENT;
    if (!S_ISDIR(sb.st_mode))
        return PC_EINVAL;
    char path[4096];
    if (snprintf(path, sizeof path, "%s/data-00.mdb", dir) >= (int)sizeof path)
        return PC_EINVAL;

    /* A store is known by its first data file, not by its directory: a
     * store made anew in the same directory (a daemon restarted on a wiped
     * store) is another store, which this process must open afresh while
     * clients that began on the old one still hold it. */
    pthread_mutex_lock(&reg_lock);
    int rc = 0;
    pcs_store *st = NULL;
    struct stat fb;
    if (stat(path, &fb) == 0)
        for (st = reg_head; st; st = st->next)
            if (st->dev == fb.st_dev && st->ino == fb.st_ino)
                break;
    if (st) {
        if (st->mode != mode) {
            rc = PC_EBUSY;
        } else {
            st->refs++;
            *out = st;
        }
    } else if (!(rc = store_build(dir, mode, p, &st))) {
        st->next = reg_head;
        reg_head = st;
        *out = st;
    }
    pthread_mutex_unlock(&reg_lock);
    return rc;
}

/* The smallest map shard sh allows: its highest page in use, plus one. */
static int shard_min_map(const pcs_shard *sh, uint64_t *min)
{
    MDB_envinfo info;
    MDB_stat ms;
    int rc = mdb_env_info(sh->env, &info);
    if (!rc)
        rc = mdb_env_stat(sh->env, &ms);
    if (rc)
        return pcs_mdb_err(rc);
    *min = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
    return 0;
}

int pcs_store_resize(pcs_store *st, uint64_t map_size, uint64_t *need)
{
    if (st->mode == PCS_MODE_READER || map_size == 0 || (size_t)map_size != map_size)
        return PC_EINVAL;
    uint64_t most = 0;
    for (unsigned s = 0; s < st->nshards; s++) {
        uint64_t min = 0;
        int rc = shard_min_map(&st->shards[s], &min);
        if (rc)
            return rc;
        if (min > most)
            most = min;
    }
    if (need)
        *need = most;
    if (map_size < most)
        return PC_EFULL;
    if (map_size < st->map_size)
        return PC_ERANGE; /* LMDB's meta page keeps the larger size: it would come back */
    for (unsigned s = 0; s < st->nshards; s++) {
        pcs_shard *sh = &st->shards[s];
        MDB_txn *txn;
        int rc = mdb_env_set_mapsize(sh->env, (size_t)map_size);
        if (rc)
            return pcs_mdb_err(rc);
        /* LMDB writes the map's size into the meta page at a commit that
         * changed something: record the size we were given. */
        if ((rc = mdb_txn_begin(sh->env, NULL, 0, &txn)))
            return pcs_mdb_err(rc);
        if ((rc = pcs_meta_put(txn, sh, "map_size", map_size))) {
            mdb_txn_abort(txn);
            return rc;
        }
        if ((rc = mdb_txn_commit(txn)))
            return pcs_mdb_err(rc);
    }
    st->map_size = map_size;
    return 0;
}

void pcs_gate_join(pcs_store *st, pcs_rgate *g)
{
    atomic_init(&g->live, 0);
    pthread_mutex_lock(&st->gate_mu);
    g->next = st->gates;
    st->gates = g;
    pthread_mutex_unlock(&st->gate_mu);
}

void pcs_gate_leave(pcs_store *st, pcs_rgate *g)
{
    pthread_mutex_lock(&st->gate_mu);
    pcs_rgate **pp = &st->gates;
    while (*pp && *pp != g)
        pp = &(*pp)->next;
    if (*pp)
        *pp = g->next;
    pthread_mutex_unlock(&st->gate_mu);
}

/*
 * The reader announces the shard, then looks for a resize; the resizer
 * announces the resize, then looks at every reader (both sequentially
 * consistent): one of the two always sees the other.
 */
int pcs_gate_enter(pcs_store *st, pcs_rgate *g, unsigned s)
{
    uint64_t bit = UINT64_C(1) << s;
    uint64_t was = atomic_load_explicit(&g->live, memory_order_relaxed);
    for (;;) {
        atomic_store_explicit(&g->live, was | bit, memory_order_seq_cst);
        if (!(atomic_load_explicit(&st->resizing, memory_order_seq_cst) & bit))
            break;
        atomic_store_explicit(&g->live, was, memory_order_seq_cst);
        pthread_mutex_lock(&st->gate_mu); /* the resizer holds it until done */
        pthread_mutex_unlock(&st->gate_mu);
    }
    if (atomic_load_explicit(&st->broken, memory_order_acquire) & bit) {
        atomic_store_explicit(&g->live, was, memory_order_release);
        return PC_EIO;
    }
    return 0;
}

/* Whether a client of this process may have a read open on a shard of bit. */
static bool gates_busy_locked(const pcs_store *st, uint64_t bit)
{
    for (const pcs_rgate *g = st->gates; g; g = g->next)
        if (atomic_load_explicit(&g->live, memory_order_seq_cst) & bit)
            return true;
    return false;
}

int pcs_store_adopt(pcs_store *st, unsigned s)
{
    uint64_t bit = UINT64_C(1) << s;
    if (st->mode != PCS_MODE_READER || s >= st->nshards)
        return PC_EINVAL;
    pthread_mutex_lock(&st->gate_mu);
    atomic_fetch_or_explicit(&st->resizing, bit, memory_order_seq_cst);
    int rc = PC_EAGAIN;
    for (int tries = 0; tries < 100; tries++) {
        if (!gates_busy_locked(st, bit)) {
            rc = 0;
            break;
        }
        struct timespec ts = {0, 1000000};
        nanosleep(&ts, NULL);
    }
    if (!rc) {
        /* No transaction of this process is open on the shard: LMDB may
         * unmap it and map it again at the size its meta page now says. */
        MDB_envinfo info;
        int mrc = mdb_env_set_mapsize(st->shards[s].env, 0);
        if (mrc) {
            atomic_fetch_or_explicit(&st->broken, bit, memory_order_release);
            rc = mrc == ENOMEM ? PC_ENOMEM : PC_EIO;
        } else if (s == 0 && mdb_env_info(st->shards[0].env, &info) == 0) {
            st->map_size = info.me_mapsize;
        }
    }
    atomic_fetch_and_explicit(&st->resizing, ~bit, memory_order_seq_cst);
    pthread_mutex_unlock(&st->gate_mu);
    return rc;
}

void pcs_store_ref(pcs_store *st)
{
    pthread_mutex_lock(&reg_lock);
    st->refs++;
    pthread_mutex_unlock(&reg_lock);
}

void pcs_store_release(pcs_store *st)
{
    if (!st)
        return;
    pthread_mutex_lock(&reg_lock);
    pcs_store **pp = &reg_head;
    while (*pp && *pp != st)
        pp = &(*pp)->next;
    if (!*pp) {
        /* Not in this process's registry: inherited across fork().  The
         * parent owns its environments; leave them alone. */
        pthread_mutex_unlock(&reg_lock);
        return;
    }
    if (--st->refs == 0) {
        *pp = st->next;
        pthread_mutex_unlock(&reg_lock);
        store_close(st);
        return;
    }
    pthread_mutex_unlock(&reg_lock);
}
