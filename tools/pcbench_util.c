/*
 * pcbench_util.c - pcbench's histogram, clock, random numbers, Zipf key
 * chooser, key formatting and the exact LRU it compares eviction with.
 */
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "pcbench.h"

/* ------------------------------------------------------------------------ */
/* Histogram                                                                 */

void pb_hist_init(pb_hist *h)
{
    memset(h, 0, sizeof *h);
    h->min = UINT64_MAX;
}

static unsigned hist_index(uint64_t v)
{
    if (v < PB_HIST_LINEAR)
        return (unsigned)v;
    unsigned m = 63u - (unsigned)__builtin_clzll(v); /* 8 and up */
    if (m >= 8 + PB_HIST_MAG)
        return PB_HIST_N - 1;
    unsigned shift = m - 7; /* v >> shift lies in [128, 256) */
    return PB_HIST_LINEAR + (m - 8) * PB_HIST_SUB + (unsigned)((v >> shift) - PB_HIST_SUB);
}

/* The highest value that falls in bucket i. */
static uint64_t hist_high(unsigned i)
{
    if (i < PB_HIST_LINEAR)
        return i;
    unsigned b = (i - PB_HIST_LINEAR) / PB_HIST_SUB, s = (i - PB_HIST_LINEAR) % PB_HIST_SUB;
    unsigned shift = b + 1;
    uint64_t lo = (uint64_t)(PB_HIST_SUB + s) << shift;
    return lo + (UINT64_C(1) << shift) - 1;
}

void pb_hist_add(pb_hist *h, uint64_t v, uint64_t count)
{
    if (!count)
        return;
    h->c[hist_index(v)] += count;
    h->n += count;
    h->sum += (double)v * (double)count;
    if (v > h->max)
        h->max = v;
    if (v < h->min)
        h->min = v;
}

void pb_hist_merge(pb_hist *dst, const pb_hist *src)
{
    if (!src->n)
        return;
    for (unsigned i = 0; i < PB_HIST_N; i++)
        dst->c[i] += src->c[i];
    dst->n += src->n;
    dst->sum += src->sum;
    if (src->max > dst->max)
        dst->max = src->max;
    if (src->min < dst->min)
        dst->min = src->min;
}

uint64_t pb_hist_pct(const pb_hist *h, double pct)
{
    if (!h->n)
        return 0;
    uint64_t rank = (uint64_t)ceil(pct / 100.0 * (double)h->n);
    if (rank < 1)
        rank = 1;
    uint64_t seen = 0;
    for (unsigned i = 0; i < PB_HIST_N; i++) {
        seen += h->c[i];
        if (seen >= rank) {
            uint64_t v = hist_high(i);
            if (v > h->max)
                v = h->max;
            if (v < h->min)
                v = h->min;
            return v;
        }
    }
    return h->max;
}

double pb_hist_mean(const pb_hist *h)
{
    return h->n ? h->sum / (double)h->n : 0;
}

/* ------------------------------------------------------------------------ */
/* Clock and random numbers                                                  */

uint64_t pb_now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

uint64_t pb_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

void pb_rng_seed(pb_rng *r, uint64_t seed)
{
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&seed);
}

static inline uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t pb_rand(pb_rng *r)
{
    uint64_t *s = r->s;
    uint64_t out = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return out;
}

double pb_rand01(pb_rng *r)
{
    return (double)(pb_rand(r) >> 11) * 0x1.0p-53;
}

uint64_t pb_rand_below(pb_rng *r, uint64_t n)
{
    /* Lemire's multiply-shift; the bias is below 2^-40 for our n. */
    return (uint64_t)(((unsigned __int128)pb_rand(r) * n) >> 64);
}

/* ------------------------------------------------------------------------ */
/* Zipf                                                                      */

static double zeta(uint64_t n, double theta)
{
    double sum = 0;
    for (uint64_t i = 1; i <= n; i++)
        sum += pow((double)i, -theta);
    return sum;
}

void pb_zipf_init(pb_zipf *z, uint64_t n, double theta)
{
    /* zeta(n) costs O(n) pow() calls: remember the last few. */
    static struct {
        uint64_t n;
        double theta, zetan;
    } memo[8];
    static unsigned next;
    z->n = n;
    z->theta = theta;
    z->zetan = -1;
    for (unsigned i = 0; i < 8; i++)
        if (memo[i].n == n && memo[i].theta == theta)
            z->zetan = memo[i].zetan;
    if (z->zetan < 0) {
        z->zetan = zeta(n, theta);
        memo[next % 8].n = n;
        memo[next % 8].theta = theta;
        memo[next % 8].zetan = z->zetan;
        next++;
    }
    double zeta2 = zeta(2, theta);
    z->alpha = 1.0 / (1.0 - theta);
    z->eta = (1 - pow(2.0 / (double)n, 1 - theta)) / (1 - zeta2 / z->zetan);
    z->half_pow = 1.0 + pow(0.5, theta);
}

uint64_t pb_zipf_rank(const pb_zipf *z, pb_rng *r)
{
    double u = pb_rand01(r);
    double uz = u * z->zetan;
    if (uz < 1.0)
        return 0;
    if (uz < z->half_pow)
        return 1;
    uint64_t v = (uint64_t)((double)z->n * pow(z->eta * u - z->eta + 1, z->alpha));
    return v < z->n ? v : z->n - 1;
}

