/*
 * config.c - pycached's settings: defaults, the command line and the config
 * file share one table of setters, so every option can be given either way
 * (`--sync batch` on the command line is `sync = batch` in the file).
 */
#include <errno.h>
#include <getopt.h>
#include <grp.h>
#include <fcntl.h>
#include <limits.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <syslog.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "pycached.h"

unsigned pcd_shards_default(void)
{
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    if (n < 1)
        return 1;
    return n > PCD_SHARDS_DEFAULT_MAX ? PCD_SHARDS_DEFAULT_MAX : (unsigned)n;
}

void pcd_config_defaults(pcd_config *cfg)
{
    memset(cfg, 0, sizeof *cfg);
    cfg->log_level = LOG_INFO;
    cfg->shards = pcd_shards_default();
    cfg->max_memory = UINT64_C(1) << 30;
    cfg->max_value = PC_VALUE_MAX_DEFAULT;
    cfg->max_readers = PCS_MAX_READERS_DEFAULT;
    cfg->sync = PCD_SYNC_ALWAYS;
    cfg->sync_interval_ms = 1000;
    cfg->ring_size = PCS_RING_DEFAULT;
    cfg->max_clients = 1024;
    cfg->spin_us = 50;
    cfg->expire_interval_ms = 100;
    cfg->policy = PC_POLICY_NOEVICTION;
    cfg->evict_at_pct = 90;
    cfg->snapshot_keep = 3;
    cfg->max_read_age_s = 300;
    cfg->client_backlog = UINT64_C(16) << 20;
    cfg->request_timeout_s = 30;
}

void pcd_config_free(pcd_config *cfg)
{
    pcs_free(cfg->dir);
    pcs_free(cfg->config_file);
    pcs_free(cfg->log_file);
    pcs_free(cfg->snapshot_dir);
    pcs_free(cfg->restore_file);
    pcs_free(cfg->snapshot_to);
    pcs_free(cfg->snapshot_password_file);
    pcs_free(cfg->snapshot_tls_ca);
    pcs_free(cfg->snapshot_tls_cert);
    pcs_free(cfg->snapshot_tls_key);
    cfg->snapshot_to = cfg->snapshot_password_file = NULL;
    cfg->snapshot_tls_ca = cfg->snapshot_tls_cert = cfg->snapshot_tls_key = NULL;
    pcs_free(cfg->cwd);
    cfg->dir = cfg->config_file = cfg->log_file = NULL;
    cfg->snapshot_dir = cfg->restore_file = cfg->cwd = NULL;
}

/*
 * A size: decimal digits, then K, M, G or T (powers of 1024), optionally
 * followed by "iB" or "B".  Strict: no leading space or sign (strtoull
 * would take " -1" as 2^64-1), no overflow of the digits or of the
 * multiplication by the suffix.
 */
int pcd_parse_size(const char *s, uint64_t *out)
{
    if (!s || *s < '0' || *s > '9')
        return -1;
    char *end;
    errno = 0;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return -1;
    unsigned shift = 0;
    switch (*end) {
    case 'k':
    case 'K':
        shift = 10;
        end++;
        break;
    case 'm':
    case 'M':
        shift = 20;
        end++;
        break;
    case 'g':
    case 'G':
        shift = 30;
        end++;
        break;
    case 't':
    case 'T':
        shift = 40;
        end++;
        break;
    default:
        break;
    }
    if (*end == 'i' || *end == 'B')
        end += (*end == 'i' && end[1] == 'B') ? 2 : 1;
    if (*end || v > (UINT64_MAX >> shift))
        return -1;
    *out = (uint64_t)v << shift;
    return 0;
}

/* A size as the options take it: "64M", "1T", or bytes when no suffix
 * divides it evenly. */
const char *pcd_fmt_size(uint64_t v, char *buf, size_t len)
{
    static const char sfx[] = "KMGT";
    int i = -1;
    while (i < 3 && v && (v & 1023) == 0) {
        v >>= 10;
        i++;
    }
    if (i < 0)
        snprintf(buf, len, "%llu", (unsigned long long)v);
    else
        snprintf(buf, len, "%llu%c", (unsigned long long)v, sfx[i]);
    return buf;
}

