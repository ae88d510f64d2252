/*
 * log.c - the daemon's log: syslog, or a file (--log-file), or stderr in the
 * foreground.  SIGHUP reopens the file so logrotate can move it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>
#include <syslog.h>
#include <time.h>
#include <unistd.h>

#include "pycached.h"

static FILE *log_fp; /* NULL: syslog */
static int log_max = LOG_INFO;

int pcd_log_open(const pcd_config *cfg)
{
    log_max = cfg->log_level;
    if (cfg->log_file) {
        /* Never through a link at its name (one planted in a directory that
         * others can write to could point anywhere); the mode is the
         * umask's, as fopen's. */
        int fd = open(cfg->log_file,
                      O_WRONLY | O_APPEND | O_CREAT | O_NOFOLLOW | O_CLOEXEC | O_NOCTTY, 0666);
        FILE *fp = fd < 0 ? NULL : fdopen(fd, "a");
        if (!fp) {
            int e = errno;
            if (fd >= 0)
                close(fd);
            fprintf(stderr, "pycached: cannot open log file %s: %s\n", cfg->log_file,
                    e == ELOOP ? "it is a symbolic link (give the file it points to)"
                               : strerror(e));
            return -1;
        }
        setvbuf(fp, NULL, _IOLBF, 0);
        if (log_fp && log_fp != stderr)
            fclose(log_fp);
        log_fp = fp;
    } else if (cfg->foreground) {
        log_fp = stderr;
    } else {
        openlog("pycached", LOG_PID | LOG_NDELAY, LOG_DAEMON);
        log_fp = NULL;
    }
    return 0;
}

void pcd_log_reopen(const pcd_config *cfg)
{
    if (pcd_log_open(cfg))
        pcd_log(LOG_ERR, "could not reopen the log file %s; logging stays where it was",
                cfg->log_file);
}

static void log_line(int prio, const char *fmt, va_list ap)
{
    if (!log_fp) {
        vsyslog(prio, fmt, ap);
    } else {
        static const char *const names[] = {"emerg",   "alert",  "crit", "error",
                                            "warning", "notice", "info", "debug"};
        struct timespec ts;
        struct tm tm;
        char when[32];
        clock_gettime(CLOCK_REALTIME, &ts);
        localtime_r(&ts.tv_sec, &tm);
        strftime(when, sizeof when, "%Y-%m-%d %H:%M:%S", &tm);
        /* One line whole, whichever thread logs (writers, snapshots). */
        flockfile(log_fp);
        fprintf(log_fp, "%s.%03ld pycached[%d] %s: ", when, ts.tv_nsec / 1000000L, (int)getpid(),
                names[prio & 7]);
        vfprintf(log_fp, fmt, ap);
        fputc('\n', log_fp);
        funlockfile(log_fp);
    }
}

void pcd_log(int prio, const char *fmt, ...)
{
    if (prio > log_max)
        return;
    va_list ap;
    va_start(ap, fmt);
    log_line(prio, fmt, ap);
    va_end(ap);
}

static void log_printf(int prio, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_printf(int prio, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    log_line(prio, fmt, ap);
    va_end(ap);
}

/* ---- lines about peers, rate-limited ---- */

/*
 * A token bucket per peer uid and one for all peers together: a line costs a
 * token; buckets refill at their rate up to their burst.  A line that finds
 * either bucket empty is counted against its uid, and pcd_log_tick() reports
 * the count in one line per uid at most every PCD_LOG_REPORT_MS.  The table
 * keeps PCD_LOG_UIDS uids; a new one replaces the one idle longest (its count
 * goes to the report of the lines of uids no longer tracked).
 */
#define PCD_LOG_UIDS 64

typedef struct log_bucket {
    bool used;
    uint32_t uid;
    double tokens;
    uint64_t last_ms;      /* refilled up to here */
    uint64_t suppressed;   /* lines dropped since sup_since_ms */
    uint64_t sup_since_ms; /* first dropped line not yet reported (0: none) */
} log_bucket;

static log_bucket peers[PCD_LOG_UIDS];
static log_bucket all_peers;
static uint64_t lost_suppressed, lost_since_ms; /* of uids that left the table */

static uint64_t mono_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000u + (uint64_t)ts.tv_nsec / 1000000u;
}

