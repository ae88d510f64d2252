/*
 * base.c - checks, time, seeded randomness, knobs and files (pctest.h).
 */
#include <dirent.h>
#include <fcntl.h>
#include <ftw.h>
#include <sys/mman.h>

#include "pctest.h"

/* ---- messages and checks ---- */

void pt_note(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("# ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
}

void pt_check_rc(const char *file, int line, const char *call, int got, int want)
{
    if (got == want)
        return;
    print_error("%s:%d: %s\n    returned %s (%d: %s), expected %s (%d)\n", file, line, call,
                pc_err_name(got), got, pc_strerror(got), pc_err_name(want), want);
    _fail(file, line);
}

void pt_child_fail(const char *file, int line, const char *what, const char *fmt, ...)
{
    char msg[512] = "";
    if (fmt) {
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(msg, sizeof msg, fmt, ap);
        va_end(ap);
    }
    fprintf(stderr, "[child %d] %s:%d: check failed: %s%s%s\n", (int)getpid(), file, line, what,
            *msg ? ": " : "", msg);
    fflush(stderr);
    _exit(1);
}

/* ---- time ---- */

uint64_t pt_now_us(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000u + (uint64_t)ts.tv_nsec / 1000u;
}

uint64_t pt_now_ms(void)
{
    return pt_now_us() / 1000u;
}

int64_t pt_wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

void pt_sleep_us(uint64_t us)
{
    struct timespec ts = {(time_t)(us / 1000000u), (long)(us % 1000000u) * 1000L};
    while (nanosleep(&ts, &ts) < 0 && errno == EINTR)
        ;
}

void pt_sleep_ms(uint64_t ms)
{
    pt_sleep_us(ms * 1000u);
}

/* ---- randomness ---- */

uint64_t pt_mix(uint64_t z)
{
    z += UINT64_C(0x9e3779b97f4a7c15);
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

uint64_t pt_next(pt_rng *r)
{
    uint64_t z = r->s;
    r->s += UINT64_C(0x9e3779b97f4a7c15);
    return pt_mix(z);
}

uint64_t pt_below(pt_rng *r, uint64_t n)
{
    return pt_next(r) % n;
}

uint64_t pt_range(pt_rng *r, uint64_t lo, uint64_t hi)
{
    return lo + pt_next(r) % (hi - lo + 1);
}

void pt_fill(void *p, size_t n, uint64_t seed)
{
    uint8_t *b = p;
    for (size_t i = 0; i < n; i += 8) {
        uint64_t v = pt_mix(seed * UINT64_C(1000003) + i);
        memcpy(b + i, &v, n - i < 8 ? n - i : 8);
    }
}

const char *pt_key(char *buf, size_t n, const char *family, uint64_t i)
{
    snprintf(buf, n, "%016" PRIx64 ".%s",
             pt_mix(i ^ pt_mix((uint64_t)family[0] << 8 | (uint64_t)family[1])), family);
    return buf;
}

void pt_shuffle(int *order, size_t n, pt_rng *r)
{
    for (size_t i = 0; i < n; i++)
        order[i] = (int)i;
    for (size_t i = n; i-- > 1;) {
        size_t j = (size_t)(pt_next(r) % (uint64_t)(i + 1));
        int x = order[i];
        order[i] = order[j];
        order[j] = x;
    }
}

/* ---- a growable byte buffer ---- */

void pt_buf_put(pt_buf *b, const void *p, size_t n)
{
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        assert_non_null(b->p);
        b->cap = cap;
    }
    if (n)
        memcpy(b->p + b->len, p, n);
    b->len += n;
}

void pt_buf_u64(pt_buf *b, uint64_t v)
{
    pt_buf_put(b, &v, sizeof v);
}

void pt_buf_bytes(pt_buf *b, const void *p, size_t n)
{
    pt_buf_u64(b, n);
    pt_buf_put(b, p, n);
}

void pt_buf_val(pt_buf *b, const pc_val *v)
{
    pt_buf_u64(b, (uint64_t)v->kind);
    uint64_t bits = 0;
    switch (v->kind) {
    case PC_BYTES:
        pt_buf_bytes(b, v->s.ptr, v->s.len);
        return;
    case PC_INT:
        bits = (uint64_t)v->i;
        break;
    case PC_DOUBLE:
        memcpy(&bits, &v->d, sizeof bits);
        break;
    case PC_BOOL:
        bits = v->b ? 1 : 0;
        break;
    default:
        return;
    }
    pt_buf_u64(b, bits);
}

bool pt_buf_same(const pt_buf *a, const pt_buf *b)
{
    return a->len == b->len && (a->len == 0 || !memcmp(a->p, b->p, a->len));
}

void pt_buf_free(pt_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* ---- knobs ---- */

long pt_env_long(const char *name, long def)
{
    const char *s = getenv(name);
    if (!s || !*s)
        return def;
    char *end;
    long v = strtol(s, &end, 10);
    return *end ? def : v;
}

uint64_t pt_seed(const char *test)
{
    uint64_t seed = (uint64_t)pt_env_long("FAULT_SEED", 0);
    if (!seed) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        seed = (uint64_t)ts.tv_sec * 1000003u ^ (uint64_t)ts.tv_nsec;
    }
    pt_note("%s: seed %" PRIu64 " (repeat with FAULT_SEED=%" PRIu64 ")", test, seed, seed);
    return seed;
}

/* ---- files ---- */

static int rm_one(const char *path, const struct stat *sb, int type, struct FTW *ftw)
{
    (void)sb;
    (void)type;
    (void)ftw;
    return remove(path) < 0 && errno != ENOENT ? -1 : 0;
}

void pt_rmtree(const char *dir)
{
    if (dir && *dir)
        nftw(dir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

int pt_mkdtemp(char *buf, size_t n, const char *base, const char *tag)
{
    const char *bases[] = {base ? base : "/dev/shm", base ? NULL : "/tmp"};
    for (size_t i = 0; i < 2 && bases[i]; i++) {
        struct stat sb;
        if (stat(bases[i], &sb) < 0 || !S_ISDIR(sb.st_mode))
            continue;
        if (snprintf(buf, n, "%s/pctest-%s-XXXXXX", bases[i], tag) >= (int)n)
            break;
        if (mkdtemp(buf))
            return 0;
    }
    fprintf(stderr, "pt_mkdtemp(%s, %s): %s\n", base ? base : "tmpfs", tag, strerror(errno));
    if (n)
        buf[0] = 0;
    return -1;
}

char *pt_slurp(const char *path, size_t *len)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return NULL;
    struct stat sb;
    if (fstat(fd, &sb) < 0) {
        close(fd);
        return NULL;
    }
    /* (/proc files say size 0: the buffer grows as needed) */
    size_t cap = (size_t)sb.st_size + 64, got = 0;
    char *buf = malloc(cap);
    for (;;) {
        if (!buf)
            break;
        if (got + 1 >= cap) {
            char *nb = realloc(buf, cap * 2);
            if (!nb) {
                free(buf);
                buf = NULL;
                break;
            }
            buf = nb;
            cap *= 2;
        }
        ssize_t r = read(fd, buf + got, cap - 1 - got);
        if (r < 0 && errno == EINTR)
            continue;
        if (r <= 0)
            break;
        got += (size_t)r;
    }
    close(fd);
    if (buf)
        buf[got] = 0;
    if (len)
        *len = got;
    return buf;
}

int pt_write_file(const char *path, const void *p, size_t n)
{
    int fd = open(path, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0600);
    if (fd < 0)
        return -1;
    const char *b = p;
    while (n) {
        ssize_t w = write(fd, b, n);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0) {
            close(fd);
            return -1;
        }
        b += w;
        n -= (size_t)w;
    }
    return close(fd);
}

int pt_write_text(const char *path, const char *text)
{
    return pt_write_file(path, text, strlen(text));
}

int pt_copy_file(const char *from, const char *to)
{
    size_t n;
    char *b = pt_slurp(from, &n);
    if (!b)
        return -1;
    int rc = pt_write_file(to, b, n);
    free(b);
    return rc;
}

bool pt_same_bytes(const char *a, const char *b)
{
    size_t na = 0, nb = 0;
    char *pa = pt_slurp(a, &na), *pb = pt_slurp(b, &nb);
    bool same = pa && pb && na == nb && !memcmp(pa, pb, na);
    free(pa);
    free(pb);
    return same;
}

bool pt_exists(const char *path)
{
    struct stat sb;
    return lstat(path, &sb) == 0;
}

int64_t pt_file_size(const char *path)
{
    struct stat sb;
    return stat(path, &sb) == 0 ? (int64_t)sb.st_size : -1;
}

void pt_cat(const char *title, const char *path)
{
    size_t n;
    char *b = pt_slurp(path, &n);
    if (!b)
        return;
    fprintf(stderr, "---- %s (%s) ----\n", title, path);
    fwrite(b, 1, n, stderr);
    fprintf(stderr, "---- end ----\n");
    free(b);
}

bool pt_file_has(const char *path, const char *needle, int timeout_ms)
{
    uint64_t until = pt_now_ms() + (uint64_t)(timeout_ms > 0 ? timeout_ms : 0);
    for (;;) {
        char *b = pt_slurp(path, NULL);
        bool has = b && strstr(b, needle);
        free(b);
        if (has)
            return true;
        if (pt_now_ms() >= until)
            return false;
        pt_sleep_ms(2);
    }
}

unsigned pt_file_count(const char *path, const char *needle)
{
    char *b = pt_slurp(path, NULL);
    unsigned k = 0;
    for (const char *p = b; p && (p = strstr(p, needle)); p += strlen(needle))
        k++;
    free(b);
    return k;
}

int pt_count_entries(const char *path, const char *prefix)
{
    DIR *dir = opendir(path);
    if (!dir)
        return -1;
    int n = 0;
    struct dirent *e;
    while ((e = readdir(dir)))
        n += prefix ? !strncmp(e->d_name, prefix, strlen(prefix))
                    : strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
    closedir(dir);
    return n;
}

bool pt_sanitizer_report(const char *path)
{
    static const char *const marks[] = {"ERROR: AddressSanitizer", "ERROR: LeakSanitizer",
                                        "runtime error:", "WARNING: ThreadSanitizer",
                                        "ERROR: ThreadSanitizer"};
    char *b = pt_slurp(path, NULL);
    bool found = false;
    for (size_t i = 0; b && i < PT_LEN(marks) && !found; i++) {
        const char *p = strstr(b, marks[i]);
        if (p) {
            const char *e = strchr(p, '\n');
            pt_note("sanitizer report in %s: %.*s", path, e ? (int)(e - p) : 200, p);
            found = true;
        }
    }
    free(b);
    return found;
}

const char *pt_base(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

char **pt_argv(const char *argv0, const char *const *args, int *argc)
{
    static char *argv[256];
    int n = 0;
    argv[n++] = (char *)argv0;
    for (size_t i = 0; args && args[i] && n < (int)PT_LEN(argv) - 1; i++)
        argv[n++] = (char *)args[i];
    argv[n] = NULL;
    *argc = n;
    return argv;
}

void pt_capture_begin(pt_capture *c, int fd)
{
    fflush(stdout);
    fflush(stderr);
    c->fd = fd;
    c->mem = memfd_create("pctest-capture", MFD_CLOEXEC);
    c->saved = dup(fd);
    assert_true(c->mem >= 0 && c->saved >= 0);
    assert_true(dup2(c->mem, fd) == fd);
}

char *pt_capture_end(pt_capture *c)
{
    fflush(stdout);
    fflush(stderr);
    dup2(c->saved, c->fd);
    close(c->saved);
    off_t n = lseek(c->mem, 0, SEEK_END);
    char *b = malloc(n > 0 ? (size_t)n + 1 : 1);
    assert_non_null(b);
    ssize_t got = n > 0 ? pread(c->mem, b, (size_t)n, 0) : 0;
    b[got > 0 ? got : 0] = 0;
    close(c->mem);
    return b;
}
