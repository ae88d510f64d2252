/*
 * pycache.h - the public API of libpycache-client.
 *
 * pycache is a typed cache shared by every process on one host.  Values live
 * in a memory-mapped LMDB store; reads return views that point straight into
 * the map (no copy, no system call); writes run as LMDB write transactions.
 *
 * Conventions that hold for every call below:
 *
 *  - Every call that can fail returns an int: 0 on success or a negative
 *    PC_E* code.  pc_strerror() explains a code, pc_err_name() names it.
 *    errno is never part of the contract.
 *  - A call that fails with any code changes nothing in the store.
 *  - Keys are byte strings of 1 to PC_KEY_MAX (250) bytes; any byte may occur.
 *  - Results come back through out-parameters.  An out-parameter documented
 *    as "may be NULL" is simply not written when NULL.
 *  - A pc_client is for one thread at a time.  Open one client per thread
 *    (cheap: clients of one process share the mapped store) or serialise use
 *    of one client with your own lock.  Distinct clients may be used from
 *    distinct threads concurrently.  Nothing here is async-signal-safe.
 *  - After fork() the child must open its own client; any call on a client
 *    inherited across fork() fails with PC_EFORK and touches nothing.
 *
 * Memory ownership:
 *
 *  - Views returned by read calls (pc_val of kind PC_BYTES, pc_bytes) point
 *    into the mapped store and stay valid until pc_read_end() on that read.
 *    Do not write through them.
 *  - Values returned by write calls (pc_getset's old value, popped elements)
 *    point into the client's reply buffer and stay valid until the next write
 *    call, pc_batch_exec(), pc_txn_commit() or pc_close() on that client.
 *  - Nothing returned is ever to be freed by the caller, except where a call
 *    says so.
 *
 * This header compiles on its own in C11 and C++ and includes only standard
 * headers.
 */
#ifndef PYCACHE_H
#define PYCACHE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#ifdef __cplusplus
extern "C" {
#endif

#if defined(__GNUC__) && __GNUC__ >= 4
#define PC_EXPORT __attribute__((visibility("default")))
#else
#define PC_EXPORT
#endif

/* ------------------------------------------------------------------------ */
/* Versions and limits                                                       */

#define PC_VERSION_MAJOR 0
#define PC_VERSION_MINOR 1
#define PC_VERSION_PATCH 0

/** Longest key in bytes (memcached's limit).  The shortest is 1 byte. */
#define PC_KEY_MAX 250
/** Default largest value (a string, or one element of a collection): 64 MiB. */
#define PC_VALUE_MAX_DEFAULT (64u << 20)
/** Longest TTL accepted: 100 years in milliseconds.  Longer is PC_EINVAL. */
#define PC_TTL_MAX_MS (100LL * 366 * 24 * 3600 * 1000)
/** Most writes (conditions included) one transaction may queue: the next one
 *  is refused with PC_ETXNSIZE when it is queued.  Batches have no such limit. */
#define PC_TXN_MAX 65536
/** Size of the opaque position kept in a pc_cursor. */
#define PC_CURSOR_POS_MAX 496

/* ------------------------------------------------------------------------ */
/* Errors                                                                    */

/*
 * The error table: name, value, message.  Codes that mirror an errno are
 * -errno (Linux values); pycache's own codes sit in a reserved block from
 * -31000 downward, clear of errno values and of LMDB's -30600..-30800.
 * Values are never reused; a new code takes the next value down.
 * PC_ECLOSED is reserved: no call returns it (a closed client is freed
 * memory and cannot be told from a live one; see pc_close()).
 */
#define PC_ERRNO_MAP(X)                                                             \
    X(ENOMEM, -12, "out of memory")                                                 \
    X(EINVAL, -22, "invalid argument")                                              \
    X(EAGAIN, -11, "resource temporarily unavailable; try again")                   \
    X(EBUSY, -16, "store or handle is busy")                                        \
    X(EACCES, -13, "permission denied")                                             \
    X(EIO, -5, "input/output error")                                                \
    X(ENOSPC, -28, "no space left on the disk: the filesystem is full")             \
    X(ENOENT, -2, "no such store directory or file")                                \
    X(ENOTSUP, -95, "operation not supported in this mode")                         \
    X(ECONNREFUSED, -111, "no daemon is serving this store")                        \
    X(EPROTO, -71, "protocol error between client and daemon")                      \
    X(ECONNRESET, -104, "connection to the daemon was lost")                        \
    X(ETIMEDOUT, -110, "timed out")                                                 \
    X(ENOTFOUND, -31001, "no such key, field or element")                           \
    X(EWRONGTYPE, -31002, "operation against a key holding the wrong type")         \
    X(EKEY, -31003, "key must be 1 to 250 bytes")                                   \
    X(ETOOBIG, -31004, "value or request larger than the store's maximum")          \
    X(EOVERFLOW, -31005, "integer overflow")                                        \
    X(ENAN, -31006, "not a finite number")                                          \
    X(ERANGE, -31007, "index out of range")                                         \
    X(EEXIST, -31008, "key already exists")                                         \
    X(ECONFLICT, -31009, "transaction condition failed; nothing was written")       \
    X(ECROSSSHARD, -31010, "the keys lie in different shards; give them one {tag}") \
    X(EFULL, -31011, "store is full")                                               \
    X(ECORRUPT, -31012, "store data is malformed")                                  \
    X(EINCOMPAT, -31013, "store was made by an incompatible pycache version")       \
    X(ESTATE, -31014, "call not allowed in the client's current state")             \
    X(EFORK, -31015, "client used in a child process after fork(); open a new one") \
    X(ECLOSED, -31016, "client is closed")                                          \
    X(ECOLLISION, -31017, "two long members share a digest; cannot store both")     \
    X(ENOTINT, -31018, "value is not an integer")                                   \
    X(ENOTNUM, -31019, "value is not a number")                                     \
    X(ETXNSIZE, -31020, "transaction has too many operations (at most 65536)")

typedef enum pc_err {
    PC_OK = 0,
#define PC__ERR_ENUM(name, val, msg) PC_##name = (val),
    PC_ERRNO_MAP(PC__ERR_ENUM)
#undef PC__ERR_ENUM
} pc_err;

/**
 * Explain an error code.  Returns a static string, never NULL; codes that are
 * not in the table but are -errno values get the C library's description.
 * Thread-safe.
 */
PC_EXPORT const char *pc_strerror(int err);

/** The symbolic name of an error code ("PC_EWRONGTYPE"), or "PC_E?" if unknown. */
PC_EXPORT const char *pc_err_name(int err);

typedef struct pc_client pc_client;

/**
 * What the last call on c that failed said, with its context: the call's
 * name, the code's message, what was wrong where the library knows it, and
 * the code's name, as in
 *
 *     pc_expire: invalid argument: ttl_ms must be 1 to 3162240000000 ms, got 0 (PC_EINVAL)
 *     pc_incrby: value is not an integer: the key holds a String that is not an integer
 *         in canonical form (PC_ENOTINT)
 *
 * (one line).  Like errno, it is meaningful right after a call on c (or on
 * a read of c) returned an error, and a call that succeeds leaves it as it
 * was; "" when no call has failed yet.  The string belongs to c and stays
 * valid until the next call on c.  NULL gives "".  Same thread rules as c.
 */
PC_EXPORT const char *pc_last_error(pc_client *c);

/* ------------------------------------------------------------------------ */
/* Values                                                                    */

/** A key's type. */
typedef enum pc_type {
    PC_T_NONE = 0, /**< no such key */
    PC_T_STRING,
    PC_T_NUMERIC,
    PC_T_LIST,
    PC_T_MAP,
    PC_T_SET,
    PC_T_QUEUE,
    /* issue 16 */
    PC_T_FLIGHT, /**< a function's cached value and the lease of who computes it */
    PC_T_BITS,   /**< a bit array, stored in chunks */
    PC_T_BLOOM,  /**< a scalable Bloom filter */
    /* issue 17 */
    PC_T_STREAM, /**< a stream: entries by ID, consumer groups */
    PC_T_ZSET    /**< a sorted set */
} pc_type;

/** The number of pc_type values (PC_T_NONE included). */
#define PC_T__COUNT 12

/** The name of a type: "none", "string", "numeric", "list", "map", "set", "queue",
 *  "flight", "bits", "bloom", "stream", "zset". */
PC_EXPORT const char *pc_type_name(pc_type t);

/** What a pc_val holds. */
typedef enum pc_kind {
    PC_NONE = 0, /**< no value: a missing key or field in a multi-get */
    PC_NIL,      /**< a stored null (collections only) */
    PC_BYTES,    /**< a byte string: s.ptr, s.len */
    PC_INT,      /**< int64: i */
    PC_DOUBLE,   /**< double: d */
    PC_BOOL      /**< boolean: b (collections only) */
} pc_kind;

/** A byte string.  ptr may be NULL when len is 0. */
typedef struct pc_bytes {
    const void *ptr;
    size_t len;
} pc_bytes;

/**
 * A typed scalar.  Strings are PC_BYTES, numerics PC_INT or PC_DOUBLE; the
 * elements of lists, queues, maps (values) and sets are any of PC_NIL,
 * PC_BYTES, PC_INT, PC_DOUBLE, PC_BOOL and come back with the kind they went
 * in with.
 */
typedef struct pc_val {
    pc_kind kind;
    union {
        pc_bytes s;
        int64_t i;
        double d;
        bool b;
    };
} pc_val;

static inline pc_bytes pc_b(const void *p, size_t n)
{
    pc_bytes b = {p, n};
    return b;
}
static inline pc_val pc_mem(const void *p, size_t n)
{
    pc_val v;
    v.kind = PC_BYTES;
    v.s.ptr = p;
    v.s.len = n;
    return v;
}
/** A PC_BYTES value of a NUL-terminated string (the NUL is not included). */
static inline pc_val pc_str(const char *s)
{
    size_t n = 0;
    while (s[n])
        n++;
    return pc_mem(s, n);
}
static inline pc_val pc_int(int64_t i)
{
    pc_val v;
    v.kind = PC_INT;
    v.i = i;
    return v;
}
static inline pc_val pc_dbl(double d)
{
    pc_val v;
    v.kind = PC_DOUBLE;
    v.d = d;
    return v;
}
static inline pc_val pc_bool(bool b)
{
    pc_val v;
    v.kind = PC_BOOL;
    v.b = b;
    return v;
}
static inline pc_val pc_nil(void)
{
    pc_val v;
    v.kind = PC_NIL;
    v.i = 0;
    return v;
}

/**
 * A position in a paged listing (keys, map fields, set members, set algebra).
 * Initialise with PC_CURSOR_INIT (or zero it), pass it to the same listing
 * call until done is true.  Listings go in a fixed order and resume strictly
 * after the last item returned, so no item is returned twice.  Keep one
 * pc_read open across pages to page through one consistent snapshot; across
 * reads, items written meanwhile may or may not appear.
 */
typedef struct pc_cursor {
    bool done;                            /**< true: nothing more to list */
    uint8_t started;                      /**< internal */
    uint16_t len;                         /**< internal */
    uint32_t shard;                       /**< internal */
    unsigned char pos[PC_CURSOR_POS_MAX]; /**< internal */
} pc_cursor;
/* clang-format off */
#ifdef __cplusplus
#define PC_CURSOR_INIT {}
#else
#define PC_CURSOR_INIT {0}
#endif
/* clang-format on */

/* ------------------------------------------------------------------------ */
/* Clients                                                                   */

typedef struct pc_read pc_read;

/** pc_options.flags */
enum {
    /** Open the store directly (no daemon); writes run in this process. */
    PC_OPT_EMBEDDED = 1u << 0,
    /** Embedded mode: create the store directory and store if missing. */
    PC_OPT_CREATE = 1u << 1,
    /** Embedded mode: do not fsync commits (a process crash loses nothing;
     *  an OS crash may lose the latest commits). */
    PC_OPT_NOSYNC = 1u << 2,
    /** Daemon mode: never map the store; reads travel through the channel
     *  and arrive as copies (what peers admitted as ring-only always get). */
    PC_OPT_RING_ONLY = 1u << 3,
    /** Daemon mode: a write that finds the request ring full returns
     *  PC_EAGAIN (nothing sent) instead of waiting for room. */
    PC_OPT_NONBLOCK = 1u << 4
};

/** Options for pc_connect().  Set up with pc_options_init(). */
typedef struct pc_options {
    unsigned flags;       /**< PC_OPT_* */
    uint64_t map_size;    /**< creation only: the map's size in bytes (0: 1 GiB) */
    unsigned shards;      /**< creation only: number of shards, 1..64 (0: 1) */
    unsigned max_readers; /**< creation only: LMDB reader slots (0: 4096) */
    uint64_t max_value;   /**< creation only: largest value (0: 64 MiB) */
    /** Daemon mode: the longest a call waits for the daemon, in ms, without
     *  the daemon making progress on it, and the longest a write waits for a
     *  daemon that is being restarted (0: PC_TIMEOUT_DEFAULT_MS; negative: no
     *  limit).  See "Deadlines" below. */
    int64_t timeout_ms;
} pc_options;

/** The default of pc_options.timeout_ms: 10 seconds. */
#define PC_TIMEOUT_DEFAULT_MS 10000

/** Fill *opt with the defaults (all zero: daemon mode, defaults on creation). */
PC_EXPORT void pc_options_init(pc_options *opt);

/**
 * Open a client on the store in directory dir.
 *
 * With PC_OPT_EMBEDDED the store is opened directly and this process runs its
 * own writes; the store is refused with PC_EBUSY while a pycached daemon holds
 * it.  Without it, the client talks to the daemon serving dir.  A store's
 * shape (shards, map size, reader slots, largest value) is fixed when it is
 * created and read back on every open; the creation fields of opt are then
 * ignored.
 *
 * @param dir  the store directory (NULL: $XDG_RUNTIME_DIR/pycache, or
 *             /run/pycache for root)
 * @param opt  options, or NULL for the defaults
 * @param out  receives the client; close it with pc_close()
 * @return 0, PC_ENOENT (no store and no PC_OPT_CREATE), PC_EBUSY (embedded:
 *         a daemon holds the store; daemon mode: it serves --max-clients
 *         already), PC_EACCES, PC_EINCOMPAT, PC_ECORRUPT, PC_ECONNREFUSED,
 *         PC_EINVAL, PC_ENOMEM (here, or in the daemon), PC_EIO.
 * Thread-safe.
 */
PC_EXPORT int pc_connect(const char *dir, const pc_options *opt, pc_client **out);

/*
 * Restarts.  A store has an identity (pc_store_info.id) that is made with it
 * and changes only when the store is made anew.  A daemon-mode client notices
 * that its daemon has gone (stopped, crashed, killed) without a system call:
 * the daemon's page carries a word that the kernel marks when the daemon
 * dies.  Then:
 *
 *  - pc_read_begin() connects afresh at once.  If a daemon serves the
 *    directory again, the read sees the store it serves: the same store as
 *    before, or, when the store was made anew (wiped and restarted), the new
 *    one.  While no daemon serves it, pc_read_begin() fails with
 *    PC_ECONNREFUSED: a client never reads a store that is no longer
 *    served.  A read begun before the daemon went keeps its snapshot until
 *    pc_read_end().
 *  - A write (and every call that asks the daemon) connects afresh by itself,
 *    retrying every few milliseconds (1, 2, 4 ... 64, then every 100 ms) for
 *    up to the client's timeout while no daemon answers; then it fails with
 *    PC_ETIMEDOUT and the next call tries again.
 *  - A call that was in flight when the daemon went fails with
 *    PC_ECONNRESET: it may or may not have been done (as with any server).
 *    It is never sent again by the library; the next call connects afresh.
 *
 * Deadlines.  No call waits for the daemon without end.  A call fails with
 * PC_ETIMEDOUT when the daemon shows no progress on it for the client's
 * timeout (pc_options.timeout_ms, PC_TIMEOUT_DEFAULT_MS by default): a daemon
 * that is alive but hung (SIGSTOP, a debugger) or a full ring that never
 * drains.  The call may or may not have been done; the client stays usable
 * and connects afresh on its next call.  pc_qpop_wait() keeps its own
 * timeout, to within 100 ms, whatever the daemon does.
 * pc_snapshot() waits for the snapshot for PC_SNAPSHOT_WAIT_MS or the
 * client's timeout, whichever is longer.
 */

/** The least pc_snapshot() waits for a snapshot to be on disk: 10 minutes. */
#define PC_SNAPSHOT_WAIT_MS 600000

/**
 * Close a client: ends its read if one is open, drops a pending batch or
 * transaction, releases everything.  NULL is ignored.  After fork(), calling
 * it in the child only frees the child's memory.
 *
 * Like free(3), this frees the client itself and its pc_read: afterwards c,
 * and any pc_read handle of c, point to freed memory, and passing either to
 * any call (pc_close() again included) is a bug in the program, with
 * undefined results; no call can detect it (PC_ECLOSED is never returned).
 * To guard against it, set the pointer to NULL at once:
 *
 *     pc_close(c);
 *     c = NULL;
 *
 * Every call returns PC_EINVAL for a NULL client or read and changes
 * nothing; pc_close(), pc_read_end() and pc_discard() ignore NULL, and
 * pc_pending() returns 0.
 */
PC_EXPORT void pc_close(pc_client *c);

/** Store parameters, as fixed when the store was created. */
typedef struct pc_store_info {
    uint64_t map_size;
    uint64_t max_value;
    unsigned shards;
    unsigned max_readers;
    unsigned format;    /**< on-disk format version */
    bool embedded;      /**< this client runs its own writes */
    bool ring_only;     /**< reads travel through the daemon (no zero-copy) */
    uint32_t ring_size; /**< daemon mode: bytes in each ring of the channel */
    uint64_t id;        /**< the store's identity: random, made with the store; a store
                             made anew in the same directory has another */
} pc_store_info;

/** Describe the store this client is open on.  Returns 0, PC_EINVAL or PC_EFORK. */
PC_EXPORT int pc_store_info_get(pc_client *c, pc_store_info *out);

/* ------------------------------------------------------------------------ */
/* Zero-copy reads                                                           */

/*
 * A read sees one consistent snapshot of the store, and one moment of the
 * clock (taken by pc_read_begin): a key whose TTL ran out before that moment
 * is missing, whether or not it has been removed yet.  A read costs no
 * allocation, no lock and no system call after the first on a client.
 *
 * Keep reads short: an open read pins the pages it sees, and a store with a
 * long-open read cannot reuse them.  A client has at most one read open.
 * Every pc_read call below is for the thread that owns the client.
 */

/**
 * Begin a read.  *r receives a handle that belongs to c.  In daemon mode,
 * when the daemon has gone since the last read, this connects afresh first
 * (see "Restarts" above) and the read sees the store now served.
 * @return 0, PC_EBUSY (a read is already open on c), PC_EINVAL, PC_EFORK;
 *         after the daemon went: PC_ECONNREFUSED (no daemon serves the store
 *         now), PC_ETIMEDOUT, or what pc_connect() returns.
 */
PC_EXPORT int pc_read_begin(pc_client *c, pc_read **r);

/**
 * End a read: every view it handed out becomes invalid.  NULL is ignored.
 * The handle itself belongs to the client and stays valid, ended, until
 * pc_close(): every read call on it returns PC_EINVAL, pc_read_end() again
 * does nothing, and pc_read_begin() hands it out afresh.  After pc_close()
 * it is freed memory (see pc_close()).
 */
PC_EXPORT void pc_read_end(pc_read *r);

/**
 * Refresh an open read to the newest commit and the current time (cheaper than
 * end + begin).  Views handed out before become invalid.
 */
PC_EXPORT int pc_read_renew(pc_read *r);

/**
 * Get a String or Numeric value.
 * @param out  PC_BYTES (a view) for a String, PC_INT or PC_DOUBLE for a Numeric
 * @return 0, PC_ENOTFOUND (missing or expired), PC_EWRONGTYPE (a collection),
 *         PC_EKEY, PC_EINVAL, PC_ECORRUPT.
 */
PC_EXPORT int pc_get(pc_read *r, const void *key, size_t klen, pc_val *out);

/**
 * Get several String/Numeric keys at once.  out[i] gets the value of keys[i],
 * or kind PC_NONE when that key is missing, expired or a collection.
 * @param nfound  may be NULL; receives how many were found
 * @return 0, PC_EKEY (a bad key; nothing is filled), PC_EINVAL, PC_ECORRUPT.
 */
PC_EXPORT int pc_mget(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, size_t *nfound);

/**
 * pc_mget that says what each key holds: types[i] gets keys[i]'s type
 * (PC_T_NONE when missing or expired) and out[i] its value when it is a
 * String or Numeric (kind PC_NONE otherwise), so that "missing" and "holds
 * a collection" can be told apart.  One snapshot for all (daemon ring-only
 * clients: one look per key).
 * @param types   may be NULL
 * @param nfound  may be NULL; receives how many are Strings or Numerics
 * @return 0, PC_EKEY (a bad key; nothing is filled), PC_EINVAL, PC_ECORRUPT.
 */
PC_EXPORT int pc_mget_typed(pc_read *r, const pc_bytes *keys, size_t n, pc_val *out, pc_type *types,
                            size_t *nfound);

/** The type of a key: PC_T_NONE when missing or expired. */
PC_EXPORT int pc_type_of(pc_read *r, const void *key, size_t klen, pc_type *out);

/** Whether a key exists (1) or not (0). */
PC_EXPORT int pc_exists(pc_read *r, const void *key, size_t klen, int *out);

/**
 * How many of keys[0..n) exist (Redis EXISTS: a key named twice counts
 * twice).  Every key is checked first (PC_EKEY, nothing counted).
 */
PC_EXPORT int pc_exists_keys(pc_read *r, const pc_bytes *keys, size_t n, uint64_t *count);

/**
 * Redis TOUCH: record an access to each of keys[0..n) that exists, for the
 * daemon's LRU and LFU eviction, and count them (*count, as
 * pc_exists_keys).  Every read of a key records an access as well; this one
 * reads nothing else.
 */
PC_EXPORT int pc_touch(pc_read *r, const pc_bytes *keys, size_t n, uint64_t *count);

/**
 * Time to live in milliseconds: *ms_left gets the time left (at least 1), or
 * -1 for a key without a TTL.  PC_ENOTFOUND for a missing key.
 */
PC_EXPORT int pc_ttl(pc_read *r, const void *key, size_t klen, int64_t *ms_left);

/** pc_ttl in whole seconds, rounded up; -1 for no TTL. */
PC_EXPORT int pc_ttl_sec(pc_read *r, const void *key, size_t klen, int64_t *s_left);

/**
 * When a key expires, in ms since the epoch (Redis PEXPIRETIME): *at_ms gets
 * the time, or -1 for a key without a TTL.  PC_ENOTFOUND for a missing key.
 */
PC_EXPORT int pc_expiretime(pc_read *r, const void *key, size_t klen, int64_t *at_ms);

/**
 * The key's version: a number that changes (grows) every time the key is
 * written, for check-and-set with pc_txn_require_version().
 */
PC_EXPORT int pc_version(pc_read *r, const void *key, size_t klen, uint64_t *out);

/** Length in bytes of a String.  PC_ENOTFOUND, PC_EWRONGTYPE. */
PC_EXPORT int pc_strlen(pc_read *r, const void *key, size_t klen, uint64_t *out);

/**
 * A substring of a String, as a view: bytes start..end inclusive, negative
 * offsets count from the end (Redis GETRANGE).  An empty range gives len 0.
 */
PC_EXPORT int pc_getrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                          pc_val *out);

