/*
 * test_daemon_access.c - who may use pycached, by the credentials of the
 * socket's peer:
 *
 *  - a peer of another uid is refused (PC_EACCES): by the socket's mode when
 *    nobody else is admitted, and by the daemon's policy when the socket is
 *    open to others;
 *  - a peer admitted with --allow-ring-only (as a user, a group or a
 *    supplementary group) is ring-only: pc_store_info says so, it reads and
 *    writes everything through its channel, and never maps the store (its
 *    /proc/self/maps shows no data-00.mdb; it could not open it anyway);
 *  - a peer of an --allow-group group is trusted: it maps the store;
 *  - the daemon's own uid may ask to be ring-only (PC_OPT_RING_ONLY).
 *
 * Other uids are had with fork + setresuid, and once by running this
 * program again through setpriv(1) (a fresh process image), as `nobody`:
 * a copy of it, staged where nobody can reach it (the build tree may not be:
 * a checkout under /root).  Needs root; exits 77 (skip) otherwise.  A case
 * that needs other uids is skipped, saying why, where they cannot reach the
 * store directories at all (tests/lib/asuser.c).
 */
#include <fcntl.h>
#include <sys/prctl.h>
#include <grp.h>

#include "pctest.h"

#define CHAN_MAP "pycache-channel"

static uid_t nobody_uid = 65534;
static gid_t nogroup_gid = 65534;
static char stage[256];       /* where nobody can run... */
static char staged_self[320]; /* ...this program, copied */

static int setup(void **state)
{
    return pt_daemon_fixture(state, 60);
}

/* ------------------------------------------------------------------------ */
/* Children of another identity                                              */

struct as_arg {
    uid_t uid;
    gid_t gid;
    gid_t groups[4];
    int ngroups;
    int (*fn)(void *);
    void *arg;
};

static int as_trampoline(void *p)
{
    struct as_arg *a = p;
    CKM(pt_drop(a->uid, a->gid, a->groups, (size_t)a->ngroups) == 0, "%s", strerror(errno));
    prctl(PR_SET_DUMPABLE, 1); /* so it can read its own /proc/self/maps */
    return a->fn(a->arg);
}

/* Run fn(arg) in a child as uid/gid (with supplementary groups) and return
 * its wait status. */
static int run_as(uid_t uid, gid_t gid, const gid_t *groups, int ngroups, int (*fn)(void *),
                  void *arg)
{
    struct as_arg a = {uid, gid, {0}, ngroups, fn, arg};
    for (int i = 0; i < ngroups && i < 4; i++)
        a.groups[i] = groups[i];
    pid_t pid = pt_fork(as_trampoline, &a, 30);
    if (pid < 0)
        return -1;
    return pt_wait_pid(pid, 35000);
}

/* No mapping of the store in this process. */
static int store_maps(void)
{
    return pt_count_maps(getpid(), "data-00.mdb");
}

/* ------------------------------------------------------------------------ */
/* What the children check                                                   */

static int expect_refused(void *arg)
{
    const char *dir = arg;
    pc_client *c = NULL;
    CKRC(PC_EACCES, pc_connect(dir, NULL, &c));
    CK(c == NULL);
    pc_options o;
    pc_options_init(&o);
    o.flags = PC_OPT_RING_ONLY;
    CKRC(PC_EACCES, pc_connect(dir, &o, &c));
    CK(store_maps() == 0);
    return 0;
}

/* A ring-only peer: everything works through the channel, nothing maps the
 * store.  flags: what it asks for (the daemon makes it ring-only anyway). */