static int parse_uint(const char *s, unsigned min, unsigned max, unsigned *out)
{
    char *end;
    errno = 0;
    if (!s || !*s || *s == '-')
        return -1;
    unsigned long v = strtoul(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return -1;
    *out = (unsigned)v;
    return 0;
}

static int set_str(char **slot, const char *v)
{
    char *d = pcs_strdup(v);
    if (!d)
        return -1;
    pcs_free(*slot);
    *slot = d;
    return 0;
}

static int lookup_gid(const char *v, gid_t *gid)
{
    unsigned n;
    if (!parse_uint(v, 0, UINT_MAX - 1, &n)) {
        *gid = (gid_t)n;
        return 0;
    }
    struct group *g = getgrnam(v);
    if (!g)
        return -1;
    *gid = g->gr_gid;
    return 0;
}

/* "UID", "USER", "user:NAME", "group:NAME" or "GROUP". */
static int add_ring_only(pcd_config *cfg, const char *v)
{
    unsigned n;
    if (!strncmp(v, "group:", 6) || !strncmp(v, "user:", 5)) {
        bool grp = v[0] == 'g';
        const char *name = v + (grp ? 6 : 5);
        if (grp) {
            gid_t g;
            if (lookup_gid(name, &g) || cfg->n_ro_gid == PCD_MAX_ACL)
                return -1;
            cfg->ro_gid[cfg->n_ro_gid++] = g;
            return 0;
        }
        struct passwd *pw = getpwnam(name);
        if (!pw && parse_uint(name, 0, UINT_MAX - 1, &n))
            return -1;
        if (cfg->n_ro_uid == PCD_MAX_ACL)
            return -1;
        cfg->ro_uid[cfg->n_ro_uid++] = pw ? pw->pw_uid : (uid_t)n;
        return 0;
    }
    struct passwd *pw = getpwnam(v); /* a user's name wins over a number */
    if (pw || !parse_uint(v, 0, UINT_MAX - 1, &n)) {
        if (cfg->n_ro_uid == PCD_MAX_ACL)
            return -1;
        cfg->ro_uid[cfg->n_ro_uid++] = pw ? pw->pw_uid : (uid_t)n;
        return 0;
    }
    gid_t g;
    if (lookup_gid(v, &g) || cfg->n_ro_gid == PCD_MAX_ACL)
        return -1;
    cfg->ro_gid[cfg->n_ro_gid++] = g;
    return 0;
}

/* --allow-read/--allow-write/--allow-admin WHO: "UID", "USER", "user:NAME",
 * "group:NAME" (a group's name or number).  Naming the same peer again keeps
 * the higher role. */
static int add_grant(pcd_config *cfg, const char *v, pc_role role)
{
    unsigned n;
    pcd_grant g = {.role = (uint8_t)role};
    if (!strncmp(v, "group:", 6)) {
        gid_t gid;
        if (lookup_gid(v + 6, &gid))
            return -1;
        g.group = true;
        g.id = (uint32_t)gid;
    } else {
        const char *name = !strncmp(v, "user:", 5) ? v + 5 : v;
        struct passwd *pw = getpwnam(name); /* a user's name wins over a number */
        if (!pw && parse_uint(name, 0, UINT_MAX - 1, &n))
            return -1;
        g.id = pw ? (uint32_t)pw->pw_uid : n;
    }
    for (unsigned i = 0; i < cfg->n_grant; i++)
        if (cfg->grant[i].group == g.group && cfg->grant[i].id == g.id) {
            if (cfg->grant[i].role < g.role)
                cfg->grant[i].role = g.role;
            return 0;
        }
    if (cfg->n_grant == PCD_MAX_ACL)
        return -1;
    cfg->grant[cfg->n_grant++] = g;
    return 0;
}

void pcd_config_take_access(pcd_config *dst, const pcd_config *src)
{
    memcpy(dst->grant, src->grant, sizeof src->grant);
    dst->n_grant = src->n_grant;
    dst->max_clients_per_uid = src->max_clients_per_uid;
    dst->max_buffers = src->max_buffers;
    dst->client_backlog = src->client_backlog;
    dst->request_timeout_s = src->request_timeout_s;
}

unsigned pcd_per_uid_cap(const pcd_config *cfg)
{
    if (cfg->max_clients_per_uid)
        return cfg->max_clients_per_uid;
    return cfg->max_clients >= 4 ? cfg->max_clients / 4 : 1;
}

/* The options of roles and quotas (set_option's share); 1 when name is not one. */
static int set_access_option(pcd_config *cfg, const char *name, const char *v)
{
    uint64_t sz;
    if (!strcmp(name, "allow-read"))
        return add_grant(cfg, v, PC_ROLE_READ);
    if (!strcmp(name, "allow-write"))
        return add_grant(cfg, v, PC_ROLE_WRITE);
    if (!strcmp(name, "allow-admin"))
        return add_grant(cfg, v, PC_ROLE_ADMIN);
    if (!strcmp(name, "max-clients-per-uid"))
        return parse_uint(v, 0, 1u << 16, &cfg->max_clients_per_uid);
    if (!strcmp(name, "max-buffers")) {
        if (pcd_parse_size(v, &sz) || (sz && sz < (UINT64_C(1) << 20)))
            return -1;
        cfg->max_buffers = sz;
        return 0;
    }
    if (!strcmp(name, "client-backlog")) {
        if (pcd_parse_size(v, &sz) || sz < (UINT64_C(64) << 10) || sz > (UINT64_C(1) << 40))
            return -1;
        cfg->client_backlog = sz;
        return 0;
    }
    if (!strcmp(name, "request-timeout"))
        return parse_uint(v, 0, 86400, &cfg->request_timeout_s);
    return 1;
}

static const struct {
    const char *name;
    int prio;
} levels[] = {{"debug", LOG_DEBUG},
              {"info", LOG_INFO},
              {"notice", LOG_NOTICE},
              {"warning", LOG_WARNING},
              {"error", LOG_ERR}};

/* The accepted values of the settings whose refusal says them. */
static const char *option_range(const char *name)
{
    if (!strcmp(name, "shards"))
        return "1 to 64";
    if (!strcmp(name, "max-memory"))
        return "1M to 8T (per shard)";
    if (!strcmp(name, "max-value"))
        return "1 to 2147483647 bytes (2G less one byte)";
    return NULL;
}

/* One setter for every setting, by its long-option name.  0 or -1. */
static int set_option(pcd_config *cfg, const char *name, const char *v)
{
    uint64_t sz;
    int acc = set_access_option(cfg, name, v);
    if (acc <= 0)
        return acc;
    if (!strcmp(name, "dir"))
        return *v ? set_str(&cfg->dir, v) : -1;
    if (!strcmp(name, "log-file"))
        return *v ? set_str(&cfg->log_file, v) : -1;
    if (!strcmp(name, "log-level")) {
        for (size_t i = 0; i < sizeof levels / sizeof levels[0]; i++)
            if (!strcasecmp(v, levels[i].name)) {
                cfg->log_level = levels[i].prio;
                return 0;
            }
        return -1;
    }
    if (!strcmp(name, "foreground")) {
        if (!strcasecmp(v, "yes") || !strcasecmp(v, "true") || !strcmp(v, "1"))
            cfg->foreground = true;
        else if (!strcasecmp(v, "no") || !strcasecmp(v, "false") || !strcmp(v, "0"))
            cfg->foreground = false;
        else
            return -1;
        return 0;
    }
    if (!strcmp(name, "shards")) {
        if (parse_uint(v, 1, PCS_SHARDS_MAX, &cfg->shards))
            return -1;
        cfg->shards_set = true;
        return 0;
    }
    if (!strcmp(name, "max-memory")) {
        if (pcd_parse_size(v, &sz) || sz < PCD_MEMORY_MIN || sz > PCD_MEMORY_MAX)
            return -1;
        cfg->max_memory = sz;
        cfg->max_memory_set = true;
        return 0;
    }
    if (!strcmp(name, "max-value")) {
        if (pcd_parse_size(v, &sz) || sz < 1 || sz > PCD_VALUE_MAX)
            return -1;
        cfg->max_value = sz;
        cfg->max_value_set = true;
        return 0;
    }
    if (!strcmp(name, "max-readers"))
        return parse_uint(v, 16, 1u << 20, &cfg->max_readers);
    if (!strcmp(name, "sync")) {
        if (!strcmp(v, "always"))
            cfg->sync = PCD_SYNC_ALWAYS;
        else if (!strcmp(v, "batch"))
            cfg->sync = PCD_SYNC_BATCH;
        else if (!strcmp(v, "none"))
            cfg->sync = PCD_SYNC_NONE;
        else
            return -1;
        return 0;
    }
    if (!strcmp(name, "writers")) {
        if (!strcmp(v, "auto"))
            cfg->writers = PCD_WRITERS_AUTO;
        else if (!strcmp(v, "threads"))
            cfg->writers = PCD_WRITERS_THREADS;
        else if (!strcmp(v, "loop"))
            cfg->writers = PCD_WRITERS_LOOP;
        else
            return -1;
        return 0;
    }
    if (!strcmp(name, "sync-interval"))
        return parse_uint(v, 1, 3600000, &cfg->sync_interval_ms);
    if (!strcmp(name, "ring-size")) {
        if (pcd_parse_size(v, &sz) || sz < PCS_RING_MIN || sz > PCS_RING_MAX || (sz & (sz - 1)))
            return -1;
        cfg->ring_size = (uint32_t)sz;
        return 0;
    }
    if (!strcmp(name, "max-clients"))
        return parse_uint(v, 1, 1u << 16, &cfg->max_clients);
    if (!strcmp(name, "spin-us"))
        return parse_uint(v, 0, 100000, &cfg->spin_us);
    if (!strcmp(name, "expire-interval"))
        return parse_uint(v, 0, 3600000, &cfg->expire_interval_ms);
    if (!strcmp(name, "evict-at"))
        return parse_uint(v, 10, 99, &cfg->evict_at_pct);
    if (!strcmp(name, "eviction")) {
        for (int p = PC_POLICY_NOEVICTION; p <= PC_POLICY_ALLKEYS_LFU; p++)
            if (!strcmp(v, pc_policy_name((pc_policy)p))) {
                cfg->policy = p;
                return 0;
            }
        return -1;
    }
    if (!strcmp(name, "allow-group")) {
        gid_t g;
        if (lookup_gid(v, &g) || cfg->n_allow_gid == PCD_MAX_ACL)
            return -1;
        cfg->allow_gid[cfg->n_allow_gid++] = g;
        return 0;
    }
    if (!strcmp(name, "allow-ring-only"))
        return add_ring_only(cfg, v);
    if (!strcmp(name, "max-read-age"))
        return parse_uint(v, 0, 86400, &cfg->max_read_age_s);
    if (!strcmp(name, "snapshot-dir"))
        return *v ? set_str(&cfg->snapshot_dir, v) : -1;
    if (!strcmp(name, "restore"))
        return *v ? set_str(&cfg->restore_file, v) : -1;
    if (!strcmp(name, "snapshot-keep"))
        return parse_uint(v, 0, 100000, &cfg->snapshot_keep);
    if (!strcmp(name, "snapshot-to"))
        return *v ? set_str(&cfg->snapshot_to, v) : -1;
    if (!strcmp(name, "snapshot-password-file"))
        return *v ? set_str(&cfg->snapshot_password_file, v) : -1;
    if (!strcmp(name, "snapshot-tls-ca"))
        return *v ? set_str(&cfg->snapshot_tls_ca, v) : -1;
    if (!strcmp(name, "snapshot-tls-cert"))
        return *v ? set_str(&cfg->snapshot_tls_cert, v) : -1;
    if (!strcmp(name, "snapshot-tls-key"))
        return *v ? set_str(&cfg->snapshot_tls_key, v) : -1;
    if (!strcmp(name, "snapshot-tls")) {
        static const char *const modes[] = {"off", "required", "verify"};
        for (int i = 0; i < 3; i++)
            if (!strcmp(v, modes[i])) {
                cfg->snapshot_tls = i;
                return 0;
            }
        return -1;
    }
    if (!strcmp(name, "snapshot-every")) {
        /* SECONDS[:CHANGES], as Redis's save rule; up to eight of them. */
        char buf[64];
        unsigned secs, changes = 1;
        size_t len = strlen(v);
        if (len >= sizeof buf || cfg->n_rules == 8)
            return -1;
        memcpy(buf, v, len + 1);
        char *colon = strchr(buf, ':');
        if (colon)
            *colon = 0;
        if (parse_uint(buf, 1, 31536000, &secs) ||
            (colon && parse_uint(colon + 1, 1, UINT32_MAX - 1, &changes)))
            return -1;
        cfg->rule_seconds[cfg->n_rules] = secs;
        cfg->rule_changes[cfg->n_rules++] = changes;
        return 0;
    }
    errno = ENOENT; /* no such setting */
    return -1;
}

/* The settings' error message for "name = value" at path:line (line 0: the
 * command line). */
static void report_bad(const char *path, unsigned line, const char *name, const char *value)
{
    const char *range = option_range(name);
    if (errno == ENOENT || !strcmp(name, "config"))
        fprintf(stderr, "pycached: %s:%u: unknown setting '%s'\n", path, line, name);
    else if (range)
        fprintf(stderr, "pycached: %s:%u: %s must be %s: got '%s'\n", path, line, name, range,
                value);
    else
        fprintf(stderr, "pycached: %s:%u: bad value for %s: '%s'\n", path, line, name, value);
}

/* Blanks (spaces and tabs) off both ends of [s, e); returns the new start,
 * *e moved back. */
static char *trim(char *s, char **e)
{
    while (s < *e && (*s == ' ' || *s == '\t'))
        s++;
    while (*e > s && ((*e)[-1] == ' ' || (*e)[-1] == '\t' || (*e)[-1] == '\r'))
        (*e)--;
    return s;
}

/*
 * One line of a config file (NUL-terminated, without its newline): blank,
 * a comment (# or ; first), or "name = value" where a ';' after a blank
 * ends the value (as inih read it).  0, or -1 after a message.
 */
static int parse_line(pcd_config *cfg, const char *path, unsigned line, char *s)
{
    char *e = s + strlen(s);
    s = trim(s, &e);
    *e = 0;
    if (!*s || *s == '#' || *s == ';')
        return 0;
    if (*s == '[') {
        fprintf(stderr, "pycached: %s:%u: sections are not used (%s)\n", path, line, s);
        return -1;
    }
    char *eq = strchr(s, '=');
    char *ne = eq;
    if (eq)
        trim(s, &ne); /* the name's end: s starts with no blank */
    if (!eq || ne == s) {
        fprintf(stderr, "pycached: %s:%u: not a 'name = value' line\n", path, line);
        return -1;
    }
    *ne = 0;
    char *v = eq + 1;
    for (char *c = v; *c; c++)
        if (*c == ';' && c > v && (c[-1] == ' ' || c[-1] == '\t')) {
            e = c;
            break;
        }
    v = trim(v, &e);
    *e = 0;
    errno = 0;
    if (!strcmp(s, "config") || set_option(cfg, s, v)) {
        report_bad(path, line, s, v);
        return -1;
    }
    return 0;
}

#define PCD_CONFIG_MAX (1u << 20) /* a config file's size at most */

/*
 * Read a config file: a regular file (a directory, a device or a FIFO is
 * refused at once, never read), of at most PCD_CONFIG_MAX bytes, without
 * NUL bytes, of lines of any length.  Every bad line is reported with its
 * number before the file is refused.
 */
int pcd_config_file(pcd_config *cfg, const char *path)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY | O_NONBLOCK);
    struct stat sb;
    if (fd < 0 || fstat(fd, &sb) < 0) {
        fprintf(stderr, "pycached: cannot read config file %s: %s\n", path, strerror(errno));
        if (fd >= 0)
            close(fd);
        return -1;
    }
    if (!S_ISREG(sb.st_mode)) {
        fprintf(stderr, "pycached: config file %s is not a regular file (%s)\n", path,
                S_ISDIR(sb.st_mode)    ? "a directory"
                : S_ISFIFO(sb.st_mode) ? "a FIFO"
                : S_ISCHR(sb.st_mode)  ? "a character device"
                : S_ISBLK(sb.st_mode)  ? "a block device"
                : S_ISSOCK(sb.st_mode) ? "a socket"
                                       : "not a file");
        close(fd);
        return -1;
    }
    if (sb.st_size > PCD_CONFIG_MAX) {
        fprintf(stderr, "pycached: config file %s is larger than %u bytes\n", path, PCD_CONFIG_MAX);
        close(fd);
        return -1;
    }
    char *text = pcs_malloc((size_t)sb.st_size + 1);
    size_t len = 0;
    ssize_t n = 0;
    while (text && len <= (size_t)sb.st_size &&
           (n = read(fd, text + len, (size_t)sb.st_size + 1 - len)) > 0)
        len += (size_t)n;
    int err = errno;
    close(fd);
    if (!text || n < 0 || len > (size_t)sb.st_size) {
        fprintf(stderr, "pycached: cannot read config file %s: %s\n", path,
                !text   ? strerror(ENOMEM)
                : n < 0 ? strerror(err)
                        : "it grew while read");
        pcs_free(text);
        return -1;
    }
    text[len] = 0;
    int bad = 0;
    char *p = text, *end = text + len;
    if (len >= 3 && !memcmp(p, "\xef\xbb\xbf", 3))
        p += 3; /* a UTF-8 byte order mark */
    for (unsigned line = 1; p < end; line++) {
        char *nl = memchr(p, '\n', (size_t)(end - p));
        char *eol = nl ? nl : end;
        *eol = 0;
        if (strlen(p) != (size_t)(eol - p)) {
            fprintf(stderr, "pycached: %s:%u: a NUL byte: not a text file\n", path, line);
            bad = 1;
        } else if (parse_line(cfg, path, line, p)) {
            bad = 1;
        }
        p = eol + 1;
    }
    pcs_free(text);
    return bad ? -1 : 0;
}