/** Number of elements of a List. */
PC_EXPORT int pc_llen(pc_read *r, const void *key, size_t klen, uint64_t *out);

/**
 * The element at index (0 is the head; negative counts from the tail).
 * @return 0, PC_ENOTFOUND (no key), PC_ERANGE (no such index), PC_EWRONGTYPE.
 */
PC_EXPORT int pc_lindex(pc_read *r, const void *key, size_t klen, int64_t index, pc_val *out);

/**
 * Elements start..stop inclusive (negative counts from the tail, Redis LRANGE
 * semantics), at most max of them, into out[0..*n).  To page, use indices
 * from the head (0 and up; get the length with pc_llen in the same read) and
 * call again with start advanced by *n: a negative start does not page.
 * O(log N + *n).  A missing key gives *n = 0 and 0.
 */
PC_EXPORT int pc_lrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop,
                        pc_val *out, size_t max, size_t *n);

/**
 * Redis LPOS: the indices (from the head) of the elements of a List equal
 * to v (same kind and value), at most max of them into pos[0..*n).
 * @param rank    1: from the first match on, 2: from the second, ...; -1:
 *                from the last match backwards (indices come tail first),
 *                -2 ...; 0 and INT64_MIN are PC_EINVAL
 * @param maxlen  compare at most this many elements from where the search
 *                starts (0: all)
 * A missing key gives *n = 0.  O(N).  PC_EWRONGTYPE for another type.
 */
PC_EXPORT int pc_lpos(pc_read *r, const void *key, size_t klen, const pc_val *v, int64_t rank,
                      uint64_t maxlen, uint64_t *pos, size_t max, size_t *n);

/** Number of elements of a Queue. */
PC_EXPORT int pc_qlen(pc_read *r, const void *key, size_t klen, uint64_t *out);

/** The element at the front of a Queue (the next to be popped).  PC_ENOTFOUND when missing. */
PC_EXPORT int pc_qpeek(pc_read *r, const void *key, size_t klen, pc_val *out);

/** Elements of a Queue from the front, as pc_lrange does for Lists. */
PC_EXPORT int pc_qrange(pc_read *r, const void *key, size_t klen, int64_t start, int64_t stop,
                        pc_val *out, size_t max, size_t *n);

