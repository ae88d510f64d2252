/*
 * test_log.c - the daemon's log (daemon/log.c, through libpcdaemon.la)
 * written from several threads at once, as the writer threads and the
 * snapshot thread do: every line of a --log-file comes out whole.
 */
#include <pthread.h>
#include <syslog.h>

#include "../../daemon/pycached.h"
#include "pctest.h"

#define LG_THREADS 4
#define LG_LINES 4000

static void *logger(void *arg)
{
    int t = (int)(intptr_t)arg;
    char pad[121];
    memset(pad, 'a' + t, sizeof pad - 1);
    pad[sizeof pad - 1] = 0;
    for (int i = 0; i < LG_LINES; i++)
        pcd_log(LOG_WARNING, "thread %d line %d %s end", t, i, pad);
    return NULL;
}

static void test_lines_whole(void **state)
{
    (void)state;
    char dir[256], path[300];
    assert_int_equal(pt_mkdtemp(dir, sizeof dir, NULL, "log"), 0);
    snprintf(path, sizeof path, "%s/daemon.log", dir);
    pcd_config cfg;
    pcd_config_defaults(&cfg);
    cfg.log_file = path;
    assert_int_equal(pcd_log_open(&cfg), 0);
    pthread_t th[LG_THREADS];
    for (int t = 0; t < LG_THREADS; t++)
        assert_int_equal(pthread_create(&th[t], NULL, logger, (void *)(intptr_t)t), 0);
    for (int t = 0; t < LG_THREADS; t++)
        pthread_join(th[t], NULL);

    FILE *f = fopen(path, "r");
    assert_non_null(f);
    char line[512];
    int next[LG_THREADS] = {0}, n = 0;
    while (fgets(line, sizeof line, f)) {
        n++;
        /* "DATE TIME.ms pycached[PID] warning: thread T line I aaa...a end" */
        const char *m = strstr(line, "] warning: thread ");
        int t = -1, i = -1, used = 0;
        CHECK(m && sscanf(m, "] warning: thread %d line %d %n", &t, &i, &used) == 2 && t >= 0 &&
                  t < LG_THREADS,
              "line %d is not a whole line: %s", n, line);
        CHECK(i == next[t], "line %d: thread %d's line %d where %d was due: %s", n, t, i, next[t],
              line);
        next[t]++;
        const char *p = m + used;
        size_t pad = strspn(p, (char[]){(char)('a' + t), 0});
        CHECK(pad == 120 && !strcmp(p + pad, " end\n"), "line %d is mixed: %s", n, line);
    }
    fclose(f);
    assert_int_equal(n, LG_THREADS * LG_LINES);
    pt_rmtree(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_lines_whole),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