static const struct option longopts[] = {
    {"dir", required_argument, NULL, 'd'},
    {"config", required_argument, NULL, 'c'},
    {"foreground", no_argument, NULL, 'f'},
    {"log-file", required_argument, NULL, 0},
    {"log-level", required_argument, NULL, 0},
    {"shards", required_argument, NULL, 0},
    {"max-memory", required_argument, NULL, 0},
    {"max-value", required_argument, NULL, 0},
    {"max-readers", required_argument, NULL, 0},
    {"sync", required_argument, NULL, 0},
    {"sync-interval", required_argument, NULL, 0},
    {"writers", required_argument, NULL, 0},
    {"ring-size", required_argument, NULL, 0},
    {"max-clients", required_argument, NULL, 0},
    {"spin-us", required_argument, NULL, 0},
    {"expire-interval", required_argument, NULL, 0},
    {"eviction", required_argument, NULL, 0},
    {"evict-at", required_argument, NULL, 0},
    {"max-read-age", required_argument, NULL, 0},
    {"snapshot-dir", required_argument, NULL, 0},
    {"snapshot-every", required_argument, NULL, 0},
    {"snapshot-keep", required_argument, NULL, 0},
    {"restore", required_argument, NULL, 0},
    {"snapshot-to", required_argument, NULL, 0},
    {"snapshot-password-file", required_argument, NULL, 0},
    {"snapshot-tls", required_argument, NULL, 0},
    {"snapshot-tls-ca", required_argument, NULL, 0},
    {"snapshot-tls-cert", required_argument, NULL, 0},
    {"snapshot-tls-key", required_argument, NULL, 0},
    {"allow-group", required_argument, NULL, 0},
    {"allow-ring-only", required_argument, NULL, 0},
    {"allow-read", required_argument, NULL, 0},
    {"allow-write", required_argument, NULL, 0},
    {"allow-admin", required_argument, NULL, 0},
    {"max-clients-per-uid", required_argument, NULL, 0},
    {"max-buffers", required_argument, NULL, 0},
    {"client-backlog", required_argument, NULL, 0},
    {"request-timeout", required_argument, NULL, 0},
    {"help", no_argument, NULL, 'h'},
    {"version", no_argument, NULL, 'V'},
    {NULL, 0, NULL, 0},
};