/** A Map field's value.  PC_ENOTFOUND when the key or the field is missing. */
PC_EXPORT int pc_hget(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                      pc_val *out);

/**
 * Several fields of a Map: out[i] gets fields[i]'s value or kind PC_NONE.
 * A missing key fills every out[i] with PC_NONE and returns 0.
 */
PC_EXPORT int pc_hmget(pc_read *r, const void *key, size_t klen, const pc_bytes *fields, size_t n,
                       pc_val *out);

/** Number of fields of a Map. */
PC_EXPORT int pc_hlen(pc_read *r, const void *key, size_t klen, uint64_t *out);

/**
 * Length in bytes of a Map field's value (Redis HSTRLEN).  PC_ENOTFOUND when
 * the key or the field is missing; PC_EWRONGTYPE when the value is not a
 * byte string (a number, boolean or null) or the key is not a Map.
 */
PC_EXPORT int pc_hstrlen(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                         uint64_t *out);

/** Whether a Map has a field (1) or not (0, also for a missing key). */
PC_EXPORT int pc_hexists(pc_read *r, const void *key, size_t klen, const void *field, size_t flen,
                         int *out);

/**
 * Page through a Map's fields and values, at most max per call, in field
 * order (fields longer than 463 bytes sort by their first 464 bytes).
 * fields and values may each be NULL when not wanted.
 */
PC_EXPORT int pc_hscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_bytes *fields,
                       pc_val *values, size_t max, size_t *n);

/** Number of members of a Set. */
PC_EXPORT int pc_scard(pc_read *r, const void *key, size_t klen, uint64_t *out);

/** Whether a Set holds member (1) or not (0, also for a missing key). */
PC_EXPORT int pc_sismember(pc_read *r, const void *key, size_t klen, const pc_val *member,
                           int *out);

/** Page through a Set's members, at most max per call, in a fixed order. */
PC_EXPORT int pc_sscan(pc_read *r, const void *key, size_t klen, pc_cursor *cur, pc_val *out,
                       size_t max, size_t *n);

/** Redis SMISMEMBER: out[i] gets 1 when the Set holds members[i], else 0. */
PC_EXPORT int pc_smismember(pc_read *r, const void *key, size_t klen, const pc_val *members,
                            size_t n, int *out);

/**
 * Redis SRANDMEMBER: members chosen at random, in random order, at most max
 * of them into out[0..*n).  count > 0: that many distinct members (all of
 * them when the Set has fewer); count < 0: -count members that may repeat;
 * 0: none.  A missing key gives *n = 0.  Sets of up to 1024 members are
 * sampled exactly uniformly.  From larger ones a member is picked by a
 * random walk down the bytes of the members' sorted encodings, O(length of
 * a member) (close to uniform, exactly so when the members fill their
 * byte ranges), except that more than 64 distinct members are a uniform
 * sample of a full pass, O(N).
 */
PC_EXPORT int pc_srandmember(pc_read *r, const void *key, size_t klen, int64_t count, pc_val *out,
                             size_t max, size_t *n);

/**
 * Set algebra over nkeys Sets (missing keys are empty sets), paged like
 * pc_sscan.  Union: members of any; inter: members of all; diff: members of
 * the first that are in none of the others.  A key that is not a Set is
 * PC_EWRONGTYPE.
 */
PC_EXPORT int pc_sunion(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
                        size_t max, size_t *n);
PC_EXPORT int pc_sinter(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
                        size_t max, size_t *n);
PC_EXPORT int pc_sdiff(pc_read *r, const pc_bytes *keys, size_t nkeys, pc_cursor *cur, pc_val *out,
                       size_t max, size_t *n);

/**
 * Page through the live keys whose names match glob (fnmatch(3) rules, no
 * flags; NULL or "*" matches every key; a key with a NUL byte matches only
 * those), at most max per call, shard by shard in byte order.
 */
PC_EXPORT int pc_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys, size_t max,
                      size_t *n);

/**
 * Redis DBSIZE: the number of live keys (keys whose TTL ran out but are not
 * removed yet do not count).  O(shards + such keys).
 */
PC_EXPORT int pc_dbsize(pc_read *r, uint64_t *n);

/**
 * Redis RANDOMKEY: a live key chosen at random, as a view valid until
 * pc_read_end().  A shard is chosen by its share of the keys; in it a key
 * exactly uniformly up to 1024 keys, else by a random walk down the keys'
 * bytes, as pc_srandmember does.  PC_ENOTFOUND when the store holds no live
 * key.
 */
PC_EXPORT int pc_randomkey(pc_read *r, pc_bytes *key);

/* ------------------------------------------------------------------------ */
/* Writes                                                                    */

/*
 * Each write is answered once it is committed.  In a batch or a transaction
 * (below) a write is queued instead: it checks its arguments and returns 0 or
 * their error at once, and its out-parameters are filled when the batch or
 * transaction runs, so they must stay valid until then.
 *
 * ttl_ms arguments: 0 means no TTL; otherwise 1..PC_TTL_MAX_MS milliseconds.
 * A negative or larger TTL is PC_EINVAL.
 */

/** pc_set flags */
enum {
    PC_NX = 1u << 0,     /**< only if the key does not exist (else PC_EEXIST) */
    PC_XX = 1u << 1,     /**< only if the key exists (else PC_ENOTFOUND) */
    PC_KEEPTTL = 1u << 2 /**< keep the key's current TTL (ttl_ms must be 0) */
};

/**
 * Store a String (v->kind PC_BYTES) or a Numeric (PC_INT, PC_DOUBLE; a
 * double must be finite), replacing whatever the key held.  Without
 * PC_KEEPTTL the key's TTL becomes ttl_ms.
 * @return 0, PC_EEXIST (PC_NX), PC_ENOTFOUND (PC_XX), PC_EKEY, PC_EINVAL,
 *         PC_ENAN, PC_ETOOBIG, PC_EFULL, PC_ENOMEM, PC_EIO.
 */
PC_EXPORT int pc_set(pc_client *c, const void *key, size_t klen, const pc_val *v, int64_t ttl_ms,
                     unsigned flags);

/** pc_set with a TTL in seconds (0: none). */
PC_EXPORT int pc_set_sec(pc_client *c, const void *key, size_t klen, const pc_val *v, int64_t ttl_s,
                         unsigned flags);

/**
 * Store a whole collection, replacing whatever the key held (in O(1): the old
 * members are removed in the background).  type is PC_T_LIST, PC_T_QUEUE or
 * PC_T_SET with items[0..n) its elements; or PC_T_MAP with items holding n/2
 * pairs: a PC_BYTES field then its value.  Duplicate set members and map
 * fields collapse (the last value of a field wins).  An empty collection does
 * not exist: n == 0 deletes the key.  Flags and TTL as for pc_set.
 */
PC_EXPORT int pc_set_coll(pc_client *c, const void *key, size_t klen, pc_type type,
                          const pc_val *items, size_t n, int64_t ttl_ms, unsigned flags);

/** Store several Strings/Numerics (each as pc_set with no TTL).  In one shard
 *  this is atomic; across shards each key is set on its own. */
PC_EXPORT int pc_mset(pc_client *c, const pc_bytes *keys, const pc_val *vals, size_t n);

/** Delete a key of any type; *deleted (may be NULL) gets 1 or 0. */
PC_EXPORT int pc_del(pc_client *c, const void *key, size_t klen, int *deleted);

/**
 * Delete keys[0..n) (Redis DEL and UNLINK: a collection goes in O(1), its
 * members in the background); *deleted (may be NULL) gets how many existed.
 * Every key is checked before anything is sent (PC_EKEY).  Keys of one
 * shard go in one transaction (all or none); across shards each shard's
 * keys go on their own.  In a batch or transaction the keys are queued
 * (one write each in pc_pending()) and *deleted is filled when it runs.
 */
PC_EXPORT int pc_del_keys(pc_client *c, const pc_bytes *keys, size_t n, uint64_t *deleted);

/** pc_rename flags */
enum {
    PC_RENAME_NX = 1u << 0 /**< only if newkey does not exist (Redis RENAMENX) */
};

/**
 * Redis RENAME / RENAMENX: key's value, type and TTL move to newkey, which
 * loses what it held; a collection moves in O(1).  Both keys must lie in one
 * shard (always so with one shard; else give them the same {tag}):
 * PC_ECROSSSHARD otherwise, and nothing changes.  *renamed (may be NULL)
 * gets 1, or 0 when PC_RENAME_NX found newkey there (or newkey is key).
 * @return 0, PC_ENOTFOUND (no key), PC_ECROSSSHARD, PC_EKEY, PC_EINVAL, ...
 */
PC_EXPORT int pc_rename(pc_client *c, const void *key, size_t klen, const void *newkey,
                        size_t nklen, unsigned flags, int *renamed);

/**
 * Give a key a TTL of ttl_ms (1..PC_TTL_MAX_MS).  *set (may be NULL) gets 1,
 * or 0 when the key is missing, in which case nothing is created.
 */
PC_EXPORT int pc_expire(pc_client *c, const void *key, size_t klen, int64_t ttl_ms, int *set);

/** pc_expire in seconds. */
PC_EXPORT int pc_expire_sec(pc_client *c, const void *key, size_t klen, int64_t ttl_s, int *set);

/**
 * Redis PEXPIREAT: the key expires at at_ms (ms since the epoch, 0 to now +
 * PC_TTL_MAX_MS); a time not after now deletes it at once.  *set (may be
 * NULL) gets 1, or 0 when the key is missing.
 */
PC_EXPORT int pc_expireat(pc_client *c, const void *key, size_t klen, int64_t at_ms, int *set);

/** Remove a key's TTL; *changed (may be NULL) gets 1 if it had one. */
PC_EXPORT int pc_persist(pc_client *c, const void *key, size_t klen, int *changed);

/**
 * Set a String or Numeric and return what it held: *old gets kind PC_NONE
 * when the key was missing.  The key's TTL is cleared.  PC_EWRONGTYPE when
 * the key holds a collection.
 */
PC_EXPORT int pc_getset(pc_client *c, const void *key, size_t klen, const pc_val *v, pc_val *old);

/**
 * Redis GETDEL: delete a String or Numeric and return what it held (*old of
 * kind PC_NONE when the key was missing).  PC_EWRONGTYPE (nothing deleted)
 * for a collection.
 */
PC_EXPORT int pc_getdel(pc_client *c, const void *key, size_t klen, pc_val *old);

/** pc_getex's how */
enum {
    PC_GETEX_KEEP = 0,    /**< leave the TTL as it is (ms must be 0) */
    PC_GETEX_TTL = 1,     /**< a TTL of ms (1..PC_TTL_MAX_MS) */
    PC_GETEX_AT = 2,      /**< expire at ms since the epoch; a past time deletes */
    PC_GETEX_PERSIST = 3, /**< remove the TTL (ms must be 0) */
    PC_GETEX_DEL = 4      /**< delete the key: pc_getdel (ms must be 0) */
};

/**
 * Redis GETEX: return a String or Numeric (*out of kind PC_NONE for a
 * missing key) and change its TTL as how says (PC_GETEX_*).
 * PC_EWRONGTYPE (nothing changed) for a collection; PC_EINVAL for a bad
 * how or ms.
 */
PC_EXPORT int pc_getex(pc_client *c, const void *key, size_t klen, int how, int64_t ms,
                       pc_val *out);

/** Append bytes to a String (creating it); *len (may be NULL) gets the new length. */
PC_EXPORT int pc_append(pc_client *c, const void *key, size_t klen, const void *data, size_t dlen,
                        uint64_t *len);

/**
 * Overwrite a String from offset on, zero-padding if it is shorter (creating
 * it if missing); *len (may be NULL) gets the new length.
 */
PC_EXPORT int pc_setrange(pc_client *c, const void *key, size_t klen, uint64_t offset,
                          const void *data, size_t dlen, uint64_t *len);

/**
 * Add to an integer Numeric (a missing key counts as 0); *now (may be NULL)
 * gets the result, and the key becomes (or stays) an integer Numeric; its
 * TTL stays.  A String that holds an integer in canonical form ("0", or an
 * optional '-' then digits without a leading 0, within 64 bits, as Redis
 * reads it) counts as that integer.  PC_EOVERFLOW, PC_ENOTINT (a double
 * Numeric, or a String that is not such an integer), PC_EWRONGTYPE (a
 * collection).
 */
PC_EXPORT int pc_incrby(pc_client *c, const void *key, size_t klen, int64_t by, int64_t *now);

/**
 * Add to a Numeric as a double (an integer Numeric becomes a double); a
 * result that is not finite is PC_ENAN.  A String that holds an integer in
 * canonical form or a decimal number (an optional '-', digits with an
 * optional '.', an optional exponent; no blanks, '+', hex, inf or nan) counts
 * as that number; another String is PC_ENOTNUM.
 */
PC_EXPORT int pc_incrbyfloat(pc_client *c, const void *key, size_t klen, double by, double *now);

/** Push elements at the head (each in turn, as Redis LPUSH) or the tail of a List. */
PC_EXPORT int pc_lpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n,
                       uint64_t *len);
