/*
 * test_helpers.c - issue 16's helpers through a real pycached, from many
 * processes at once:
 *
 *  - 8 processes hammering one GCRA key get exactly the allowed number
 *    through, each "remaining" figure once;
 *  - 8 processes hammering one fixed-window key get exactly the limit
 *    through in every window (the last, cut short, at most the limit).
 */
#include <stdatomic.h>
#include <sys/mman.h>

#include "pctest.h"

#define NPROC 8

static int setup(void **state)
{
    pt_daemon_fixture(state, 120);
    return pt_daemon_new(*state, "helpers", NULL) || pt_daemon_start(*state, NULL) ? -1 : 0;
}

/* ---- rate limiting ---- */

#define MAX_PASS 4096

struct tshared {
    _Atomic int go;
    _Atomic uint32_t npass;
    /* Every call let through: its remaining figure, and when its window
     * ends (the caller's wall clock plus reset_after_ms). */
    int64_t remaining[MAX_PASS];
    int64_t ends[MAX_PASS];
};

struct targ {
    const char *dir;
    int idx;
    bool window;
    int calls;         /* GCRA: this many calls */
    uint64_t until_ms; /* window: calls until this wall-clock time */
    struct tshared *sh;
};

static int hammer(void *arg)
{
    struct targ *a = arg;
    pc_options o;
    pc_options_init(&o);
    o.flags = a->idx % 2 ? PC_OPT_RING_ONLY : 0;
    pc_client *c;
    CKOK(pc_connect(a->dir, &o, &c));
    while (!atomic_load(&a->sh->go))
        pt_sleep_us(100);
    for (int i = 0; a->window ? (uint64_t)pt_wall_ms() < a->until_ms : i < a->calls; i++) {
        pc_throttle_info t;
        if (a->window)
            CKOK(pc_throttle_window(c, K("t:window"), 10, 1000, 1, &t));
        else
            CKOK(pc_throttle(c, K("t:gcra"), 99, 1, 3600000, 1, &t));
        if (t.limited)
            continue;
        uint32_t at = atomic_fetch_add(&a->sh->npass, 1);
        CK(at < MAX_PASS);
        a->sh->remaining[at] = t.remaining;
        a->sh->ends[at] = pt_wall_ms() + t.reset_after_ms;
    }
    pc_close(c);
    return 0;
}

static void run_hammers(pt_daemon *d, struct tshared *sh, bool window, uint64_t until)
{
    struct targ a[NPROC];
    pid_t pid[NPROC];
    for (int i = 0; i < NPROC; i++) {
        a[i] = (struct targ){d->dir, i, window, 400, until, sh};
        pid[i] = pt_fork(hammer, &a[i], 60);
        CHECK(pid[i] > 0, "fork");
    }
    atomic_store(&sh->go, 1);
    for (int i = 0; i < NPROC; i++)
        EXITED(pt_wait_pid(pid[i], 60000), 0);
}

static void test_gcra_exact(void **state)
{
    pt_daemon *d = *state;
    struct tshared *sh = pt_shared(sizeof *sh);
    run_hammers(d, sh, false, 0);
    /* 100 at once, then one an hour: exactly 100 of 3200 pass, and each
     * saw another "remaining". */
    EQ(atomic_load(&sh->npass), 100);
    int seen[100] = {0};
    for (uint32_t i = 0; i < 100; i++) {
        int64_t r = sh->remaining[i];
        CHECK(r >= 0 && r < 100 && !seen[r], "remaining %" PRId64 " twice or out of range", r);
        seen[r] = 1;
    }
    d->passed = true;
    munmap(sh, sizeof *sh);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static void test_window_exact(void **state)
{
    pt_daemon *d = *state;
    struct tshared *sh = pt_shared(sizeof *sh);
    run_hammers(d, sh, true, (uint64_t)pt_wall_ms() + 3500);
    uint32_t n = atomic_load(&sh->npass);
    CHECK(n >= 10, "only %u passed in 3.5 s", n);
    /* Group the passes by window: windows of 1 s, whose ends the callers
     * saw within a few ms of each other. */
    int64_t(*pair)[2] = calloc(n, sizeof *pair);
    for (uint32_t i = 0; i < n; i++) {
        pair[i][0] = sh->ends[i];
        pair[i][1] = sh->remaining[i];
    }
    qsort(pair, n, sizeof *pair, cmp_i64);
    unsigned windows = 0;
    for (uint32_t i = 0; i < n;) {
        uint32_t j = i;
        int seen[10] = {0};
        while (j < n && pair[j][0] - pair[i][0] < 500) {
            int64_t r = pair[j][1];
            CHECK(r >= 0 && r < 10 && !seen[r], "window %u: remaining %" PRId64 " twice", windows,
                  r);
            seen[r] = 1;
            j++;
        }
        windows++;
        /* Every window but the last, which the end of the run cut short,
         * let exactly the limit through. */
        CHECK(j - i == 10 || j == n, "window %u let %u through", windows, j - i);
        CHECK(j - i <= 10, "window %u let %u through", windows, j - i);
        i = j;
    }
    CHECK(windows >= 3, "%u windows in 3.5 s", windows);
    pt_note("%u passes in %u windows", n, windows);
    free(pair);
    d->passed = true;
    munmap(sh, sizeof *sh);
}

int main(void)
{
    pt_init(300);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_gcra_exact, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_window_exact, setup, pt_daemon_teardown),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
