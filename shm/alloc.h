/*
 * alloc.h - the one allocation path of libclient, shm and the daemon.
 *
 * Every allocation goes through these functions so that a test can make the
 * N-th one fail (pcs_alloc_fail_at) and check that nothing leaked
 * (pcs_alloc_live).  Allocations made inside LMDB and SQLite do not pass here.
 */
#ifndef PCS_ALLOC_H
#define PCS_ALLOC_H

#include <stddef.h>
#include <stdint.h>

void *pcs_malloc(size_t n);
void *pcs_calloc(size_t nmemb, size_t size);
/* Like realloc, but also fails cleanly on nmemb * size overflow. */
void *pcs_reallocarray(void *p, size_t nmemb, size_t size);
void pcs_free(void *p);
char *pcs_strdup(const char *s);

/* Test hooks.  pcs_alloc_fail_at(n): the n-th allocation from now fails
 * (1 = the next one); 0 turns failing off.  pcs_alloc_live(): allocations not
 * yet freed.  Both are thread-safe. */
void pcs_alloc_fail_at(uint64_t n);
int64_t pcs_alloc_live(void);
/* How many allocations have been made since the process started. */
uint64_t pcs_alloc_count(void);

#endif
