/*
 * names.c - the shared vocabulary: messages and names of error codes (from
 * the one table in pycache.h), and the names of types, eviction policies,
 * roles and operations.
 *
 * It lives in shm/ so that the daemon, persist/ and the tools take their
 * words from one place without the client library; libpycache-client
 * exports these (pycache.h declares them PC_EXPORT).  Every function returns
 * a pointer to a static string (never NULL except where pc_stats_op_name
 * says so), is pure and may be called from any thread.
 */
#include <string.h>

#include "frame.h"
#include "pycache.h"

const char *pc_strerror(int err)
{
    switch (err) {
    case 0:
        return "success";
#define PC__ERR_MSG(name, val, msg) \
    case val:                       \
        return msg;
        PC_ERRNO_MAP(PC__ERR_MSG)
#undef PC__ERR_MSG
    default:
        break;
    }
    if (err < 0 && err > -4096) {
        const char *d = strerrordesc_np(-err);
        if (d)
            return d;
    }
    return "unknown error";
}

const char *pc_err_name(int err)
{
    switch (err) {
    case 0:
        return "PC_OK";
#define PC__ERR_NAME(name, val, msg) \
    case val:                        \
        return "PC_" #name;
        PC_ERRNO_MAP(PC__ERR_NAME)
#undef PC__ERR_NAME
    default:
        return "PC_E?";
    }
}

const char *pc_type_name(pc_type t)
{
    static const char *const names[] = {"none",  "string", "numeric", "list",  "map",    "set",
                                        "queue", "flight", "bits",    "bloom", "stream", "zset"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}

const char *pc_policy_name(pc_policy p)
{
    static const char *const names[] = {"noeviction", "volatile-ttl", "allkeys-lru", "allkeys-lfu"};
    return (unsigned)p < sizeof names / sizeof names[0] ? names[p] : "unknown";
}

const char *pc_role_name(pc_role r)
{
    static const char *const names[] = {"?", "read", "write", "admin"};
    return (unsigned)r < sizeof names / sizeof names[0] ? names[r] : "?";
}

const char *pc_stats_op_name(unsigned i)
{
    return i < PCS_OP__COUNT ? pcs_op_name(i) : NULL;
}