PC_EXPORT int pc_rpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n,
                       uint64_t *len);

/**
 * Pop up to max elements from the head / tail of a List into out[0..*n).
 * Popping the last element removes the key.  PC_ENOTFOUND when missing.
 */
PC_EXPORT int pc_lpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out,
                      size_t *n);
PC_EXPORT int pc_rpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out,
                      size_t *n);

/** Replace the element at index (negative from the tail).  PC_ERANGE, PC_ENOTFOUND. */
PC_EXPORT int pc_lset(pc_client *c, const void *key, size_t klen, int64_t index, const pc_val *v);

/** Keep only elements start..stop inclusive (Redis LTRIM); an empty result removes the key. */
PC_EXPORT int pc_ltrim(pc_client *c, const void *key, size_t klen, int64_t start, int64_t stop);

/**
 * Remove elements equal to v (same kind and value): count > 0 the first
 * count from the head, count < 0 from the tail, 0 all (Redis LREM).  O(N).
 */
PC_EXPORT int pc_lrem(pc_client *c, const void *key, size_t klen, int64_t count, const pc_val *v,
                      uint64_t *removed);

/**
 * Redis LINSERT: insert v before (or after) the first element equal to
 * pivot (same kind and value), O(N).  *len (may be NULL) gets the new
 * length, -1 when no element equals pivot, 0 when the key is missing
 * (nothing is created).
 */
PC_EXPORT int pc_linsert(pc_client *c, const void *key, size_t klen, bool before,
                         const pc_val *pivot, const pc_val *v, int64_t *len);

/**
 * Redis LMOVE: pop an element from the head (from_left) or tail of List src
 * and push it at the head (to_left) or tail of List dst (created if
 * missing; src == dst rotates).  *out (may be NULL) gets the element, kind
 * PC_NONE when src is missing.  Both keys must lie in one shard
 * (PC_ECROSSSHARD otherwise, as pc_rename).  PC_EWRONGTYPE when either
 * holds another type.
 */
PC_EXPORT int pc_lmove(pc_client *c, const void *src, size_t slen, const void *dst, size_t dlen,
                       bool from_left, bool to_left, pc_val *out);

/** Push elements at the back of a Queue. */
PC_EXPORT int pc_qpush(pc_client *c, const void *key, size_t klen, const pc_val *v, size_t n,
                       uint64_t *len);

/** Pop up to max elements from the front of a Queue.  PC_ENOTFOUND when missing. */
PC_EXPORT int pc_qpop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out,
                      size_t *n);

/**
 * pc_qpop that waits up to timeout_ms (1..PC_TTL_MAX_MS) for an element to
 * arrive when the Queue is empty or missing.  The daemon answers as soon as a
 * push lands; in embedded mode the client polls.  PC_ETIMEDOUT when nothing
 * came.  Not allowed in a batch or transaction (PC_ESTATE).
 */
PC_EXPORT int pc_qpop_wait(pc_client *c, const void *key, size_t klen, size_t max,
                           int64_t timeout_ms, pc_val *out, size_t *n);

/**
 * Set n fields of a Map (a field is any byte string, up to the largest value);
 * *added (may be NULL) gets how many fields are new.
 */
PC_EXPORT int pc_hset(pc_client *c, const void *key, size_t klen, const pc_bytes *fields,
                      const pc_val *vals, size_t n, uint64_t *added);

/**
 * Redis HSETNX: set a field only if the Map does not have it (creating the
 * Map); *set (may be NULL) gets 1, or 0 when the field was there.
 */
PC_EXPORT int pc_hsetnx(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
                        const pc_val *v, int *set);

/** Delete fields; *removed (may be NULL) gets how many existed.  The last removes the key. */
PC_EXPORT int pc_hdel(pc_client *c, const void *key, size_t klen, const pc_bytes *fields, size_t n,
                      uint64_t *removed);

/** Add to an integer field (a missing field counts as 0; a String field that
 *  holds an integer in canonical form counts as it, as for pc_incrby). */
PC_EXPORT int pc_hincrby(pc_client *c, const void *key, size_t klen, const void *field, size_t flen,
                         int64_t by, int64_t *now);

/** Add to a numeric field as a double (a String field that holds a number
 *  counts as it, as for pc_incrbyfloat). */
PC_EXPORT int pc_hincrbyfloat(pc_client *c, const void *key, size_t klen, const void *field,
                              size_t flen, double by, double *now);

/** Add members to a Set; *added (may be NULL) gets how many are new. */
PC_EXPORT int pc_sadd(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n,
                      uint64_t *added);

/** Remove members; *removed gets how many were there.  The last removes the key. */
PC_EXPORT int pc_srem(pc_client *c, const void *key, size_t klen, const pc_val *m, size_t n,
                      uint64_t *removed);

/**
 * Redis SMOVE: move member from Set src to Set dst (created if missing; src
 * left empty is removed).  *moved (may be NULL) gets 1, or 0 when src does
 * not hold it.  Both keys in one shard (PC_ECROSSSHARD otherwise).
 */
PC_EXPORT int pc_smove(pc_client *c, const void *src, size_t slen, const void *dst, size_t dlen,
                       const pc_val *member, int *moved);

/** Remove and return up to max members, chosen at random.  PC_ENOTFOUND when missing. */
PC_EXPORT int pc_spop(pc_client *c, const void *key, size_t klen, size_t max, pc_val *out,
                      size_t *n);

/**
 * Empty the store: every key of every type goes, with its TTL.  Each shard
 * is emptied in one write transaction (O(pages), nothing per key), so a read
 * that begins after pc_flush() returns sees no key; a read already open
 * keeps its snapshot.  Shards are emptied one after another, not together:
 * a read that begins during the call may still see keys of a shard not yet
 * emptied.  The members of collections are deleted afterwards in the
 * background, as when a collection is deleted (pc_stats.swept counts them,
 * pc_stats.bytes_used falls as they go); in embedded mode each later write
 * deletes a few.  Key versions keep growing across a flush.
 *
 * Any client that may write may flush (there are no roles yet).  In a
 * batch it is queued as one request per shard (pc_pending() grows by the
 * number of shards; pc_batch_exec() reports each), and runs in its place in
 * the batch: writes queued after it survive it.  Not allowed in a
 * transaction (PC_ESTATE), which lives in one shard.
 *
 * @return 0, PC_ESTATE (in a transaction), PC_EFULL (a full map left no
 *         room to free pages: evict or delete some keys first), PC_ENOMEM,
 *         PC_EIO, PC_ECONNRESET (daemon mode: the daemon went away; whether
 *         the flush happened is unknown), PC_EINVAL, PC_EFORK.  Unlike
 *         other calls, a failure may leave some shards emptied and others
 *         not; calling again finishes the job.
 * Thread-safety: as every call on a client (one thread at a time).
 */
PC_EXPORT int pc_flush(pc_client *c);

/* ------------------------------------------------------------------------ */
/* Helpers: rate limiting (issue 16)                                         */

/**
 * What a rate limiter answered, as redis-cell's CL.THROTTLE does (times in
 * milliseconds, rounded up).
 */
typedef struct pc_throttle_info {
    bool limited;           /**< the request was refused (and nothing counted) */
    int64_t limit;          /**< GCRA: max_burst + 1; window: the limit */
    int64_t remaining;      /**< requests of quantity 1 that would pass now */
    int64_t retry_after_ms; /**< limited: when a retry can pass (-1: never, the
                                 quantity is over the limit); -1 when allowed */
    int64_t reset_after_ms; /**< when the limiter is back to its full allowance */
} pc_throttle_info;

/**
 * A GCRA rate limiter (the generic cell rate algorithm of redis-cell's
 * CL.THROTTLE key max_burst count period quantity): count requests per
 * period_ms on average, with bursts of up to max_burst + 1 at once.  The
 * request of weight quantity passes or is refused as a whole, in one step
 * of the key's shard's write transaction: concurrent callers of any
 * process never pass together where the limit lets one through.  quantity
 * 0 only looks (nothing is written).
 *
 * The key holds the limiter's state, a Numeric (the theoretical arrival
 * time in ns since the epoch) with a TTL; it goes by itself once the
 * limiter is back to its full allowance.  Its memory (max_burst, count,
 * period_ms) is the caller's: call with the same figures for one key.
 *
 * @param out  may be NULL
 * @return 0 (allowed or limited: see out->limited), PC_EINVAL (max_burst <
 *         0, count < 1, period_ms outside 1..PC_TTL_MAX_MS, quantity < 0, a
 *         count of more than one per nanosecond, or a burst that does not
 *         fit a TTL), PC_EWRONGTYPE (the key holds something else than a
 *         Numeric), PC_ENOTINT (a double Numeric), PC_EOVERFLOW, PC_EKEY,
 *         PC_EFULL, ...
 */
PC_EXPORT int pc_throttle(pc_client *c, const void *key, size_t klen, int64_t max_burst,
                          int64_t count, int64_t period_ms, int64_t quantity,
                          pc_throttle_info *out);

/**
 * A fixed-window rate limiter (the seed's "N calls per TTL"): at most limit
 * units per window of window_ms, the window starting at the first request
 * after the previous one ended.  The key holds the count, a Numeric whose
 * TTL is the end of the window.  Exact across processes, as pc_throttle.
 * out->limit is limit; retry_after_ms and reset_after_ms are the time left
 * in the window.  Errors as pc_throttle's (limit < 1, window_ms outside
 * 1..PC_TTL_MAX_MS, quantity < 0: PC_EINVAL).
 */
PC_EXPORT int pc_throttle_window(pc_client *c, const void *key, size_t klen, int64_t limit,
                                 int64_t window_ms, int64_t quantity, pc_throttle_info *out);

/* ------------------------------------------------------------------------ */
/* Helpers: function caching with single flight (issue 16)                   */

/*
 * A Flight key caches what a function returned, for every process of the
 * host, and makes sure that one caller at a time computes it.  It holds the
 * value (any element kind: bytes, int, double, bool, nil), fresh for a
 * while and then stale for a while more, and the lease of whoever computes
 * it now: a token, an end (ms since the epoch) and the owner's pid.
 *
 *   pc_flight_get      zero-copy: the value, fresh or stale, and the lease
 *   pc_flight_claim    the fresh value, or the lease to compute it; while
 *                      another holds the lease, wait (the daemon wakes the
 *                      waiter when the value is filled or the lease freed),
 *                      or take the stale value when asked
 *   pc_flight_fill     the owner stores the value with its lease token:
 *                      that ends the lease and wakes the waiters
 *   pc_flight_release  the owner gives the lease up without a value
 *
 * A lease binds until its end, and only while its owner lives: a claim
 * after the owner died (its pid is gone, or a zombie) or after the end takes
 * the lease over, with a new token; a fill or release with the old one is
 * then refused (PC_ECONFLICT).  In daemon mode the owner is the pid the
 * daemon sees for the client's connection, and a client's disconnection
 * makes the daemon try its waiters again at once.
 */

/** pc_flight.state */
enum {
    PC_FLIGHT_MISS = 0,  /**< no value (pc_flight_get) */
    PC_FLIGHT_FRESH = 1, /**< the value is fresh */
    PC_FLIGHT_STALE = 2, /**< the value is past its freshness (still within its stale time) */
    PC_FLIGHT_LEAD = 3   /**< pc_flight_claim: the caller holds the lease: compute, then fill */
};

/** pc_flight_claim flags */
enum {
    /** While another holds the lease, answer PC_FLIGHT_STALE with the stale
     *  value when there is one, instead of waiting. */
    PC_FLIGHT_TAKE_STALE = 1u << 0
};

/** A Flight key as a read or a claim found it. */
typedef struct pc_flight {
    int state;              /**< PC_FLIGHT_* */
    pc_val value;           /**< FRESH, STALE, and LEAD with a stale value; else PC_NONE */
    uint64_t token;         /**< the lease's token (LEAD: yours); 0: no lease */
    int64_t lease_until_ms; /**< when the lease ends (ms since the epoch) */
    int64_t owner_pid;      /**< who holds it */
} pc_flight;

/**
 * Zero-copy: what the Flight key holds (value views into the map, valid
 * until pc_read_end).  out->state is FRESH, STALE, or MISS when it holds
 * only a lease; the lease fields tell who computes it (a lease whose end
 * has passed, or whose owner died, binds no more).
 * @return 0, PC_ENOTFOUND (no such key), PC_EWRONGTYPE, PC_EKEY, PC_EINVAL.
 */
PC_EXPORT int pc_flight_get(pc_read *r, const void *key, size_t klen, pc_flight *out);