static int ring_only_peer(const char *dir, unsigned flags)
{
    pc_options o;
    pc_options_init(&o);
    o.flags = flags;
    pc_client *c = NULL;
    CKOK(pc_connect(dir, &o, &c));
    pc_store_info si;
    CKOK(pc_store_info_get(c, &si));
    CKM(si.ring_only, "pc_store_info says ring_only = false");
    CK(!si.embedded);
    CK(si.shards >= 1 && si.max_value > 0);

    char key[64], lkey[64], qkey[64];
    snprintf(key, sizeof key, "ro:%d:str", (int)getuid());
    snprintf(lkey, sizeof lkey, "ro:list:%d", (int)getpid());
    snprintf(qkey, sizeof qkey, "ro:queue:%d", (int)getpid());
    /* Writes. */
    pc_val v = pc_str("written by a ring-only peer"), got;
    CKOK(pc_set(c, K(key), &v, 0, 0));
    int64_t now;
    CKOK(pc_incrby(c, K("ro:counter"), 5, &now));
    CK(now >= 5);
    pc_val els[3] = {pc_int(1), pc_str("two"), pc_dbl(3.5)};
    uint64_t len;
    CKOK(pc_rpush(c, K(lkey), els, 3, &len));
    CK(len == 3);
    pc_bytes f = pc_b(K("field"));
    pc_val fv = pc_int(42);
    CKOK(pc_hset(c, K("ro:map"), &f, &fv, 1, NULL));
    CKOK(pc_sadd(c, K("ro:set"), els, 3, NULL));
    CKOK(pc_batch_begin(c));
    CKOK(pc_incrby(c, K("ro:counter"), 1, NULL));
    CKOK(pc_qpush(c, K(qkey), els, 3, NULL));
    CKOK(pc_batch_exec(c, NULL, 0));
    CKOK(pc_txn_begin(c));
    CKOK(pc_set(c, K("{ro}:a"), &v, 0, 0));
    CKOK(pc_set(c, K("{ro}:b"), &v, 0, 0));
    CKOK(pc_txn_commit(c, NULL));
    pc_val popped;
    size_t n;
    CKOK(pc_qpop_wait(c, K(qkey), 1, 1000, &popped, &n));
    CK(n == 1 && popped.kind == PC_INT && popped.i == 1);

    /* Reads, of its own writes and of the daemon owner's. */
    pc_read *r;
    CKOK(pc_read_begin(c, &r));
    CKOK(pc_get(r, K(key), &got));
    CK(got.kind == PC_BYTES && got.s.len == v.s.len && !memcmp(got.s.ptr, v.s.ptr, v.s.len));
    CKOK(pc_get(r, K("root:greeting"), &got));
    CK(got.kind == PC_BYTES && got.s.len == 5 && !memcmp(got.s.ptr, "hello", 5));
    pc_val out[8];
    CKOK(pc_lrange(r, K(lkey), 0, -1, out, 8, &n));
    CK(n == 3);
    CK(out[0].kind == PC_INT && out[0].i == 1);
    CK(out[1].kind == PC_BYTES && out[1].s.len == 3 && !memcmp(out[1].s.ptr, "two", 3));
    CK(out[2].kind == PC_DOUBLE && out[2].d == 3.5);
    CKOK(pc_hget(r, K("ro:map"), K("field"), &got));
    CK(got.kind == PC_INT && got.i == 42);
    int is;
    CKOK(pc_sismember(r, K("ro:set"), &els[2], &is));
    CK(is == 1);
    pc_type t;
    CKOK(pc_type_of(r, K(qkey), &t));
    CK(t == PC_T_QUEUE);
    pc_cursor cur = PC_CURSOR_INIT;
    pc_bytes keys[64];
    CKOK(pc_scan(r, "ro:*", &cur, keys, 64, &n));
    CK(n >= 5);
    pc_read_end(r);

    /* It never mapped the store; it has its channel, and it could not have
     * opened the store's files anyway. */
    CKM(store_maps() == 0, "a ring-only peer maps data-00.mdb");
    CK(pt_count_maps(getpid(), CHAN_MAP) == 1);
    char path[256];
    snprintf(path, sizeof path, "%s/data-00.mdb", dir);
    if (getuid() != 0) {
        int fd = open(path, O_RDONLY);
        CKM(fd < 0 && errno == EACCES, "a ring-only peer of uid %d can open %s", (int)getuid(),
            path);
    }
    pc_close(c);
    return 0;
}