void pcd_usage(FILE *f)
{
    fputs("Usage: pycached [OPTION]...\n"
          "Serve a pycache store to the processes of this host.\n"
          "\n"
          "  -d, --dir DIR            store directory (default $XDG_RUNTIME_DIR/pycache,\n"
          "                           /run/pycache for root)\n"
          "  -c, --config FILE        read settings from FILE (name = value lines);\n"
          "                           the command line wins\n"
          "  -f, --foreground         stay in the foreground, log to stderr\n"
          "      --log-file FILE      log to FILE instead of syslog\n"
          "      --log-level LEVEL    debug, info, notice, warning or error (info)\n"
          "      --sync MODE          always: fsync every group commit (default);\n"
          "                           batch: at most every --sync-interval; none\n"
          "      --sync-interval MS   for --sync batch (1000)\n"
          "      --writers MODE       several shards: threads (each shard's writes in\n"
          "                           a thread of its own), loop (one after another)\n"
          "                           or auto: whichever is measured faster (auto)\n"
          "      --allow-group GROUP  also admit peers of GROUP (they map the store)\n"
          "      --allow-ring-only WHO  admit UID, USER, user:NAME or group:NAME as\n"
          "                           ring-only peers (never map the store)\n"
          "      --allow-read WHO     role read for WHO (UID, USER, user:NAME or\n"
          "                           group:NAME): reads only\n"
          "      --allow-write WHO    role write: reads and writes of keys (the role\n"
          "                           --allow-group and --allow-ring-only grant)\n"
          "      --allow-admin WHO    role admin: also flush, purge, snapshots, the\n"
          "                           TTL worker's interval, the client list (the\n"
          "                           daemon's own uid is admin)\n"
          "      --max-clients N      connected clients at most (1024)\n"
          "      --max-clients-per-uid N  connections of one uid other than the\n"
          "                           daemon's own (a quarter of --max-clients)\n"
          "      --max-buffers SIZE   memory for requests being received and answers\n"
          "                           not yet read, all clients (256M, at least four\n"
          "                           of the largest request)\n"
          "      --client-backlog SIZE  a client with this much unread is not served\n"
          "                           until it reads (16M)\n"
          "      --request-timeout S  close a client whose request is still incomplete\n"
          "                           after S seconds (30; 0: never)\n"
          "      --ring-size SIZE     bytes in each ring of a channel (1M)\n"
          "      --spin-us US         poll this long before sleeping when idle (50)\n"
          "      --expire-interval MS run the TTL worker every MS (100); 0 stops it\n"
          "      --eviction POLICY    at the memory cap: noeviction (default: writes\n"
          "                           that may grow fail), volatile-ttl, allkeys-lru,\n"
          "                           allkeys-lfu\n"
          "      --evict-at PCT       the cap: PCT percent of --max-memory (90)\n"
          "      --max-read-age S     disconnect a process that holds a read open (an\n"
          "                           outdated snapshot) longer than S seconds (0: never;\n"
          "                           default 300)\n"
          "      --snapshot-dir DIR   write SQLite snapshots there; restore the newest\n"
          "                           good one into an empty store at start\n"
          "      --snapshot-every S[:N]  snapshot when S seconds passed and N writes\n"
          "                           happened (N defaults to 1); up to 8 rules\n"
          "      --snapshot-keep N    keep the newest N snapshots (3; 0 keeps all)\n"
          "      --restore FILE       load FILE into the (empty) store at start\n"
          "      --snapshot-to mysql://USER@HOST[:PORT]/DB[?socket=PATH]\n"
          "                           also write snapshots into a MariaDB or MySQL\n"
          "                           database; restore from it at start when there\n"
          "                           is no --snapshot-dir (--restore URL: from it)\n"
          "      --snapshot-password-file FILE  its password (mode 0600), never in the URL\n"
          "      --snapshot-tls MODE  off, required or verify (the server's certificate)\n"
          "      --snapshot-tls-ca FILE, --snapshot-tls-cert FILE, --snapshot-tls-key FILE\n"
          "When the store is created (fixed afterwards):\n"
          "      --max-memory SIZE    each shard's map: the store's limit, 1M..8T (1G)\n"
          "      --shards N           LMDB environments, 1..64 (the online cores,\n"
          "                           at most 8); all maps together at most 64T\n"
          "      --max-value SIZE     largest value: at most a quarter of\n"
          "                           --max-memory (64M, or an eighth of it if less)\n"
          "      --max-readers N      LMDB reader slots (4096)\n"
          "  -h, --help               show this help and exit\n"
          "  -V, --version            show the version and exit\n"
          "\n"
          "SIZE takes K, M, G or T (powers of 1024).  SIGTERM stops the daemon after\n"
          "the round in flight; SIGHUP reopens the log and rereads the config file.\n"
          "See pycached(8).\n",
          f);
}

