/*
 * test_fault_kill9.c - kill -9 of the daemon loses no acknowledged write.
 *
 * Eight writer processes write without pause (a String per write, a Map
 * field every 8th), each logging every acknowledged write to its own file.
 * Each round SIGKILLs pycached at a random moment, waits until every writer
 * has seen the connection drop (so its log holds every acknowledgement),
 * restarts the daemon on the same store and checks:
 *   - it serves again without a recovery step (its log says "serving", and
 *     nothing about recovery or corruption);
 *   - every acknowledged write is there (a slot holds the last acknowledged
 *     value or a later one: an unacknowledged write may or may not land);
 *   - LMDB reports no corruption: mdb_stat -a and mdb_dump -a walk every
 *     database of the store, and every key decodes through the API.
 * Writers reconnect after the restart and go on.  Run with --sync always and
 * --sync none; FAULT_KILL_ROUNDS rounds each (default 20; run-long.sh: 500).
 */
#include <fcntl.h>
#include <sys/prctl.h>
#include <stdatomic.h>
#include <sys/mman.h>

#include "pctest.h"

#define WRITERS 8
#define SLOTS 512 /* keys per writer, rewritten in turn */
#define FIELDS 64 /* map fields per writer */

typedef struct shared {
    _Atomic int stop;
    _Atomic int connected[WRITERS];
    _Atomic uint64_t next[WRITERS]; /* the seq being tried: later than every acknowledged one */
    _Atomic uint64_t resets[WRITERS];
    _Atomic int bad_rc[WRITERS]; /* an error other than losing the daemon */
} shared;

static shared *sh;
static char store_dir[256];

static void writer(int i, const char *dir, const char *logpath)
{
    int log = open(logpath, O_WRONLY | O_CREAT | O_APPEND, 0600);
    if (log < 0)
        _exit(2);
    uint64_t seq = 1;
    while (!atomic_load(&sh->stop)) {
        pc_client *c;
        pc_options o;
        pc_options_init(&o);
        o.timeout_ms = 100; /* see the daemon go at once, not after 10 s */
        if (pc_connect(dir, &o, &c)) {
            pt_sleep_ms(2);
            continue;
        }
        atomic_store(&sh->connected[i], 1);
        while (!atomic_load(&sh->stop)) {
            atomic_store(&sh->next[i], seq);
            char key[32], line[48];
            int rc;
            char kind;
            if (seq % 8 == 0) {
                char field[16];
                snprintf(key, sizeof key, "m%d", i);
                snprintf(field, sizeof field, "f%02u", (unsigned)(seq / 8 % FIELDS));
                pc_bytes f = pc_b(field, strlen(field));
                pc_val v = pc_int((int64_t)seq);
                rc = pc_hset(c, key, strlen(key), &f, &v, 1, NULL);
                kind = 'h';
            } else {
                snprintf(key, sizeof key, "w%d:%04u", i, (unsigned)(seq % SLOTS));
                pc_val v = pc_int((int64_t)seq);
                rc = pc_set(c, key, strlen(key), &v, 0, 0);
                kind = 's';
            }
            if (rc == 0) {
                int n = snprintf(line, sizeof line, "%c %" PRIu64 "\n", kind, seq);
                if (write(log, line, (size_t)n) != n)
                    _exit(2);
                seq++;
                continue;
            }
            if (rc != PC_ECONNRESET && rc != PC_ECONNREFUSED && rc != PC_EIO && rc != PC_ETIMEDOUT)
                atomic_store(&sh->bad_rc[i], rc);
            break;
        }
        pc_close(c);
        atomic_fetch_add(&sh->resets[i], 1);
        atomic_store(&sh->connected[i], 0);
    }
    close(log);
    _exit(0);
}

/* What every writer has had acknowledged: the newest seq per String slot
 * and per Map field, read incrementally from the logs. */
typedef struct acked {
    uint64_t slot[WRITERS][SLOTS];
    uint64_t field[WRITERS][FIELDS];
    off_t off[WRITERS];
    uint64_t total;
} acked;