/**
 * Ask for the key's fresh value, or the right to compute it.
 *
 *  - a fresh value: out->state FRESH and the value (in the client's reply
 *    buffer, as pc_getset's);
 *  - no lease that binds: the caller takes it for lease_ms
 *    (1..PC_TTL_MAX_MS): out->state LEAD, out->token, and the stale value
 *    if there is one; call pc_flight_fill (or pc_flight_release) with the
 *    token;
 *  - another holds the lease: with PC_FLIGHT_TAKE_STALE and a stale value,
 *    STALE and that value; else wait up to timeout_ms (0: do not wait:
 *    PC_EBUSY) for the value to be filled (FRESH) or the lease to be freed
 *    (then this caller may take it: LEAD).  PC_ETIMEDOUT when the time ran
 *    out.  The daemon wakes the waiter; in embedded mode the client polls.
 *
 * A waiting claim (timeout_ms > 0) is not allowed in a batch or transaction
 * (PC_ESTATE).  flags: PC_FLIGHT_TAKE_STALE or 0.
 * @return 0, PC_EBUSY, PC_ETIMEDOUT, PC_EWRONGTYPE, PC_EINVAL, PC_ESTATE,
 *         PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_flight_claim(pc_client *c, const void *key, size_t klen, int64_t lease_ms,
                              int64_t timeout_ms, unsigned flags, pc_flight *out);

/**
 * Store the value computed under the lease token: fresh for ttl_ms
 * (1..PC_TTL_MAX_MS), then stale for stale_ms more (0..; the sum at most
 * PC_TTL_MAX_MS), when the key goes.  Ends the lease and wakes the waiters.
 * @return 0, PC_ECONFLICT (token is not the key's lease, or its end has
 *         passed: the value is not stored; the key is as it was),
 *         PC_EWRONGTYPE, PC_EINVAL (a bad value, TTL or
 *         token 0), PC_ETOOBIG, PC_ENAN, PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_flight_fill(pc_client *c, const void *key, size_t klen, uint64_t token,
                             const pc_val *v, int64_t ttl_ms, int64_t stale_ms);

/**
 * Give the lease token up without a value (the computation failed): the
 * next claim takes the lease; a stale value stays until its end.
 * @return 0, PC_ECONFLICT, PC_EWRONGTYPE, PC_EINVAL (token 0), PC_EKEY, ...
 */
PC_EXPORT int pc_flight_release(pc_client *c, const void *key, size_t klen, uint64_t token);

/* ------------------------------------------------------------------------ */
/* Bit arrays (issue 16)                                                     */

/*
 * A Bits key is a bit array as Redis's SETBIT family sees a string: bit 0
 * is the highest bit of byte 0, the array is as long as its highest byte
 * written, and bits never written read 0.  It is stored in chunks of 1 KiB
 * (an all-zero chunk is not stored), so a bit at offset 2^32 - 1 costs one
 * chunk, not 512 MiB.  Offsets go up to 2^32 - 1.  Reads are zero-copy.
 */

/** pc_bitop operations */
enum { PC_BITOP_AND = 0, PC_BITOP_OR = 1, PC_BITOP_XOR = 2, PC_BITOP_NOT = 3 };

/** pc_bitcount and pc_bitpos flags */
enum {
    PC_BITS_BIT = 1u << 0, /**< start and end count bits, not bytes (Redis's BIT) */
    PC_BITS_END = 1u << 1  /**< pc_bitpos: end was given (see there) */
};

/**
 * Set bit offset (0..2^32 - 1) to bit (0 or 1), creating the array (or
 * making it longer) as needed; *old (may be NULL) gets the bit it held.
 * @return 0, PC_EINVAL, PC_EWRONGTYPE, PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_setbit(pc_client *c, const void *key, size_t klen, uint64_t offset, int bit,
                        int *old);

/**
 * Redis's BITOP: dest becomes the AND, OR or XOR of the n source arrays, or
 * the NOT of the one (n == 1), as long as the longest source (a missing
 * key is an empty array, and bits past a source's end are 0); an empty
 * result deletes dest.  dest may be a source; whatever dest held is
 * replaced, and its TTL goes.  Every key must lie in dest's shard
 * (PC_ECROSSSHARD: use a {tag}).  *len (may be NULL) gets the result's
 * length in bytes.  O(stored chunks) (NOT: O(length)).
 * @return 0, PC_EINVAL, PC_EWRONGTYPE (a source is not a bit array),
 *         PC_ECROSSSHARD, PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_bitop(pc_client *c, int op, const void *dest, size_t dlen, const pc_bytes *keys,
                       size_t n, uint64_t *len);

/** Zero-copy: bit offset of an array (0 past its end, and for a missing key). */
PC_EXPORT int pc_getbit(pc_read *r, const void *key, size_t klen, uint64_t offset, int *bit);

/**
 * Zero-copy: the bits set from start to end (inclusive; negative counts from
 * the end; bytes, or bits with PC_BITS_BIT): Redis's BITCOUNT.  The whole
 * array: 0, -1.  A missing key counts 0.
 */
PC_EXPORT int pc_bitcount(pc_read *r, const void *key, size_t klen, int64_t start, int64_t end,
                          unsigned flags, uint64_t *count);

/**
 * Zero-copy: the position of the first bit equal to bit (0 or 1) from start
 * on (bytes, or bits with PC_BITS_BIT; negative from the end), or -1:
 * Redis's BITPOS.  With PC_BITS_END the search stops at end; without it, it
 * runs to the array's end, and looking for a 0 in an array of ones finds
 * the bit just past it.  A missing key: -1 for a 1, 0 for a 0.
 */
PC_EXPORT int pc_bitpos(pc_read *r, const void *key, size_t klen, int bit, int64_t start,
                        int64_t end, unsigned flags, int64_t *pos);

/** Zero-copy: the array's length in bytes (PC_ENOTFOUND for a missing key). */
PC_EXPORT int pc_bitlen(pc_read *r, const void *key, size_t klen, uint64_t *bytes);

/* ------------------------------------------------------------------------ */
/* Bloom filters (issue 16)                                                  */

/*
 * A Bloom key is a scalable Bloom filter, as the seed's ScalableBloomFilter
 * and RedisBloom's BF.* commands: it answers "maybe there" or "surely not"
 * for byte strings, with false positives at no more than its error rate
 * (and no false negatives).  It is made of layers: the first holds capacity
 * items at half the error rate; when the last is full, a new one expansion
 * times larger, at half the rate of the one before, is added; so the rate
 * of the whole stays below the error rate however much it grows.  A
 * non-scaling filter refuses items past its capacity (PC_ERANGE).  Bits are
 * stored in chunks (layers not yet filled cost little); lookups are
 * zero-copy.  A filter grows to at most 32 layers of at most 2^40 bits.
 */

/** pc_bf_reserve flags */
enum { PC_BF_NONSCALING = 1u << 0 };

/** What pc_bf_info_get says of a filter (RedisBloom's BF.INFO). */
typedef struct pc_bf_info {
    uint64_t capacity;  /**< items its layers hold together before it grows */
    uint64_t size;      /**< bytes of bits of its layers (stored: less, while sparse) */
    uint32_t filters;   /**< layers */
    uint32_t expansion; /**< growth factor (0 for a non-scaling filter) */
    uint64_t items;     /**< items added */
    double error_rate;  /**< as reserved */
    bool nonscaling;
} pc_bf_info;

/**
 * Make an empty filter for capacity items (1..) at error_rate (0 < e < 1),
 * growing expansion times (1..; 0: 2) per new layer, or not at all with
 * PC_BF_NONSCALING.
 * @return 0, PC_EEXIST (the key exists, of any type), PC_EINVAL, PC_ERANGE
 *         (a first layer of more than 2^40 bits), PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_bf_reserve(pc_client *c, const void *key, size_t klen, double error_rate,
                            uint64_t capacity, uint32_t expansion, unsigned flags);

/**
 * Add n items (byte strings, up to the largest value) to the filter, made
 * with RedisBloom's defaults (error rate 0.01, capacity 100, expansion 2)
 * when the key is missing.  added[i] (added may be NULL) gets 1 when item i
 * was added, 0 when the filter (maybe) held it already.  All or nothing:
 * PC_ERANGE, and nothing added, when the items would not fit (a full
 * non-scaling filter, or past 32 layers).
 * @return 0, PC_ERANGE, PC_EWRONGTYPE, PC_EINVAL, PC_ETOOBIG, PC_EKEY, ...
 */
PC_EXPORT int pc_bf_madd(pc_client *c, const void *key, size_t klen, const pc_bytes *items,
                         size_t n, int *added);

/** pc_bf_madd of one item. */
PC_EXPORT int pc_bf_add(pc_client *c, const void *key, size_t klen, const void *item, size_t ilen,
                        int *added);

/**
 * Zero-copy: exists[i] gets 1 when the filter may hold items[i], 0 when it
 * surely does not (a missing key holds nothing).
 * @return 0, PC_EWRONGTYPE, PC_EINVAL, PC_EKEY, PC_ECORRUPT.
 */
PC_EXPORT int pc_bf_mexists(pc_read *r, const void *key, size_t klen, const pc_bytes *items,
                            size_t n, int *exists);

/** pc_bf_mexists of one item. */
PC_EXPORT int pc_bf_exists(pc_read *r, const void *key, size_t klen, const void *item, size_t ilen,
                           int *exists);

/** Zero-copy: the filter's figures.  PC_ENOTFOUND for a missing key. */
PC_EXPORT int pc_bf_info_get(pc_read *r, const void *key, size_t klen, pc_bf_info *out);

/* ------------------------------------------------------------------------ */
/* Streams (issue 17)                                                        */

/*
 * A Stream key is Redis's stream: an append-only log of entries, each a
 * list of field-value pairs (any tagged scalars: bytes, int, double, bool,
 * nil) under an ID, ms-seq, that only grows; and its consumer groups, each
 * with its last delivered ID, its pending entries (delivered and not yet
 * acknowledged: ID -> consumer, delivery time, count) and its consumers.
 * A stream exists until it is deleted, even with no entries left (XDEL,
 * XTRIM), as in Redis.  Ranges and XREAD without a group are zero-copy;
 * what changes a group (XREADGROUP, XCLAIM, XAUTOCLAIM) is a write and
 * answers copies in the client's reply buffer.
 *
 * Entries are kept one per ID (big-endian, so in ID order): an entry, a
 * range's start, an index into a range are one B-tree lookup; a range of k
 * entries costs O(log N + k).  Group and consumer names are 1 to
 * PC_XNAME_MAX bytes, any bytes.
 *
 * Ownership and threads, as everywhere in this header: views from a read
 * live until pc_read_end(), copies from a write until the next write call
 * on the client; nothing is freed by the caller; a client and its read are
 * for one thread at a time.
 */

/** A stream entry ID: ms-seq (Redis's "1700000000000-0"). */
typedef struct pc_xid {
    uint64_t ms;
    uint64_t seq;
} pc_xid;

static inline pc_xid pc_xid_make(uint64_t ms, uint64_t seq)
{
    pc_xid x;
    x.ms = ms;
    x.seq = seq;
    return x;
}
/** The largest ID, UINT64_MAX-UINT64_MAX.  As an ID of pc_xread_wait() it
 *  means Redis's "$" (after the stream's last entry now); of
 *  pc_xreadgroup() Redis's ">" (entries never delivered to the group); of
 *  a range's end Redis's "+". */
static inline pc_xid pc_xid_max(void)
{
    return pc_xid_make(UINT64_MAX, UINT64_MAX);
}
/** -1, 0 or 1 as a is before, equal to or after b. */
static inline int pc_xid_cmp(pc_xid a, pc_xid b)
{
    if (a.ms != b.ms)
        return a.ms < b.ms ? -1 : 1;
    return a.seq < b.seq ? -1 : a.seq > b.seq;
}

/** The longest group or consumer name. */
#define PC_XNAME_MAX 200

/**
 * An entry as a read or a write answered it.  Its pairs are decoded with
 * pc_xentry_pairs().  From a read (pc_xrange, pc_xread) the pairs are views
 * into the map, valid until pc_read_end(); from a write (pc_xreadgroup,
 * pc_xclaim, pc_xautoclaim, pc_xread_wait) into the client's reply buffer,
 * valid until the next write call on the client.
 */
typedef struct pc_xentry {
    pc_xid id;
    bool deleted;    /**< a pending entry no longer in the stream (no pairs) */
    size_t npairs;   /**< field-value pairs */
    const void *raw; /**< internal: the pairs, encoded */
    size_t rawlen;   /**< internal */
} pc_xentry;

/**
 * The pairs of e: fv[2i] gets field i, fv[2i + 1] its value, for up to
 * max / 2 pairs; *n (may be NULL) gets how many pairs were written.
 * @return 0, PC_EINVAL, PC_ECORRUPT.
 */
PC_EXPORT int pc_xentry_pairs(const pc_xentry *e, pc_val *fv, size_t max, size_t *n);

/** How pc_xadd picks the new entry's ID. */
enum {
    PC_XADD_AUTO = 0,    /**< "*": the time now in ms, or after the last ID */
    PC_XADD_AUTOSEQ = 1, /**< "ms-*": id.ms given, the next seq in it */
    PC_XADD_EXPLICIT = 2 /**< "ms-seq": id as given */
};
/** pc_xadd flags */
enum { PC_XADD_NOMKSTREAM = 1u << 0 /**< a missing key is not created: *out = 0-0, 0 */ };