/* The command line's options but --config (read first, by the caller):
 * 0, 1 for --help or --version (done), or -1 after a message. */
static int apply_args(pcd_config *cfg, int argc, char **argv)
{
    optind = 0; /* glibc: start afresh (a reload parses argv again) */
    opterr = 0;
    int ch, li;
    while ((ch = getopt_long(argc, argv, ":d:c:fhV", longopts, &li)) != -1) {
        switch (ch) {
        case 'd':
            if (!*optarg || set_str(&cfg->dir, optarg)) {
                fprintf(stderr, "pycached: bad value for --dir: '%s'\n", optarg);
                return -1;
            }
            break;
        case 'c':
            break; /* read first */
        case 'f':
            cfg->foreground = true;
            break;
        case 'h':
            pcd_usage(stdout);
            return 1;
        case 'V':
            printf("pycached %s\n", PACKAGE_VERSION);
            return 1;
        case 0:
            if (set_option(cfg, longopts[li].name, optarg)) {
                const char *range = option_range(longopts[li].name);
                if (range)
                    fprintf(stderr, "pycached: --%s must be %s: got '%s'\n", longopts[li].name,
                            range, optarg);
                else
                    fprintf(stderr, "pycached: bad value for --%s: '%s'\n", longopts[li].name,
                            optarg);
                return -1;
            }
            break;
        case ':':
            fprintf(stderr, "pycached: %s needs a value\n", argv[optind - 1]);
            return -1;
        default:
            fprintf(stderr, "pycached: unknown option '%s' (see pycached --help)\n",
                    argv[optind - 1]);
            return -1;
        }
    }
    if (optind < argc) {
        fprintf(stderr, "pycached: unexpected argument '%s' (see pycached --help)\n", argv[optind]);
        return -1;
    }
    return 0;
}