static void read_logs(acked *a)
{
    for (int i = 0; i < WRITERS; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s.w%d", store_dir, i);
        FILE *f = fopen(path, "r");
        if (!f)
            continue;
        fseeko(f, a->off[i], SEEK_SET);
        char line[64];
        /* Whole lines only ("s SEQ" or "h SEQ"); each was one write(2). */
        while (fgets(line, sizeof line, f) && strchr(line, '\n')) {
            char *end;
            uint64_t seq = strtoull(line + 2, &end, 10);
            if ((line[0] != 's' && line[0] != 'h') || line[1] != ' ' || *end != '\n')
                fail_msg("writer %d's log has a bad line: %s", i, line);
            if (line[0] == 'h')
                a->field[i][seq / 8 % FIELDS] = seq;
            else
                a->slot[i][seq % SLOTS] = seq;
            a->total++;
            a->off[i] = ftello(f);
        }
        fclose(f);
    }
}

/* Every acknowledged write is there; returns the number of slots checked. */
static unsigned verify(pc_client *c, const acked *a)
{
    unsigned checked = 0;
    pc_read *r;
    OK(pc_read_begin(c, &r));
    for (int i = 0; i < WRITERS; i++) {
        uint64_t hi;
        for (unsigned s = 0; s < SLOTS; s++) {
            if (!a->slot[i][s])
                continue;
            char key[32];
            snprintf(key, sizeof key, "w%d:%04u", i, s);
            pc_val v;
            int rc = pc_get(r, key, strlen(key), &v);
            hi = atomic_load(&sh->next[i]);
            if (rc || v.kind != PC_INT || (uint64_t)v.i < a->slot[i][s] || (uint64_t)v.i > hi) {
                print_error("lost write: %s acknowledged %" PRIu64
                            ", store has rc %s value %" PRId64 " (newest tried %" PRIu64 ")\n",
                            key, a->slot[i][s], pc_err_name(rc), rc ? 0 : v.i, hi);
                fail();
            }
            checked++;
        }
        char mkey[16];
        snprintf(mkey, sizeof mkey, "m%d", i);
        for (unsigned f = 0; f < FIELDS; f++) {
            if (!a->field[i][f])
                continue;
            char field[16];
            snprintf(field, sizeof field, "f%02u", f);
            pc_val v;
            int rc = pc_hget(r, mkey, strlen(mkey), field, strlen(field), &v);
            hi = atomic_load(&sh->next[i]);
            if (rc || v.kind != PC_INT || (uint64_t)v.i < a->field[i][f] || (uint64_t)v.i > hi) {
                print_error("lost write: %s.%s acknowledged %" PRIu64 ", store has rc %s\n", mkey,
                            field, a->field[i][f], pc_err_name(rc));
                fail();
            }
            checked++;
        }
    }
    /* Every key decodes: walk them all and read each by its type. */
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[256];
    size_t n;
    while (!cur.done) {
        OK(pc_scan(r, NULL, &cur, keys, 256, &n));
        for (size_t k = 0; k < n; k++) {
            pc_type t;
            OK(pc_type_of(r, keys[k].ptr, keys[k].len, &t));
            if (t == PC_T_STRING || t == PC_T_NUMERIC) {
                pc_val v;
                OK(pc_get(r, keys[k].ptr, keys[k].len, &v));
            } else {
                assert_int_equal(t, PC_T_MAP);
                uint64_t len;
                OK(pc_hlen(r, keys[k].ptr, keys[k].len, &len));
                pc_cursor hc = PC_CURSOR_INIT;
                pc_bytes fl[64];
                pc_val vals[64];
                size_t m;
                while (!hc.done)
                    OK(pc_hscan(r, keys[k].ptr, keys[k].len, &hc, fl, vals, 64, &m));
            }
        }
    }
    pc_read_end(r);
    return checked;
}

