/*
 * alloc.c - counted allocation with a fail-the-N-th hook for tests.
 */
#include "alloc.h"

#include <errno.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

static atomic_uint_least64_t alloc_count; /* allocations made */
static atomic_uint_least64_t fail_at;     /* 0: never; else the count that fails */
static atomic_int_least64_t alloc_live;   /* allocations not freed */

/* True when this allocation must fail under the test hook. */
static int alloc_should_fail(void)
{
    uint64_t n = atomic_fetch_add_explicit(&alloc_count, 1, memory_order_relaxed) + 1;
    uint64_t f = atomic_load_explicit(&fail_at, memory_order_relaxed);
    return f != 0 && n == f;
}

void *pcs_malloc(size_t n)
{
    if (alloc_should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = malloc(n ? n : 1);
    if (p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

void *pcs_calloc(size_t nmemb, size_t size)
{
    if (alloc_should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    void *p = calloc(nmemb ? nmemb : 1, size ? size : 1);
    if (p)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

void *pcs_reallocarray(void *old, size_t nmemb, size_t size)
{
    if (size && nmemb > SIZE_MAX / size) {
        errno = ENOMEM;
        return NULL;
    }
    if (alloc_should_fail()) {
        errno = ENOMEM;
        return NULL;
    }
    size_t n = nmemb * size;
    void *p = realloc(old, n ? n : 1);
    if (p && !old)
        atomic_fetch_add_explicit(&alloc_live, 1, memory_order_relaxed);
    return p;
}

void pcs_free(void *p)
{
    if (!p)
        return;
    atomic_fetch_sub_explicit(&alloc_live, 1, memory_order_relaxed);
    free(p);
}

char *pcs_strdup(const char *s)
{
    size_t n = strlen(s) + 1;
    char *d = pcs_malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

void pcs_alloc_fail_at(uint64_t n)
{
    uint64_t base = atomic_load_explicit(&alloc_count, memory_order_relaxed);
    atomic_store_explicit(&fail_at, n ? base + n : 0, memory_order_relaxed);
}

int64_t pcs_alloc_live(void)
{
    return atomic_load_explicit(&alloc_live, memory_order_relaxed);
}

uint64_t pcs_alloc_count(void)
{
    return atomic_load_explicit(&alloc_count, memory_order_relaxed);
}