int pcd_config_args(pcd_config *cfg, int argc, char **argv)
{
    /* First pass: only --config, so the file is read before the rest. */
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        const char *v = NULL;
        if (!strcmp(a, "--"))
            break;
        if ((!strcmp(a, "-c") || !strcmp(a, "--config")) && i + 1 < argc)
            v = argv[++i];
        else if (!strncmp(a, "--config=", 9))
            v = a + 9;
        if (v) {
            if (set_str(&cfg->config_file, v) || pcd_config_file(cfg, v))
                return -1;
        }
    }
    /* Kept for SIGHUP, which applies the command line again over the file. */
    cfg->argc = argc;
    cfg->argv = argv;
    return apply_args(cfg, argc, argv);
}

int pcd_config_reload(pcd_config *n, const pcd_config *cur)
{
    pcd_config_defaults(n);
    if (pcd_config_file(n, cur->config_file) || apply_args(n, cur->argc, cur->argv) ||
        pcd_config_paths(n, cur->cwd))
        return -1;
    return 0;
}

/* *slot made absolute against cwd; 0 or -1 (no memory). */
static int absolute(char **slot, const char *cwd)
{
    if (!*slot || (*slot)[0] == '/')
        return 0;
    size_t a = strlen(cwd), b = strlen(*slot);
    char *p = pcs_malloc(a + b + 2);
    if (!p)
        return -1;
    memcpy(p, cwd, a);
    p[a] = '/';
    memcpy(p + a + 1, *slot, b + 1);
    pcs_free(*slot);
    *slot = p;
    return 0;
}