static int ring_only_default(void *arg)
{
    return ring_only_peer(arg, 0);
}

static int ring_only_asked(void *arg)
{
    return ring_only_peer(arg, PC_OPT_RING_ONLY);
}

/* A trusted peer of another uid (an --allow-group member): it maps the store. */
static int group_peer(void *arg)
{
    const char *dir = arg;
    pc_client *c = NULL;
    CKOK(pc_connect(dir, NULL, &c));
    pc_store_info si;
    CKOK(pc_store_info_get(c, &si));
    CKM(!si.ring_only, "an --allow-group peer is ring-only");
    pc_val v = pc_str("from the group"), got;
    CKOK(pc_set(c, K("grp:k"), &v, 0, 0));
    pc_read *r;
    CKOK(pc_read_begin(c, &r));
    CKOK(pc_get(r, K("grp:k"), &got));
    CK(got.kind == PC_BYTES && got.s.len == v.s.len);
    CKOK(pc_get(r, K("root:greeting"), &got));
    CK(got.kind == PC_BYTES && got.s.len == 5);
    pc_read_end(r);
    CKM(store_maps() >= 1, "a trusted peer does not map the store");
    pc_close(c);
    return 0;
}

/* ------------------------------------------------------------------------ */

/* Start a daemon with these options.  others: the test runs peers of other
 * uids, which must reach the store directory's parent (the directory's own
 * mode is what the tests look at): skipped, saying why, where they cannot. */
static pt_daemon *start(void **state, const char *tag, const char *const *opts, bool others)
{
    pt_daemon *d = *state;
    assert_int_equal(pt_daemon_new(d, tag, opts), 0);
    if (others) {
        char parent[sizeof d->dir];
        snprintf(parent, sizeof parent, "%s", d->dir);
        *strrchr(parent, '/') = 0;
        const char *paths[] = {parent, NULL};
        d->passed = true; /* a skip is no failure: no log to show */
        PT_NEED_USER(nobody_uid, nogroup_gid, paths, NULL);
        d->passed = false;
    }
    assert_int_equal(pt_daemon_start(d, NULL), 0);
    /* Something of the owner's for the peers to read (in a child, so this
     * process never maps the store). */
    pc_client *c = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(c);
    pc_val v = pc_str("hello");
    OK(pc_set(c, K("root:greeting"), &v, 0, 0));
    pc_close(c);
    assert_int_equal(store_maps(), 0);
    return d;
}

static mode_t mode_of(const char *dir, const char *name)
{
    char path[256];
    struct stat sb;
    snprintf(path, sizeof path, "%s%s%s", dir, *name ? "/" : "", name);
    return stat(path, &sb) == 0 ? sb.st_mode & 07777 : (mode_t)-1;
}

/* Nobody else admitted: the socket is 0600 and another uid cannot even
 * reach it. */
static void test_other_uid_refused(void **state)
{
    pt_daemon *d = start(state, "refused", NULL, true);
    assert_int_equal(mode_of(d->dir, "pycached.sock"), 0600);
    assert_int_equal(mode_of(d->dir, "data-00.mdb"), 0600);
    EXITED(run_as(nobody_uid, nogroup_gid, NULL, 0, expect_refused, d->dir), 0);
    EXITED(run_as(1, 1, NULL, 0, expect_refused, d->dir), 0);
    assert_int_equal(pt_probe(d->dir), 0); /* the owner still is served */
    STOP_OK(d);
    d->passed = true;
}

/* Run this program again as nobody through setpriv(1): a fresh process
 * image, with nothing of ours mapped (its staged copy: nobody may not reach
 * the build tree).  Returns the wait status, or -2 and why into why where
 * there is no setpriv or nobody cannot run the copy. */