/** How to trim (pc_xadd, pc_xtrim). */
enum {
    PC_XTRIM_NONE = 0,
    PC_XTRIM_MAXLEN = 1, /**< keep the newest maxlen entries */
    PC_XTRIM_MINID = 2   /**< remove entries before minid */
};
typedef struct pc_xtrim_opts {
    int by;          /**< PC_XTRIM_* */
    bool approx;     /**< Redis's "~": remove at most limit entries (may keep more) */
    uint64_t maxlen; /**< PC_XTRIM_MAXLEN */
    pc_xid minid;    /**< PC_XTRIM_MINID */
    uint64_t limit;  /**< approx only: the most entries one call removes; 0: no
                          limit (Redis's LIMIT 0; Redis's default is 10000) */
} pc_xtrim_opts;

/**
 * Redis XADD: add an entry of npairs field-value pairs (fv[2i] the field,
 * fv[2i + 1] its value; npairs >= 1), creating the stream unless
 * PC_XADD_NOMKSTREAM, then trim it as trim says (NULL: not at all).  *out
 * (may be NULL) gets the new ID (0-0 when PC_XADD_NOMKSTREAM found no key).
 * @return 0, PC_ERANGE (the ID is not greater than the stream's last, is
 *         0-0, or no ID is left after it), PC_EWRONGTYPE, PC_EINVAL (bad
 *         mode, pairs or trim: an exact trim with a limit),
 *         PC_ETOOBIG, PC_ENAN, PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_xadd(pc_client *c, const void *key, size_t klen, int idmode, pc_xid id,
                      const pc_val *fv, size_t npairs, const pc_xtrim_opts *trim, unsigned flags,
                      pc_xid *out);

/** Redis XTRIM: *removed (may be NULL) gets how many entries went.  A
 *  missing key removes 0. */
PC_EXPORT int pc_xtrim(pc_client *c, const void *key, size_t klen, const pc_xtrim_opts *trim,
                       uint64_t *removed);

/** Redis XDEL: delete the entries ids[0..n); *deleted (may be NULL) gets
 *  how many existed.  The stream stays, even empty. */
PC_EXPORT int pc_xdel(pc_client *c, const void *key, size_t klen, const pc_xid *ids, size_t n,
                      uint64_t *deleted);

/** Zero-copy: the number of entries (0 for a missing key). */
PC_EXPORT int pc_xlen(pc_read *r, const void *key, size_t klen, uint64_t *n);

/** pc_xrange flags */
enum {
    PC_XRANGE_REV = 1u << 0,        /**< newest first (XREVRANGE) */
    PC_XRANGE_START_EXCL = 1u << 1, /**< "(start": start itself is not included */
    PC_XRANGE_END_EXCL = 1u << 2    /**< "(end" */
};

/**
 * Redis XRANGE / XREVRANGE, zero-copy: the entries with start <= ID <= end
 * (start 0-0 is "-", pc_xid_max() is "+"), oldest first (newest with
 * PC_XRANGE_REV), at most max of them into out[0..*n).  To page, call again
 * with start (end when reversed) the last ID returned and the matching
 * _EXCL flag.  A missing key or an empty range gives *n = 0.
 * O(log N + *n).
 * @return 0, PC_EWRONGTYPE, PC_EINVAL, PC_EKEY, PC_ECORRUPT.
 */
PC_EXPORT int pc_xrange(pc_read *r, const void *key, size_t klen, pc_xid start, pc_xid end,
                        unsigned flags, pc_xentry *out, size_t max, size_t *n);

/**
 * Redis XREAD without BLOCK, zero-copy: for each keys[i], the entries after
 * ids[i] (pc_xid_max(): none, as "$"), at most count of each (0: no limit),
 * at most max in all, into out: key 0's first, then key 1's, ...; nper[i]
 * gets how many are keys[i]'s.  Missing keys give none.
 */
PC_EXPORT int pc_xread(pc_read *r, const pc_bytes *keys, const pc_xid *ids, size_t nkeys,
                       size_t count, pc_xentry *out, size_t max, size_t *nper);

/**
 * Redis XREAD BLOCK: as pc_xread, but when none of the streams has an entry
 * after its ID, wait up to timeout_ms (1..PC_TTL_MAX_MS) for one to be
 * added (the daemon wakes the caller; in embedded mode the client polls).
 * pc_xid_max() as an ID means "$": entries added after the call began.
 * The entries are copies (the client's reply buffer).  Every key must lie
 * in one shard (PC_ECROSSSHARD).  Not in a batch or transaction
 * (PC_ESTATE).  Daemon mode needs a client that may write.
 * @return 0, PC_ETIMEDOUT (nothing came), PC_EWRONGTYPE, PC_EINVAL, ...
 */
PC_EXPORT int pc_xread_wait(pc_client *c, const pc_bytes *keys, const pc_xid *ids, size_t nkeys,
                            size_t count, int64_t timeout_ms, pc_xentry *out, size_t max,
                            size_t *nper);

/** What pc_xinfo_stream() says (Redis XINFO STREAM). */
typedef struct pc_xinfo {
    uint64_t length;        /**< entries */
    pc_xid last_id;         /**< the last ID ever given (0-0: none) */
    pc_xid first_id;        /**< the first entry's ID (0-0: empty) */
    pc_xid max_deleted_id;  /**< the largest ID deleted (0-0: none) */
    uint64_t entries_added; /**< entries ever added */
    uint64_t groups;        /**< consumer groups */
} pc_xinfo;

/** Zero-copy: a stream's figures.  PC_ENOTFOUND for a missing key. */
PC_EXPORT int pc_xinfo_stream(pc_read *r, const void *key, size_t klen, pc_xinfo *out);

/* ---- consumer groups ---- */

/** pc_xgroup_create flags */
enum { PC_XGROUP_MKSTREAM = 1u << 0 /**< create an empty stream when the key is missing */ };

/**
 * Redis XGROUP CREATE: a group whose last delivered ID is *id (NULL: "$",
 * the stream's last ID).  entries_read: Redis's ENTRIESREAD (-1: not
 * given).
 * @return 0, PC_EEXIST (the group exists: BUSYGROUP), PC_ENOTFOUND (no key
 *         and no PC_XGROUP_MKSTREAM), PC_EWRONGTYPE, PC_EINVAL, PC_EKEY, ...
 */
PC_EXPORT int pc_xgroup_create(pc_client *c, const void *key, size_t klen, const void *group,
                               size_t glen, const pc_xid *id, int64_t entries_read, unsigned flags);

/** Redis XGROUP SETID (id NULL: "$").  PC_ENOTFOUND: no key or no group. */
PC_EXPORT int pc_xgroup_setid(pc_client *c, const void *key, size_t klen, const void *group,
                              size_t glen, const pc_xid *id, int64_t entries_read);

/** Redis XGROUP DESTROY: *destroyed (may be NULL) 1, or 0 when no such
 *  group.  Its pending entries and consumers go with it (O(pending)). */
PC_EXPORT int pc_xgroup_destroy(pc_client *c, const void *key, size_t klen, const void *group,
                                size_t glen, int *destroyed);

/** Redis XGROUP CREATECONSUMER: *created 1, or 0 when it existed. */
PC_EXPORT int pc_xgroup_createconsumer(pc_client *c, const void *key, size_t klen,
                                       const void *group, size_t glen, const void *consumer,
                                       size_t clen, int *created);

/** Redis XGROUP DELCONSUMER: *pending gets how many pending entries it had
 *  (they go: no longer pending for anyone).  O(the group's pending). */
PC_EXPORT int pc_xgroup_delconsumer(pc_client *c, const void *key, size_t klen, const void *group,
                                    size_t glen, const void *consumer, size_t clen,
                                    uint64_t *pending);

/** pc_xreadgroup flags */
enum { PC_XREAD_NOACK = 1u << 0 /**< delivered entries are not made pending */ };

/**
 * Redis XREADGROUP GROUP group consumer: for each keys[i], with ids NULL or
 * ids[i] pc_xid_max() (">"), entries never delivered to the group, which
 * become pending for consumer (unless PC_XREAD_NOACK) and move the group's
 * last delivered ID; with another ID, consumer's own pending entries after
 * it (history; deleted ones come with deleted set), at most count of each
 * (0: no limit) and max in all, into out as pc_xread's.  The consumer is
 * created when new.  timeout_ms > 0: when no ">" stream has anything, wait
 * up to that long (as pc_xread_wait; not in a batch or transaction).
 * Every key must lie in one shard.
 * @return 0, PC_ETIMEDOUT, PC_ENOTFOUND (a key or its group is missing:
 *         NOGROUP), PC_EWRONGTYPE, PC_EINVAL, PC_ECROSSSHARD, PC_ESTATE, ...
 */
PC_EXPORT int pc_xreadgroup(pc_client *c, const void *group, size_t glen, const void *consumer,
                            size_t clen, const pc_bytes *keys, const pc_xid *ids, size_t nkeys,
                            size_t count, int64_t timeout_ms, unsigned flags, pc_xentry *out,
                            size_t max, size_t *nper);

/** Redis XACK: *acked (may be NULL) gets how many of ids were pending. */
PC_EXPORT int pc_xack(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
                      const pc_xid *ids, size_t n, uint64_t *acked);

/** The summary form of Redis XPENDING. */
typedef struct pc_xpending_info {
    uint64_t count;     /**< pending entries */
    pc_xid min, max;    /**< the smallest and largest pending ID (0-0: none) */
    uint64_t consumers; /**< consumers with pending entries */
} pc_xpending_info;

/**
 * Zero-copy: Redis XPENDING key group: the summary into *out, and up to max
 * consumers with pending entries (names: views) with their counts into
 * names[0..*n) and counts (either may be NULL when max is 0).
 * @return 0, PC_ENOTFOUND (no key or no group), PC_EWRONGTYPE, ...
 */
PC_EXPORT int pc_xpending_summary(pc_read *r, const void *key, size_t klen, const void *group,
                                  size_t glen, pc_xpending_info *out, pc_bytes *names,
                                  uint64_t *counts, size_t max, size_t *n);

/** One pending entry (Redis XPENDING's extended form). */
typedef struct pc_xpending_entry {
    pc_xid id;
    pc_bytes consumer;   /**< a view */
    int64_t idle_ms;     /**< since its last delivery */
    uint64_t deliveries; /**< times delivered */
} pc_xpending_entry;

/**
 * Zero-copy: Redis XPENDING key group [IDLE min_idle_ms] start end count
 * [consumer]: the pending entries with start <= ID <= end (flags
 * PC_XRANGE_START_EXCL / _END_EXCL), idle at least min_idle_ms (0: any),
 * of consumer (NULL: any), at most max of them, by ID.
 */
PC_EXPORT int pc_xpending(pc_read *r, const void *key, size_t klen, const void *group, size_t glen,
                          pc_xid start, pc_xid end, unsigned flags, int64_t min_idle_ms,
                          const void *consumer, size_t clen, pc_xpending_entry *out, size_t max,
                          size_t *n);

/** pc_xclaim options (Redis XCLAIM's IDLE, TIME, RETRYCOUNT, FORCE,
 *  JUSTID, LASTID).  Zero it, or set fields: -1 in idle_ms, time_ms and
 *  retrycount means "not given". */
typedef struct pc_xclaim_opts {
    int64_t idle_ms;      /**< set the idle time to this */
    int64_t time_ms;      /**< set the delivery time to this (ms since the epoch) */
    int64_t retrycount;   /**< set the delivery count to this */
    bool force;           /**< claim IDs not pending (if in the stream) */
    bool justid;          /**< answer IDs only; the delivery count is not raised */
    const pc_xid *lastid; /**< raise the group's last delivered ID to this */
} pc_xclaim_opts;

/**
 * Redis XCLAIM: give consumer the pending entries among ids[0..n) idle at
 * least min_idle_ms; answers them (deleted ones are dropped from the
 * pending list and not answered), at most max, into out[0..*nout) (with
 * justid: IDs only, npairs 0).  opts may be NULL.
 */
PC_EXPORT int pc_xclaim(pc_client *c, const void *key, size_t klen, const void *group, size_t glen,
                        const void *consumer, size_t clen, int64_t min_idle_ms, const pc_xid *ids,
                        size_t n, const pc_xclaim_opts *opts, pc_xentry *out, size_t max,
                        size_t *nout);

/**
 * Redis XAUTOCLAIM key group consumer min-idle start COUNT count [JUSTID]:
 * scan the group's pending entries from start, claim for consumer those
 * idle at least min_idle_ms (at most count, 1..; max bounds it too) into
 * out[0..*nout); *next gets where the next call starts (0-0: the scan
 * ended).  Entries no longer in the stream leave the pending list: their
 * IDs go to deleted[0..*ndel) (up to maxdel; deleted may be NULL).
 */
PC_EXPORT int pc_xautoclaim(pc_client *c, const void *key, size_t klen, const void *group,
                            size_t glen, const void *consumer, size_t clen, int64_t min_idle_ms,
                            pc_xid start, size_t count, bool justid, pc_xid *next, pc_xentry *out,
                            size_t max, size_t *nout, pc_xid *deleted, size_t maxdel, size_t *ndel);