int pcd_config_paths(pcd_config *cfg, const char *cwd)
{
    char buf[PATH_MAX];
    if (!cwd) {
        if (!getcwd(buf, sizeof buf)) {
            fprintf(stderr, "pycached: cannot tell the current directory: %s\n", strerror(errno));
            return -1;
        }
        cwd = buf;
    }
    if (!cfg->cwd && set_str(&cfg->cwd, cwd))
        return -1;
    if (absolute(&cfg->dir, cwd) || absolute(&cfg->config_file, cwd) ||
        absolute(&cfg->log_file, cwd) || absolute(&cfg->snapshot_dir, cwd) ||
        (!pcp_db_is_url(cfg->restore_file) && absolute(&cfg->restore_file, cwd)) ||
        absolute(&cfg->snapshot_password_file, cwd) || absolute(&cfg->snapshot_tls_ca, cwd) ||
        absolute(&cfg->snapshot_tls_cert, cwd) || absolute(&cfg->snapshot_tls_key, cwd)) {
        fprintf(stderr, "pycached: out of memory\n");
        return -1;
    }
    return 0;
}

/* The target of a mysql:// URL (url; NULL: --snapshot-to) with the
 * password file and TLS settings, into db (NULL: only checked).  0, or -1
 * after saying why on stderr. */
static int db_target(const pcd_config *cfg, const char *url, pcp_db *db)
{
    pcp_db tmp;
    char why[512];
    const char *what = url == cfg->snapshot_to ? "--snapshot-to" : "--restore";
    if (!url) {
        fprintf(stderr, "pycached: no database to snapshot to\n");
        return -1;
    }
    if (!db)
        db = &tmp;
    if (pcp_db_parse(url, db, why, sizeof why)) {
        /* Never repeat a password the URL holds: USER:***@HOST.  It ends
         * at the last '@' (a password may hold '@' and '/'; hiding too
         * much in a URL that is refused anyway does no harm). */
        const char *p = strstr(url, "://"), *at = p ? strrchr(p + 3, '@') : NULL;
        const char *colon = at ? memchr(p + 3, ':', (size_t)(at - p - 3)) : NULL;
        if (colon)
            fprintf(stderr, "pycached: %s %.*s:***%s: %s\n", what, (int)(colon - url), url, at,
                    why);
        else
            fprintf(stderr, "pycached: %s %s: %s\n", what, url, why);
        return -1;
    }
    const char *files[4] = {cfg->snapshot_password_file, cfg->snapshot_tls_ca,
                            cfg->snapshot_tls_cert, cfg->snapshot_tls_key};
    char *slots[4] = {db->password_file, db->tls_ca, db->tls_cert, db->tls_key};
    for (int i = 0; i < 4; i++)
        if (files[i] && snprintf(slots[i], PCP_DB_PATH_MAX, "%s", files[i]) >= PCP_DB_PATH_MAX) {
            fprintf(stderr, "pycached: the path %s is too long\n", files[i]);
            return -1;
        }
    if (cfg->snapshot_password_file &&
        pcp_db_check_password_file(cfg->snapshot_password_file, why, sizeof why)) {
        fprintf(stderr, "pycached: snapshot-password-file: %s\n", why);
        return -1;
    }
    /* The TLS files are read at each connection: one that cannot be read
     * now stops the start rather than every snapshot. */
    const char *tls_names[3] = {"snapshot-tls-ca", "snapshot-tls-cert", "snapshot-tls-key"};
    for (int i = 1; i < 4; i++) {
        struct stat sb;
        if (!files[i])
            continue;
        if (stat(files[i], &sb) < 0 || access(files[i], R_OK) < 0) {
            fprintf(stderr, "pycached: %s %s: cannot read it: %s\n", tls_names[i - 1], files[i],
                    strerror(errno));
            return -1;
        }
        if (!S_ISREG(sb.st_mode)) {
            fprintf(stderr, "pycached: %s %s: not a regular file\n", tls_names[i - 1], files[i]);
            return -1;
        }
    }
    /* Last: the settings' own faults read the same in a build without
     * the target. */
    if (!pcp_db_available()) {
        fprintf(stderr,
                "pycached: %s %s: this pycached was built without the MariaDB/MySQL target "
                "(configure found no libmariadb: install libmariadb-dev and build again)\n",
                what, url);
        return -1;
    }
    db->tls = cfg->snapshot_tls || cfg->snapshot_tls_ca || cfg->snapshot_tls_cert ||
              cfg->snapshot_tls_key;
    db->tls_verify = cfg->snapshot_tls == 2;
    return 0;
}

int pcd_config_db(const pcd_config *cfg, const char *url, pcp_db *db)
{
    return db_target(cfg, url, db);
}

