/*
 * error.c - names and messages of error codes and types, from the one
 * table in pycache.h.
 */
#include <string.h>

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
    static const char *const names[] = {"none", "string", "numeric", "list", "map", "set", "queue"};
    return (unsigned)t < sizeof names / sizeof names[0] ? names[t] : "unknown";
}