/** A group, as Redis XINFO GROUPS says. */
typedef struct pc_xgroup_info {
    pc_bytes name; /**< a view */
    uint64_t consumers;
    uint64_t pending;
    pc_xid last_delivered;
    int64_t entries_read; /**< -1: unknown (Redis's nil) */
    int64_t lag;          /**< -1: unknown */
} pc_xgroup_info;

/** Zero-copy: the stream's groups, by name, at most max (PC_ENOTFOUND for a
 *  missing key). */
PC_EXPORT int pc_xinfo_groups(pc_read *r, const void *key, size_t klen, pc_xgroup_info *out,
                              size_t max, size_t *n);

/** A consumer, as Redis XINFO CONSUMERS says. */
typedef struct pc_xconsumer_info {
    pc_bytes name; /**< a view */
    uint64_t pending;
    int64_t idle_ms;     /**< since it last read or claimed */
    int64_t inactive_ms; /**< since it last got an entry (-1: never) */
} pc_xconsumer_info;

/** Zero-copy: a group's consumers, by name, at most max. */
PC_EXPORT int pc_xinfo_consumers(pc_read *r, const void *key, size_t klen, const void *group,
                                 size_t glen, pc_xconsumer_info *out, size_t max, size_t *n);

/* ------------------------------------------------------------------------ */
/* Batches and transactions                                                  */

/**
 * Start a batch: the writes that follow on c are queued, not run, until
 * pc_batch_exec().  A batch is many requests in flight answered in order;
 * each applies on its own (a failing one does not stop the others).
 * @return 0, PC_ESTATE (already in a batch or transaction), PC_EINVAL, PC_EFORK.
 */
PC_EXPORT int pc_batch_begin(pc_client *c);

/**
 * Run the queued writes and fill their out-parameters.  rcs (may be NULL)
 * receives each write's result code, in order, for up to nrcs of them.
 * The client leaves batch mode whatever the result.
 * @return 0 when every write succeeded, else the first failing write's code.
 */
PC_EXPORT int pc_batch_exec(pc_client *c, int *rcs, size_t nrcs);

/** Number of writes queued in the current batch or transaction. */
PC_EXPORT size_t pc_pending(const pc_client *c);

/**
 * Start a transaction: the writes that follow are queued and then applied all
 * together or not at all by pc_txn_commit().  Every key of a transaction must
 * lie in one shard (use a {tag} in the keys): a write or condition whose key
 * lies in another shard than the transaction's first key is refused when
 * queued with PC_ECROSSSHARD (pc_last_error() names both keys, their
 * shards and the {tag} to use), and the commit then applies nothing and
 * returns PC_ECROSSSHARD (its pc_last_error() says what refused the write).  A
 * transaction holds at most PC_TXN_MAX (65536) writes and conditions: the
 * next one is refused at once with PC_ETXNSIZE, and the commit then applies
 * nothing and returns PC_ETXNSIZE.  Its encoded writes together must also
 * fit the store's largest value plus 1 MiB, else PC_ETOOBIG when queued.
 */
PC_EXPORT int pc_txn_begin(pc_client *c);

/** Condition: commit only if key is absent (missing or expired) at commit time. */
PC_EXPORT int pc_txn_require_absent(pc_client *c, const void *key, size_t klen);

/** Condition: commit only if key's version (pc_version) is still version. */
PC_EXPORT int pc_txn_require_version(pc_client *c, const void *key, size_t klen, uint64_t version);

/**
 * Apply the transaction.  On success every queued write applied and its
 * out-parameters are filled.  Otherwise nothing applied: PC_ECONFLICT (a
 * condition failed) or the code of the first write that failed; *failed
 * (may be NULL) gets that write's index in the order queued (conditions
 * count), or -1.  If a write was refused when it was queued (bad arguments),
 * nothing applies and its code is returned with *failed = -1, as Redis's
 * EXEC refuses after a bad command.  The client leaves transaction mode
 * whatever the result.
 */
PC_EXPORT int pc_txn_commit(pc_client *c, long *failed);

/** Drop a queued batch or transaction; nothing of it runs. */
PC_EXPORT void pc_discard(pc_client *c);

/* ------------------------------------------------------------------------ */
/* Expiry: the seed library's TTL-worker calls                               */

/*
 * Count the keys whose TTL has run out but that are still in the store (the
 * TTL worker removes them in the background; reads already treat them as
 * missing).  O(number of such keys).
 */
PC_EXPORT int pc_expired_count(pc_read *r, uint64_t *n);

/*
 * Page through the keys that have a TTL, shard by shard and soonest to
 * expire first in each shard (one shard: soonest first), with their expiry
 * times (ms since the epoch; a time not after the read's moment means
 * expired but not yet removed).  glob as for pc_scan.  keys and expire_at
 * may each be NULL.
 */
PC_EXPORT int pc_expiry_scan(pc_read *r, const char *glob, pc_cursor *cur, pc_bytes *keys,
                             int64_t *expire_at, size_t max, size_t *n);

/** Remove every expired key now; *removed (may be NULL) gets how many went. */
PC_EXPORT int pc_purge_expired(pc_client *c, uint64_t *removed);

/**
 * Daemon mode: set how often the daemon's TTL worker runs, in ms (1 to
 * 3,600,000); 0 stops it (expired keys then stay until purged, and read as
 * missing).  PC_ENOTSUP in embedded mode, where each write removes a few
 * expired keys itself.
 */
PC_EXPORT int pc_set_expire_interval(pc_client *c, uint32_t interval_ms);

/* ------------------------------------------------------------------------ */
/* The daemon's statistics                                                   */

/** Eviction policies (pycached --eviction). */
typedef enum pc_policy {
    PC_POLICY_NOEVICTION = 0, /**< writes that may grow the store fail with PC_EFULL */
    PC_POLICY_VOLATILE_TTL,   /**< evict the keys soonest to expire */
    PC_POLICY_ALLKEYS_LRU,    /**< evict keys least recently read or written */
    PC_POLICY_ALLKEYS_LFU     /**< evict keys least frequently read or written */
} pc_policy;

/** The name of a policy ("noeviction", "volatile-ttl", "allkeys-lru", "allkeys-lfu"). */
PC_EXPORT const char *pc_policy_name(pc_policy p);

#define PC_STATS_OPS 128
#define PC_STATS_HIST 32
/** The most shards a store has: pc_stats_shards fills at most this many. */
#define PC_SHARDS_STATS_MAX 64

/**
 * A copy of the daemon's statistics, taken consistently.  Histograms use
 * power-of-two buckets: bucket 0 counts values 0..1, bucket i (i >= 1) counts
 * values in [2^i, 2^(i+1)).
 */
typedef struct pc_stats {
    uint64_t pid;
    uint64_t started_ms;         /**< when the daemon started (ms since the epoch) */
    uint64_t taken_ms;           /**< when it last updated these figures */
    uint64_t ops[PC_STATS_OPS];  /**< requests served, by operation (pc_stats_op_name) */
    uint64_t requests;           /**< all requests served */
    uint64_t errors;             /**< requests answered with an error (a read of a
                                      missing key is a miss, not an error) */
    uint64_t reads_hit;          /**< key lookups that found the key (all clients) */
    uint64_t reads_miss;         /**< ... that did not */
    uint64_t keys[PC_T__COUNT];  /**< keys by pc_type; keys[0] is the total */
    uint64_t keys_ttl;           /**< keys that have a TTL */
    uint64_t expired;            /**< keys removed because their TTL ran out */
    uint64_t evicted;            /**< keys removed to stay under the memory cap */
    uint64_t swept;              /**< members of dropped collections removed */
    uint64_t bytes_used;         /**< pages in use (LMDB's pages less its free list) */
    uint64_t max_memory;         /**< the cap: the map's size */
    uint64_t evict_above;        /**< eviction starts above this many bytes */
    uint32_t policy;             /**< pc_policy */
    uint32_t expire_interval_ms; /**< TTL worker period; 0: stopped */
    uint32_t shards;
    uint32_t clients_trusted;
    uint32_t clients_ring_only;
    uint32_t readers_used; /**< LMDB reader slots in use (all shards) */
    uint32_t readers_max;
    uint32_t reserved0;
    uint64_t oldest_reader_ms;          /**< how long the oldest open read has been open */
    uint64_t rounds;                    /**< group commits (passes that wrote) */
    uint64_t round_size[PC_STATS_HIST]; /**< requests per pass */
    uint64_t round_us[PC_STATS_HIST];   /**< time a pass took, in microseconds */
    uint32_t snapshot_state;            /**< 0 none configured, 1 idle, 2 running */
    int32_t snapshot_rc;                /**< result of the last snapshot: 0 or a PC_E* code */
    uint64_t snapshot_ms;               /**< when the last snapshot ended (0: never) */
    uint64_t snapshot_took_ms;
    uint64_t snapshot_keys;
    uint64_t snapshot_bytes;
    uint64_t max_memory_fs; /**< when the store's filesystem holds less than
                                 max_memory: the cap it was cut to (0 otherwise) */
    uint64_t buffered;      /**< bytes the daemon holds for clients: requests being
                                 received, answers not yet read (--max-buffers) */
    uint64_t buffered_peak; /**< the most it held since it started */
    /* The MariaDB/MySQL snapshot target (--snapshot-to); snapshot_* above
     * are the SQLite files' (--snapshot-dir). */
    uint32_t db_snapshot_state; /**< 0 none configured, 1 idle, 2 running */
    int32_t db_snapshot_rc;     /**< its last result: 0 or a PC_E* code */
    uint64_t db_snapshot_ms;    /**< when its last snapshot ended (0: never) */
    uint64_t db_snapshot_took_ms;
    uint64_t db_snapshot_keys;
    uint64_t db_snapshot_retry_ms; /**< after a failure: when it is tried again (0: not) */
} pc_stats;

/**
 * Daemon mode: copy the daemon's statistics (from the page every client
 * maps read-only; no round trip).  PC_ENOTSUP in embedded mode.
 */
PC_EXPORT int pc_stats_get(pc_client *c, pc_stats *out);

/**
 * One shard's writer, as the daemon counts it (pc_stats_shards).  Each pass
 * of the daemon's loop runs the writes that came for a shard in one LMDB
 * write transaction (a group commit), in the shard's own thread when the
 * daemon runs writers in threads (pycached --writers).
 */
typedef struct pc_shard_stats {
    uint64_t writes;                     /**< write requests run (a transaction is one) */
    uint64_t commits;                    /**< group commits: write transactions committed */
    uint64_t failed;                     /**< passes whose whole group failed (no memory) */
    uint64_t busy_us;                    /**< time spent running writes, committing and
                                              flushing (--sync), in microseconds */
    uint64_t commit_size[PC_STATS_HIST]; /**< requests per group commit (pc_stats'
                                              buckets) */
    uint64_t reserved[4];
} pc_shard_stats;

/**
 * Daemon mode: copy the statistics of the store's shards, out[0..*n) for
 * shards 0..*n-1, where *n is the smaller of max and the shard count
 * (pc_stats.shards; at most PC_SHARDS_STATS_MAX).  Taken consistently with each other (not
 * with an earlier pc_stats_get).  PC_EINVAL for NULL out or n; PC_ENOTSUP
 * in embedded mode.
 */
PC_EXPORT int pc_stats_shards(pc_client *c, pc_shard_stats *out, size_t max, size_t *n);

/** The name of entry i of pc_stats.ops ("set", "lpush", ...), or NULL if unused. */
PC_EXPORT const char *pc_stats_op_name(unsigned i);

/** What pc_snapshot wrote. */
typedef struct pc_snapshot_info {
    uint64_t keys;  /**< keys written */
    uint64_t bytes; /**< size of the file */
    uint64_t took_ms;
    char path[512]; /**< the file, as the daemon names it */
} pc_snapshot_info;

/**
 * Daemon mode: ask for a snapshot now and wait until it is on disk (it
 * includes every write acknowledged before the call).  PC_ENOTSUP when the
 * daemon has no --snapshot-dir; PC_ENOSPC when its disk is full; another
 * failure code when the snapshot failed otherwise (the previous snapshots
 * stay either way).  info may be NULL.
 */
PC_EXPORT int pc_snapshot(pc_client *c, pc_snapshot_info *info);

/**
 * What a peer of the daemon may do (pycached(8), ROLES).  The daemon checks
 * every request against its peer's role; a request the role does not allow
 * is answered PC_EACCES and changes nothing.
 */
typedef enum pc_role {
    PC_ROLE_READ = 1,  /**< reads (zero-copy or through the channel, as the access mode says) */
    PC_ROLE_WRITE = 2, /**< reads, and writes of keys */
    PC_ROLE_ADMIN = 3  /**< everything: also flush, purge, snapshots, the TTL worker's
                            interval, the client list */
} pc_role;