/* The settings of the MariaDB/MySQL target fit together. */
static int check_db(const pcd_config *cfg)
{
    bool restore_db = pcp_db_is_url(cfg->restore_file);
    if (cfg->snapshot_to && db_target(cfg, cfg->snapshot_to, NULL))
        return -1;
    if (restore_db && db_target(cfg, cfg->restore_file, NULL))
        return -1;
    if (!cfg->snapshot_to && !restore_db &&
        (cfg->snapshot_password_file || cfg->snapshot_tls || cfg->snapshot_tls_ca ||
         cfg->snapshot_tls_cert || cfg->snapshot_tls_key)) {
        fprintf(stderr, "pycached: the snapshot-password-file and snapshot-tls settings go "
                        "with --snapshot-to (or --restore mysql://...)\n");
        return -1;
    }
    return 0;
}

/*
 * The store's shape, checked before anything is created:
 *  - the maps of all shards fit in PCD_MAP_TOTAL_MAX of address space (the
 *    daemon and every trusted client map every shard);
 *  - --max-value is at most a quarter of --max-memory, so that the largest
 *    value, which the memory cap counts twice, fits under the cap with room
 *    for its B-tree pages; left out, it defaults to the smaller of 64M and
 *    an eighth of --max-memory.
 */
int pcd_config_check(pcd_config *cfg)
{
    char a[32], b[32], c[32], e[32];
    if (cfg->n_rules && !cfg->snapshot_dir && !cfg->snapshot_to) {
        fprintf(stderr, "pycached: --snapshot-every needs --snapshot-dir or --snapshot-to\n");
        return -1;
    }
    if (check_db(cfg))
        return -1;
    if (cfg->max_memory > PCD_MAP_TOTAL_MAX / cfg->shards) {
        fprintf(stderr,
                "pycached: --shards %u with --max-memory %s maps %s: all shards together must "
                "fit in %s of address space (at most --max-memory %s with %u shards)\n",
                cfg->shards, pcd_fmt_size(cfg->max_memory, a, sizeof a),
                cfg->max_memory > UINT64_MAX / cfg->shards
                    ? "more than 16E"
                    : pcd_fmt_size(cfg->max_memory * cfg->shards, b, sizeof b),
                pcd_fmt_size(PCD_MAP_TOTAL_MAX, c, sizeof c),
                pcd_fmt_size(PCD_MAP_TOTAL_MAX / cfg->shards, e, sizeof e), cfg->shards);
        return -1;
    }
    uint64_t most = pcd_value_max_for(cfg->max_memory);
    if (!cfg->max_value_set) {
        cfg->max_value = pcd_value_default_for(cfg->max_memory);
    } else if (cfg->max_value > most) {
        fprintf(stderr,
                "pycached: --max-value %s does not fit --max-memory %s: the largest accepted is "
                "%s (a quarter of --max-memory)\n",
                pcd_fmt_size(cfg->max_value, a, sizeof a),
                pcd_fmt_size(cfg->max_memory, b, sizeof b), pcd_fmt_size(most, c, sizeof c));
        return -1;
    }
    return 0;
}

uint64_t pcd_value_max_for(uint64_t max_memory)
{
    uint64_t most = max_memory / 4;
    return most < PCD_VALUE_MAX ? most : PCD_VALUE_MAX;
}

uint64_t pcd_value_default_for(uint64_t max_memory)
{
    uint64_t v = max_memory / 8;
    return v < PC_VALUE_MAX_DEFAULT ? v : PC_VALUE_MAX_DEFAULT;
}

/* SIGHUP: reopen the log and reread the config file; settings fixed at
 * creation, or that need a restart, are reported and left as they are. */
void pcd_reload(pcd *d)
{
    pcd_log(LOG_NOTICE, "SIGHUP: reopening the log%s",
            d->cfg.config_file ? ", rereading the config" : "");
    if (d->cfg.config_file) {
        /* As a start would make them: the file, then the command line
         * again, which wins (pycached(8)). */
        pcd_config n;
        if (pcd_config_reload(&n, &d->cfg) == 0) {
            d->cfg.sync_interval_ms = n.sync_interval_ms;
            d->cfg.max_clients = n.max_clients;
            d->cfg.spin_us = n.spin_us;
            d->cfg.expire_interval_ms = n.expire_interval_ms;
            d->cfg.writers = n.writers;
            if (n.policy != d->cfg.policy)
                pcd_log(LOG_WARNING, "eviction policy changes take a restart");
            if (n.max_memory_set && n.max_memory != d->st->map_size)
                pcd_log(LOG_WARNING, "--max-memory changes take a restart");
            d->cfg.log_level = n.log_level;
            if (n.sync != d->cfg.sync)
                pcd_log(LOG_WARNING, "sync mode changes take a restart");
            if (n.log_file && (!d->cfg.log_file || strcmp(n.log_file, d->cfg.log_file) != 0)) {
                pcs_free(d->cfg.log_file);
                d->cfg.log_file = n.log_file;
                n.log_file = NULL;
            }
            memcpy(d->cfg.allow_gid, n.allow_gid, sizeof n.allow_gid);
            d->cfg.n_allow_gid = n.n_allow_gid;
            memcpy(d->cfg.ro_uid, n.ro_uid, sizeof n.ro_uid);
            d->cfg.n_ro_uid = n.n_ro_uid;
            memcpy(d->cfg.ro_gid, n.ro_gid, sizeof n.ro_gid);
            d->cfg.n_ro_gid = n.n_ro_gid;
            pcd_config_take_access(&d->cfg, &n);
        } else {
            pcd_log(LOG_ERR, "config file %s has errors; keeping the running settings",
                    d->cfg.config_file);
        }
        pcd_config_free(&n);
    }
    pcd_log_reopen(&d->cfg);
}
