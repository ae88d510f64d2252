/*
 * access.h - the access array: per-key clocks and counters that readers
 * record in shared memory, for the daemon's allkeys-lru and allkeys-lfu
 * eviction.
 *
 * Readers never write to LMDB, so a trusted client that reads a key stores
 * into one slot of this array (chosen by a hash of the key) with a relaxed
 * atomic store; the daemon does the same for the writes it runs and the reads
 * it serves to ring-only clients, and samples the slots of candidate keys to
 * choose victims.  Keys share slots and updates race; the figures are hints,
 * never trusted for anything but choosing what to evict.
 *
 * A slot is 32 bits.  LRU: the time of the last access in seconds (mod 2^32).
 * LFU: the minute of the last access (mod 2^16) in the high half and a
 * logarithmic counter in the low byte, decremented by one for each
 * minute without access, incremented with probability 1 / (10 (c - 5) + 1),
 * as Redis's LFU does.
 */
#ifndef PCS_ACCESS_H
#define PCS_ACCESS_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>
#include <xxhash.h>

#define PCS_ACCESS_SLOTS (1u << 21)
#define PCS_ACCESS_SIZE ((size_t)PCS_ACCESS_SLOTS * sizeof(uint32_t))
#define PCS_LFU_INIT 5

static inline uint32_t pcs_access_slot(const void *key, size_t klen)
{
    return (uint32_t)XXH3_64bits(key, klen) & (PCS_ACCESS_SLOTS - 1);
}

/* The LFU counter of a slot value, decayed to minute now_min. */
static inline uint32_t pcs_lfu_count(uint32_t v, uint64_t now_min)
{
    uint32_t c = v & 0xff, last = v >> 16;
    uint32_t idle = (uint32_t)((now_min - last) & 0xffff);
    return c > idle ? c - idle : 0;
}

/* Record an access.  rnd: any random 32 bits (for LFU's coin). */
static inline void pcs_access_touch(_Atomic uint32_t *arr, uint32_t slot, uint64_t now_ms, int lfu,
                                    uint32_t rnd)
{
    if (!lfu) {
        atomic_store_explicit(&arr[slot], (uint32_t)(now_ms / 1000), memory_order_relaxed);
        return;
    }
    uint64_t now_min = now_ms / 60000;
    uint32_t c = pcs_lfu_count(atomic_load_explicit(&arr[slot], memory_order_relaxed), now_min);
    if (c < PCS_LFU_INIT)
        c = PCS_LFU_INIT;
    else if (c < 255 && (uint64_t)rnd * (10u * (c - PCS_LFU_INIT) + 1) < UINT64_C(1) << 32)
        c++;
    atomic_store_explicit(&arr[slot], (uint32_t)((now_min & 0xffff) << 16) | c,
                          memory_order_relaxed);
}

#endif