uint64_t pb_scramble(uint64_t rank, uint64_t n)
{
    /* FNV-1a 64 over the rank's 8 bytes, as YCSB's fnvhash64. */
    uint64_t h = UINT64_C(0xcbf29ce484222325);
    for (int i = 0; i < 8; i++) {
        h ^= rank & 0xff;
        h *= UINT64_C(0x100000001b3);
        rank >>= 8;
    }
    return h % n;
}

const char *pb_dist_name(int d)
{
    return d == PB_ZIPF ? "zipf" : d == PB_SEQ ? "seq" : "uniform";
}

/* ------------------------------------------------------------------------ */
/* Keys                                                                      */

void pb_key(char *out, size_t len, int ks, uint64_t idx)
{
    out[0] = (char)ks;
    out[1] = ':';
    for (size_t i = len; i > 2; i--) {
        out[i - 1] = (char)('0' + idx % 10);
        idx /= 10;
    }
}

/* ------------------------------------------------------------------------ */
/* Exact LRU: a hash table (linear probing, backward-shift deletion) of node
 * indices, and the nodes on a doubly linked list, most recent at the head. */

typedef struct lru_node {
    uint64_t id;
    uint32_t prev, next;
} lru_node;

struct pb_lru {
    uint64_t cap, used;
    lru_node *node;
    uint32_t *slot; /* node index + 1; 0: empty */
    uint64_t mask;
    uint32_t head, tail; /* UINT32_MAX: none */
};

#define LRU_NIL UINT32_MAX

static uint64_t lru_hash(uint64_t id)
{
    uint64_t x = id;
    return splitmix64(&x);
}

pb_lru *pb_lru_new(uint64_t cap)
{
    if (cap < 1 || cap >= UINT32_MAX - 1)
        return NULL;
    pb_lru *l = calloc(1, sizeof *l);
    if (!l)
        return NULL;
    uint64_t size = 1;
    while (size < cap * 2)
        size <<= 1;
    l->cap = cap;
    l->mask = size - 1;
    l->node = calloc(cap, sizeof *l->node);
    l->slot = calloc(size, sizeof *l->slot);
    l->head = l->tail = LRU_NIL;
    if (!l->node || !l->slot) {
        pb_lru_free(l);
        return NULL;
    }
    return l;
}

void pb_lru_free(pb_lru *l)
{
    if (!l)
        return;
    free(l->node);
    free(l->slot);
    free(l);
}

static void lru_unlink(pb_lru *l, uint32_t i)
{
    lru_node *n = &l->node[i];
    if (n->prev != LRU_NIL)
        l->node[n->prev].next = n->next;
    else
        l->head = n->next;
    if (n->next != LRU_NIL)
        l->node[n->next].prev = n->prev;
    else
        l->tail = n->prev;
}

static void lru_push_head(pb_lru *l, uint32_t i)
{
    lru_node *n = &l->node[i];
    n->prev = LRU_NIL;
    n->next = l->head;
    if (l->head != LRU_NIL)
        l->node[l->head].prev = i;
    l->head = i;
    if (l->tail == LRU_NIL)
        l->tail = i;
}

static void lru_slot_delete(pb_lru *l, uint64_t pos)
{
    /* Backward-shift: pull later entries of the probe run into the hole. */
    uint64_t hole = pos;
    for (uint64_t j = (pos + 1) & l->mask; l->slot[j]; j = (j + 1) & l->mask) {
        uint64_t home = lru_hash(l->node[l->slot[j] - 1].id) & l->mask;
        /* Move j into the hole if its home does not lie in (hole, j]. */
        bool between = hole <= j ? (home > hole && home <= j) : (home > hole || home <= j);
        if (!between) {
            l->slot[hole] = l->slot[j];
            hole = j;
        }
    }
    l->slot[hole] = 0;
}

bool pb_lru_access(pb_lru *l, uint64_t id)
{
    uint64_t pos = lru_hash(id) & l->mask;
    while (l->slot[pos]) {
        uint32_t i = l->slot[pos] - 1;
        if (l->node[i].id == id) {
            if (l->head != i) {
                lru_unlink(l, i);
                lru_push_head(l, i);
            }
            return true;
        }
        pos = (pos + 1) & l->mask;
    }
    uint32_t i;
    if (l->used < l->cap) {
        i = (uint32_t)l->used++;
    } else {
        i = l->tail;
        lru_unlink(l, i);
        uint64_t p = lru_hash(l->node[i].id) & l->mask;
        while (l->slot[p] != i + 1)
            p = (p + 1) & l->mask;
        lru_slot_delete(l, p);
        /* The deletion may have moved entries: find id's slot again. */
        pos = lru_hash(id) & l->mask;
        while (l->slot[pos])
            pos = (pos + 1) & l->mask;
    }
    l->node[i].id = id;
    l->slot[pos] = i + 1;
    lru_push_head(l, i);
    return false;
}

/* ------------------------------------------------------------------------ */
/* Messages                                                                  */

void pb_msg(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("pcbench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void pb_info(const char *fmt, ...)
{
    if (!pb_cfg_g.verbose)
        return;
    va_list ap;
    va_start(ap, fmt);
    fputs("pcbench: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void pb_res_error(pb_res *r, const char *fmt, ...)
{
    r->errors++;
    if (r->first_err)
        return;
    r->first_err = 1;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(r->errmsg, sizeof r->errmsg, fmt, ap);
    va_end(ap);
}