static void refill(log_bucket *b, uint64_t now, double burst, double per_s)
{
    if (!b->last_ms) {
        b->tokens = burst;
    } else if (now > b->last_ms) {
        b->tokens += (double)(now - b->last_ms) * per_s / 1000.0;
        if (b->tokens > burst)
            b->tokens = burst;
    }
    b->last_ms = now;
}

static log_bucket *bucket_of(uint32_t uid, uint64_t now)
{
    log_bucket *free_slot = NULL, *idlest = NULL;
    for (size_t i = 0; i < PCD_LOG_UIDS; i++) {
        log_bucket *b = &peers[i];
        if (!b->used) {
            if (!free_slot)
                free_slot = b;
        } else if (b->uid == uid) {
            return b;
        } else if (!idlest || b->last_ms < idlest->last_ms) {
            idlest = b;
        }
    }
    log_bucket *b = free_slot ? free_slot : idlest;
    if (b->used && b->suppressed) {
        if (!lost_suppressed)
            lost_since_ms = b->sup_since_ms;
        lost_suppressed += b->suppressed;
    }
    memset(b, 0, sizeof *b);
    b->used = true;
    b->uid = uid;
    refill(b, now, PCD_LOG_PEER_BURST, PCD_LOG_PEER_PER_S);
    return b;
}

void pcd_log_peer(uint32_t uid, int prio, const char *fmt, ...)
{
    if (prio > log_max)
        return;
    uint64_t now = mono_ms();
    log_bucket *b = bucket_of(uid, now);
    refill(b, now, PCD_LOG_PEER_BURST, PCD_LOG_PEER_PER_S);
    refill(&all_peers, now, PCD_LOG_ALL_BURST, PCD_LOG_ALL_PER_S);
    if (b->tokens < 1 || all_peers.tokens < 1) {
        if (!b->suppressed)
            b->sup_since_ms = now;
        b->suppressed++;
        return;
    }
    b->tokens -= 1;
    all_peers.tokens -= 1;
    va_list ap;
    va_start(ap, fmt);
    log_line(prio, fmt, ap);
    va_end(ap);
}

void pcd_log_tick(bool final)
{
    uint64_t now = mono_ms();
    uint64_t age = final ? 0 : PCD_LOG_REPORT_MS;
    for (size_t i = 0; i < PCD_LOG_UIDS; i++) {
        log_bucket *b = &peers[i];
        if (!b->used || !b->suppressed || now - b->sup_since_ms < age)
            continue;
        char who[32];
        if (b->uid == PCD_LOG_NOUID)
            snprintf(who, sizeof who, "peers of unknown uid");
        else
            snprintf(who, sizeof who, "uid %u", (unsigned)b->uid);
        log_printf(LOG_WARNING,
                   "%s: %llu log line(s) about its clients suppressed in the last %.0f s "
                   "(more than %d at once or %d a second per uid, or %d a second in all)",
                   who, (unsigned long long)b->suppressed, (double)(now - b->sup_since_ms) / 1000,
                   PCD_LOG_PEER_BURST, PCD_LOG_PEER_PER_S, PCD_LOG_ALL_PER_S);
        b->suppressed = 0;
        b->sup_since_ms = 0;
    }
    if (lost_suppressed && now - lost_since_ms >= age) {
        log_printf(LOG_WARNING,
                   "%llu log line(s) about clients of uids no longer tracked suppressed in the "
                   "last %.0f s",
                   (unsigned long long)lost_suppressed, (double)(now - lost_since_ms) / 1000);
        lost_suppressed = 0;
    }
}