static int setpriv_child(const char *mode, const char *dir, char *why, size_t n)
{
    const char *cands[] = {"/usr/bin/setpriv", "/bin/setpriv", "/usr/sbin/setpriv"};
    const char *sp = NULL;
    for (size_t i = 0; i < 3 && !sp; i++)
        if (access(cands[i], X_OK) == 0)
            sp = cands[i];
    if (!sp) {
        snprintf(why, n, "no setpriv(1)");
        return -2;
    }
    if (!staged_self[0]) {
        snprintf(why, n, "this program could not be staged for nobody (see above)");
        return -2;
    }
    char *probe[] = {staged_self, "--as-child", "probe", "-", NULL};
    if (!pt_probe_user(nobody_uid, nogroup_gid, NULL, probe, why, n))
        return -2;
    char *argv[] = {(char *)sp,   "--reuid",        "nobody",    "--regid",
                    "nogroup",    "--clear-groups", "--",        staged_self,
                    "--as-child", (char *)mode,     (char *)dir, NULL};
    pt_output o;
    if (pt_run(argv, 30000, &o) < 0)
        return -1;
    if (!pt_exited(o.status, 0))
        print_error("setpriv child (%s): stdout:\n%s\nstderr:\n%s\n", mode, o.out, o.err);
    pt_output_free(&o);
    return o.status;
}

/* --allow-ring-only nobody: the socket opens to others (0666, the directory
 * 0711); nobody is served ring-only, anyone else is refused by the policy. */
static void test_ring_only_user(void **state)
{
    pt_daemon *d =
        start(state, "rouser", (const char *[]){"--allow-ring-only", "nobody", NULL}, true);
    assert_int_equal(mode_of(d->dir, "pycached.sock"), 0666);
    assert_int_equal(mode_of(d->dir, ""), 0711);
    assert_int_equal(mode_of(d->dir, "data-00.mdb"), 0600);
    assert_int_equal(mode_of(d->dir, "data-00.mdb-lock"), 0600);
    /* As nobody through setpriv (a fresh image)... */
    char why[512];
    int st = setpriv_child("ring-only", d->dir, why, sizeof why), peers = 2;
    if (st == -2) {
        /* the forked children below cover the same */
        print_message("not run through setpriv as nobody (%s): forked children only\n", why);
    } else {
        EXITED(st, 0);
        peers++;
    }
    /* ...and forked, asking for ring-only or not. */
    EXITED(run_as(nobody_uid, nogroup_gid, NULL, 0, ring_only_default, d->dir), 0);
    EXITED(run_as(nobody_uid, nogroup_gid, NULL, 0, ring_only_asked, d->dir), 0);
    /* Another uid is refused by the policy this time. */
    EXITED(run_as(1, 1, NULL, 0, expect_refused, d->dir), 0);
    assert_true(pt_daemon_log_has(d, "refused pid", 3000));
    /* The owner sees what nobody wrote. */
    pc_client *c = pt_daemon_client(d, PC_OPT_RING_ONLY);
    assert_non_null(c);
    pc_read *r;
    pc_val got;
    OK(pc_read_begin(c, &r));
    char key[64];
    snprintf(key, sizeof key, "ro:%d:str", (int)nobody_uid);
    OK(pc_get(r, K(key), &got));
    assert_int_equal(got.kind, PC_BYTES);
    OK(pc_get(r, K("ro:counter"), &got));
    assert_int_equal(got.i, peers * 6); /* 5 + 1 by each ring-only peer */
    pc_read_end(r);
    pc_close(c);
    STOP_OK(d);
    d->passed = true;
}

/* --allow-ring-only group:nogroup: admitted by primary or supplementary
 * group. */
