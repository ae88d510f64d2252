/*
 * log.c - the daemon's log: syslog, or a file (--log-file), or stderr in the
 * foreground.  SIGHUP reopens the file so logrotate can move it.
 */
#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
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

void pcd_log(int prio, const char *fmt, ...)
{
    if (prio > log_max)
        return;
    va_list ap;
    va_start(ap, fmt);
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
        fprintf(log_fp, "%s.%03ld pycached[%d] %s: ", when, ts.tv_nsec / 1000000L, (int)getpid(),
                names[prio & 7]);
        vfprintf(log_fp, fmt, ap);
        fputc('\n', log_fp);
    }
    va_end(ap);
}