/** The name of a role ("read", "write", "admin"), or "?". */
PC_EXPORT const char *pc_role_name(pc_role r);

/** One connected client, as the daemon sees it. */
typedef struct pc_client_info {
    uint64_t id;
    int64_t pid;
    uint32_t uid;
    bool ring_only;
    bool blocked;       /**< waiting in a queue pop */
    uint8_t role;       /**< pc_role (0 from a daemon that has no roles) */
    uint64_t since_ms;  /**< connected at (ms since the epoch) */
    uint64_t requests;  /**< requests served */
    uint64_t reads_hit; /**< its zero-copy key lookups that hit (as it reports) */
    uint64_t reads_miss;
    uint32_t ring_size;
} pc_client_info;

/**
 * Daemon mode: list the connected clients, up to max of them into out[];
 * *n gets how many were filled and *total how many there are.
 */
PC_EXPORT int pc_clients(pc_client *c, pc_client_info *out, size_t max, size_t *n, size_t *total);

/* ------------------------------------------------------------------------ */
/* Sorted sets (issue 17)                                                    */

/*
 * A sorted set (PC_T_ZSET) holds distinct members, each with a score, in
 * Redis's order: by score, ties by member.  A member is any tagged scalar
 * but PC_NONE (as a Set's: 1, 1.0, "1" and true are four members); members
 * of one kind sort by value (byte strings byte by byte), kinds in the order
 * NIL, BYTES, INT, DOUBLE, BOOL.  Members whose encoding is 472 bytes or
 * longer (a byte string of 471 or more) sort among their ties by their
 * first 447 bytes, then by a digest.  A score is any double but NaN
 * (PC_ENAN): -inf and +inf too; -0.0 is stored as 0.0 (they compare equal).
 *
 * Costs (n members, k returned): an add, a remove, a score change
 * O(log n); a score O(log n); a rank, and the start of a range by index or
 * by rank, O(log n) B-tree steps plus at most 65 cursor steps per level of
 * the set's counted index (about 4 levels at 1,000,000 members); a range
 * by score or by lex O(log n + k); a count O(log n).
 *
 * Reads are zero-copy: the members a read returns are views valid until
 * pc_read_end() (pycache.h's conventions); members returned by writes (the
 * pops) point into the client's reply buffer until its next write.  Same
 * thread rules as every call.
 */

/** A member and its score. */
typedef struct pc_zentry {
    pc_val member;
    double score;
} pc_zentry;

/** pc_zadd flags (Redis ZADD's options) */
enum {
    PC_ZADD_NX = 1u << 0, /**< only add new members */
    PC_ZADD_XX = 1u << 1, /**< only update members already there */
    PC_ZADD_GT = 1u << 2, /**< update only when the new score is greater */
    PC_ZADD_LT = 1u << 3, /**< update only when the new score is less */
    PC_ZADD_CH = 1u << 4  /**< count changed members as well as new ones */
};

/**
 * Redis ZADD: add n members with their scores, or update the scores of
 * those there (the last of a member named twice wins).  *count (may be
 * NULL) gets how many were added (with PC_ZADD_CH: added or changed).
 * PC_ZADD_NX cannot go with XX, GT or LT, nor GT with LT (PC_EINVAL).
 * A missing key is created (unless every member is refused by XX); the
 * key's TTL stays.
 * @return 0, PC_EWRONGTYPE, PC_ENAN (a NaN score), PC_EINVAL, PC_ETOOBIG,
 *         PC_ECOLLISION, PC_EKEY, PC_EFULL, ...
 */
PC_EXPORT int pc_zadd(pc_client *c, const void *key, size_t klen, const pc_zentry *items, size_t n,
                      unsigned flags, uint64_t *count);

/**
 * Redis ZADD ... INCR: add incr to member's score (a new member starts at
 * 0).  *score gets the new score as a PC_DOUBLE, or kind PC_NONE when a
 * flag stopped it (Redis's nil).  A result that is NaN (inf + -inf) is
 * PC_ENAN and changes nothing.
 */
PC_EXPORT int pc_zadd_incr(pc_client *c, const void *key, size_t klen, const pc_val *member,
                           double incr, unsigned flags, pc_val *score);

/** Redis ZINCRBY: pc_zadd_incr without flags; *score (may be NULL) the new score. */
PC_EXPORT int pc_zincrby(pc_client *c, const void *key, size_t klen, const pc_val *member,
                         double incr, double *score);

/** Redis ZREM: *removed (may be NULL) gets how many were there.  The last removes the key. */
PC_EXPORT int pc_zrem(pc_client *c, const void *key, size_t klen, const pc_val *members, size_t n,
                      uint64_t *removed);

/**
 * Redis ZPOPMIN / ZPOPMAX: remove and return up to max members with the
 * lowest (highest) scores, in that order, into out[0..*n).  A missing key
 * gives *n = 0.  max 0 pops nothing.
 */
PC_EXPORT int pc_zpopmin(pc_client *c, const void *key, size_t klen, size_t max, pc_zentry *out,
                         size_t *n);
PC_EXPORT int pc_zpopmax(pc_client *c, const void *key, size_t klen, size_t max, pc_zentry *out,
                         size_t *n);

/**
 * Redis BZPOPMIN / BZPOPMAX: pop one member from the first of keys[0..n)
 * that is not empty, waiting up to timeout_ms (1..PC_TTL_MAX_MS) for one
 * to be added when all are empty or missing.  *key gets the key it came
 * from and *out the member (both may be NULL; views into the reply
 * buffer).  All the keys must lie in one shard (PC_ECROSSSHARD).  The
 * daemon answers as soon as a write lands; in embedded mode the client
 * polls.  PC_ETIMEDOUT when nothing came.  Not allowed in a batch or
 * transaction (PC_ESTATE).
 */
PC_EXPORT int pc_bzpopmin(pc_client *c, const pc_bytes *keys, size_t n, int64_t timeout_ms,
                          pc_bytes *key, pc_zentry *out);
PC_EXPORT int pc_bzpopmax(pc_client *c, const pc_bytes *keys, size_t n, int64_t timeout_ms,
                          pc_bytes *key, pc_zentry *out);

/** pc_zrange_spec.by */
enum {
    PC_ZBY_INDEX = 0, /**< by rank: start and stop */
    PC_ZBY_SCORE = 1, /**< by score: min and max */
    PC_ZBY_LEX = 2    /**< by member: min and max (members of one score) */
};

/** pc_zbound.flags */
enum {
    PC_ZB_EXCL = 1u << 0,  /**< exclusive: Redis's "(" */
    PC_ZB_MINUS = 1u << 1, /**< by lex: "-", below every member */
    PC_ZB_PLUS = 1u << 2   /**< by lex: "+", above every member */
};

/** One end of a range by score or by lex. */
typedef struct pc_zbound {
    double score;   /**< by score (-INFINITY and INFINITY allowed; not NaN) */
    pc_val member;  /**< by lex: a member (ignored with PC_ZB_MINUS or PC_ZB_PLUS) */
    unsigned flags; /**< PC_ZB_* */
} pc_zbound;

/**
 * A range of a sorted set, as Redis's ZRANGE sees it.  by PC_ZBY_INDEX:
 * ranks start..stop inclusive, negative from the end, counted from the
 * lowest score (from the highest with rev).  PC_ZBY_SCORE and PC_ZBY_LEX:
 * the members from min to max (min is the lower end whatever rev says;
 * Redis's ZRANGE ... REV takes them the other way round); rev gives them
 * highest first.  A range by lex reads the members that share the lowest
 * score, by member (Redis leaves ranges by lex over several scores
 * unspecified).  offset and count: Redis's LIMIT (count < 0: all), by
 * score and by lex only (by index offset must be 0 and count -1).
 * pc_zrange_spec_init() makes "all, by index".
 */
typedef struct pc_zrange_spec {
    int by;
    bool rev;
    int64_t start, stop;
    pc_zbound min, max;
    int64_t offset;
    int64_t count;
} pc_zrange_spec;

static inline void pc_zrange_spec_init(pc_zrange_spec *s)
{
    s->by = PC_ZBY_INDEX;
    s->rev = false;
    s->start = 0;
    s->stop = -1;
    s->min.score = 0;
    s->min.member.kind = PC_NONE;
    s->min.member.i = 0;
    s->min.flags = 0;
    s->max = s->min;
    s->offset = 0;
    s->count = -1;
}

/**
 * Redis ZRANGE: page through the range spec of a sorted set, at most max
 * entries per call into out[0..*n), in range order (REV: highest first).
 * Start with a fresh cursor (PC_CURSOR_INIT) and call again with the same
 * spec and cursor until cur->done: each page resumes strictly after the
 * last entry returned, O(log n + page) (a LIMIT's offset costs O(log n)).
 * Keep one read open across pages to page through one snapshot.  A missing
 * key is empty (done at once).  max 0 only checks the arguments.
 * @return 0, PC_EWRONGTYPE, PC_EINVAL (a bad spec), PC_ENAN, PC_EKEY, ...
 */
PC_EXPORT int pc_zrange(pc_read *r, const void *key, size_t klen, const pc_zrange_spec *spec,
                        pc_cursor *cur, pc_zentry *out, size_t max, size_t *n);

/** Redis ZCARD: the number of members (0 for a missing key). */
PC_EXPORT int pc_zcard(pc_read *r, const void *key, size_t klen, uint64_t *out);

/** Redis ZSCORE: a member's score.  PC_ENOTFOUND when the key or the member is missing. */
PC_EXPORT int pc_zscore(pc_read *r, const void *key, size_t klen, const pc_val *member,
                        double *score);

/**
 * Redis ZMSCORE: scores[i] gets members[i]'s score and found[i] 1, or
 * found[i] 0 (scores[i] 0) when it is not there (every member of a
 * missing key).
 */
PC_EXPORT int pc_zmscore(pc_read *r, const void *key, size_t klen, const pc_val *members, size_t n,
                         double *scores, int *found);

/**
 * Redis ZRANK / ZREVRANK (rev): the member's rank from the lowest score
 * (from the highest), and its score (score may be NULL).  PC_ENOTFOUND
 * when the key or the member is missing.
 */
PC_EXPORT int pc_zrank(pc_read *r, const void *key, size_t klen, const pc_val *member, bool rev,
                       uint64_t *rank, double *score);

/** Redis ZCOUNT: how many members have scores from min to max.  O(log n). */
PC_EXPORT int pc_zcount(pc_read *r, const void *key, size_t klen, const pc_zbound *min,
                        const pc_zbound *max, uint64_t *n);

/** Redis ZLEXCOUNT: how many members lie from min to max by lex.  O(log n). */
PC_EXPORT int pc_zlexcount(pc_read *r, const void *key, size_t klen, const pc_zbound *min,
                           const pc_zbound *max, uint64_t *n);

/**
 * Redis ZREMRANGEBYRANK / BYSCORE / BYLEX: remove the members of the range
 * spec (rev and a LIMIT allowed too); *removed (may be NULL) gets how many.
 * O(log n) per member removed.
 */
PC_EXPORT int pc_zremrange(pc_client *c, const void *key, size_t klen, const pc_zrange_spec *spec,
                           uint64_t *removed);

/**
 * Redis ZRANGESTORE: store the range spec of src into dst, replacing what
 * dst held (its TTL goes); an empty range deletes dst.  *stored (may be
 * NULL) gets how many.  Both keys in one shard (PC_ECROSSSHARD).
 */
PC_EXPORT int pc_zrangestore(pc_client *c, const void *dst, size_t dlen, const void *src,
                             size_t slen, const pc_zrange_spec *spec, uint64_t *stored);

/** pc_zunionstore / pc_zinterstore aggregates */
enum { PC_ZAGG_SUM = 0, PC_ZAGG_MIN = 1, PC_ZAGG_MAX = 2 };

/**
 * Redis ZUNIONSTORE / ZINTERSTORE: the union (intersection) of keys[0..n)
 * into dst, each member's score the aggregate (PC_ZAGG_*) of its scores
 * times the key's weight (weights NULL: all 1).  A Set counts as a sorted
 * set whose scores are 1; a missing key as an empty one.  dst is replaced
 * (its TTL goes); an empty result deletes it.  *card (may be NULL) gets
 * the result's size.  A sum of inf and -inf is 0, as in Redis.  All keys
 * in one shard.  O(N log N) over the members read.
 */
PC_EXPORT int pc_zunionstore(pc_client *c, const void *dst, size_t dlen, const pc_bytes *keys,
                             size_t n, const double *weights, int aggregate, uint64_t *card);
PC_EXPORT int pc_zinterstore(pc_client *c, const void *dst, size_t dlen, const pc_bytes *keys,
                             size_t n, const double *weights, int aggregate, uint64_t *card);
/** Redis ZDIFFSTORE: the members of keys[0] in none of the others, with their scores. */
PC_EXPORT int pc_zdiffstore(pc_client *c, const void *dst, size_t dlen, const pc_bytes *keys,
                            size_t n, uint64_t *card);

#ifdef __cplusplus
}
#endif

#endif /* PYCACHE_H */