static void test_ring_only_group(void **state)
{
    pt_daemon *d =
        start(state, "rogroup", (const char *[]){"--allow-ring-only", "group:nogroup", NULL}, true);
    EXITED(run_as(1, nogroup_gid, NULL, 0, ring_only_default, d->dir), 0);
    gid_t sup[] = {nogroup_gid};
    EXITED(run_as(2, 2, sup, 1, ring_only_default, d->dir), 0);
    EXITED(run_as(3, 3, NULL, 0, expect_refused, d->dir), 0);
    STOP_OK(d);
    d->passed = true;
}

/* --allow-group nogroup: its members are trusted and map the store, whose
 * files the group may open. */
static void test_allow_group(void **state)
{
    pt_daemon *d = start(state, "group", (const char *[]){"--allow-group", "nogroup", NULL}, true);
    assert_int_equal(mode_of(d->dir, "data-00.mdb"), 0640); /* read-only: never group-writable */
    assert_int_equal(mode_of(d->dir, "data-00.mdb-lock"), 0660);
    assert_int_equal(mode_of(d->dir, "pycached.sock"), 0666);
    EXITED(run_as(1, nogroup_gid, NULL, 0, group_peer, d->dir), 0);
    EXITED(run_as(4, 4, NULL, 0, expect_refused, d->dir), 0);
    STOP_OK(d);
    d->passed = true;
}

/* The owner may ask to be ring-only, and then maps nothing either. */
static int owner_ring_only(void *arg)
{
    return ring_only_peer(arg, PC_OPT_RING_ONLY);
}

static int owner_trusted(void *arg)
{
    pc_client *c = NULL;
    CKOK(pc_connect(arg, NULL, &c));
    pc_store_info si;
    CKOK(pc_store_info_get(c, &si));
    CK(!si.ring_only);
    pc_read *r;
    pc_val got;
    CKOK(pc_read_begin(c, &r));
    CKOK(pc_get(r, K("root:greeting"), &got));
    pc_read_end(r);
    CK(store_maps() >= 1);
    pc_close(c);
    return 0;
}

static void test_owner(void **state)
{
    pt_daemon *d = start(state, "owner", NULL, false);
    pid_t pid = pt_fork(owner_ring_only, d->dir, 30);
    EXITED(pt_wait_pid(pid, 35000), 0);
    pid = pt_fork(owner_trusted, d->dir, 30);
    EXITED(pt_wait_pid(pid, 35000), 0);
    STOP_OK(d);
    d->passed = true;
}

int main(int argc, char **argv)
{
    if (argc == 4 && !strcmp(argv[1], "--as-child")) {
        /* Run by setpriv: one check, reported through the exit status. */
        alarm(30);
        if (!strcmp(argv[2], "ring-only"))
            return ring_only_peer(argv[3], 0);
        if (!strcmp(argv[2], "probe"))
            return 0; /* it runs */
        return 2;
    }
    if (geteuid() != 0) {
        fprintf(stderr, "test_daemon_access: needs root (to run clients as other users); "
                        "skipped\n");
        return 77;
    }
    if (!pt_nobody(&nobody_uid, &nogroup_gid) || !getgrnam("nogroup")) {
        fprintf(stderr, "test_daemon_access: no user nobody or group nogroup; skipped\n");
        return 77;
    }
    if (pt_mkstage(stage, sizeof stage, "access") < 0 ||
        pt_stage("/proc/self/exe", stage, "test_daemon_access", staged_self, sizeof staged_self) <
            0) {
        fprintf(stderr, "test_daemon_access: cannot stage a copy of itself for nobody\n");
        staged_self[0] = 0;
    }
    pt_init(170);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test_setup_teardown(test_other_uid_refused, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_ring_only_user, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_ring_only_group, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_allow_group, setup, pt_daemon_teardown),
        cmocka_unit_test_setup_teardown(test_owner, setup, pt_daemon_teardown),
    };
    int failed = cmocka_run_group_tests(tests, NULL, NULL);
    pt_rmtree(stage);
    return failed;
}