static void run(const char *sync)
{
    uint64_t seed = pt_seed(sync);
    pt_rng rng = {seed};
    long rounds = pt_env_long("FAULT_KILL_ROUNDS", 20);
    assert_int_equal(pt_mkdtemp(store_dir, sizeof store_dir, "/tmp", "kill9"), 0);
    sh = pt_shared(sizeof *sh);
    pt_daemon d;
    pt_daemon_init(&d, store_dir, PT_ARGS("--sync", sync, "--max-memory", "256M"));
    assert_int_equal(pt_daemon_start(&d, NULL), 0);
    pid_t w[WRITERS];
    for (int i = 0; i < WRITERS; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s.w%d", store_dir, i);
        w[i] = fork();
        assert_true(w[i] >= 0);
        if (w[i] == 0) {
            prctl(PR_SET_PDEATHSIG, SIGKILL);
            writer(i, store_dir, path);
        }
        pt_track(w[i]);
    }
    acked *a = calloc(1, sizeof *a);
    assert_non_null(a);
    uint64_t t0 = pt_now_ms(), checked = 0;
    unsigned serving = 1;
    for (long round = 1; round <= rounds; round++) {
        pt_sleep_ms((unsigned)pt_range(&rng, 5, 300));
        pt_daemon_kill9(&d);
        /* Every writer sees the loss (so its log is complete) within 10 s. */
        uint64_t until = pt_now_ms() + 10000;
        for (int i = 0; i < WRITERS; i++)
            while (atomic_load(&sh->connected[i])) {
                if (pt_now_ms() > until) {
                    print_error("round %ld: writer %d never saw the daemon die\n", round, i);
                    fail();
                }
                pt_sleep_ms(1);
            }
        read_logs(a);
        if (!pt_mdb_walk(store_dir, 1))
            fail_msg("round %ld: LMDB reports corruption after kill -9 (--sync %s)", round, sync);
        assert_int_equal(pt_daemon_start(&d, NULL), 0);
        serving++;
        assert_int_equal(pt_file_count(d.log, "serving "), serving);
        pc_client *c;
        OK(pt_connect(store_dir, 0, &c));
        checked += verify(c, a);
        pc_close(c);
        for (int i = 0; i < WRITERS; i++)
            if (atomic_load(&sh->bad_rc[i]))
                fail_msg("writer %d got %s", i, pc_err_name(atomic_load(&sh->bad_rc[i])));
        if (round % 50 == 0)
            pt_note("--sync %s: %ld rounds, %" PRIu64 " acknowledged writes", sync, round,
                    a->total);
    }
    atomic_store(&sh->stop, 1);
    for (int i = 0; i < WRITERS; i++) {
        pt_wait_pid(w[i], 10000); /* (killed if it is still there then) */
    }
    read_logs(a);
    pc_client *c;
    OK(pt_connect(store_dir, 0, &c));
    checked += verify(c, a);
    pc_close(c);
    int st = pt_daemon_stop(&d);
    assert_true(st >= 0 && WIFEXITED(st) && WEXITSTATUS(st) == 0);
    assert_false(pt_sanitizer_report(d.out));
    assert_int_equal(pt_file_count(d.log, "recover"), 0);
    assert_int_equal(pt_file_count(d.log, "corrupt"), 0);
    assert_true(pt_mdb_walk(store_dir, 1));
    printf("RESULT kill9 sync=%s rounds=%ld acknowledged=%" PRIu64 " slots_checked=%" PRIu64
           " lost=0 seconds=%.1f\n",
           sync, rounds, a->total, checked, (double)(pt_now_ms() - t0) / 1000.0);
    pt_note("--sync %s: %ld kill -9 rounds, %" PRIu64 " acknowledged writes, none lost", sync,
            rounds, a->total);
    free(a);
    munmap(sh, sizeof *sh);
    for (int i = 0; i < WRITERS; i++) {
        char path[300];
        snprintf(path, sizeof path, "%s.w%d", store_dir, i);
        unlink(path);
    }
    pt_daemon_remove(&d);
}

static void kill9_sync_always(void **state)
{
    (void)state;
    run("always");
}

static void kill9_sync_none(void **state)
{
    (void)state;
    run("none");
}

int main(void)
{
    pt_init((unsigned)pt_env_long("FAULT_TIMEOUT", 600));
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(kill9_sync_always),
        cmocka_unit_test(kill9_sync_none),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
