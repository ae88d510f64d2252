/*
 * test_policy.c - the daemon's peer policy (daemon/server.c, loop.c and
 * config.c, through libpcdaemon.la): which role a peer gets from its uid and
 * groups under --allow-group, --allow-ring-only and --allow-read/-write/
 * -admin; whether it may map the store; what each role may ask; the
 * connection caps; the byte budget of client buffers.  pycached(8),
 * "Access", is the contract.
 */
#include "../../daemon/pycached.h"
#include "../../shm/frame.h"
#include "pctest.h"

/* Peers that are not the daemon's own uid (the tests may run as root). */
#define U1 ((uid_t)54321)
#define U2 ((uid_t)54322)
#define G1 ((gid_t)64321)
#define G2 ((gid_t)64322)
#define G3 ((gid_t)64323)

/* The settings of a command line ("pycached" args...), asserting it is
 * taken. */
static void settings(pcd_config *c, const char *const *args)
{
    int argc;
    char **argv = pt_argv("pycached", args, &argc);
    pcd_config_defaults(c);
    pt_capture ce;
    pt_capture_begin(&ce, STDERR_FILENO);
    int rc = pcd_config_args(c, argc, argv);
    char *err = pt_capture_end(&ce);
    CHECK(rc == 0, "%s...: refused: %s", args ? args[0] : "", err);
    free(err);
}

/* The role of uid with groups (primary first), and whether it is trusted. */
static int role_of(const pcd_config *c, uid_t uid, const gid_t *gids, size_t n, bool *trusted)
{
    *trusted = true; /* (the call must set it either way) */
    return pcd_peer_role(c, uid, gids, n, trusted);
}

static void expect(const pcd_config *c, uid_t uid, const gid_t *gids, size_t n, int role,
                   bool trusted, const char *what)
{
    bool t;
    int got = role_of(c, uid, gids, n, &t);
    CHECK(got == role && t == trusted, "%s: role %s (%d), %s; expected %s (%d), %s", what,
          got ? pc_role_name((pc_role)got) : "refused", got, t ? "trusted" : "ring-only",
          role ? pc_role_name((pc_role)role) : "refused", role, trusted ? "trusted" : "ring-only");
}

/* ---- who gets in, and as what ---- */

static void test_own_uid(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, PT_ARGS("--allow-read", "user:0"));
    /* The daemon's own uid is admin and trusted, whatever the options say. */
    gid_t g = getegid();
    expect(&c, geteuid(), &g, 1, PC_ROLE_ADMIN, true, "the daemon's uid");
    expect(&c, geteuid(), NULL, 0, PC_ROLE_ADMIN, true, "the daemon's uid, no groups");
    pcd_config_free(&c);
}

static void test_default_refuses_others(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, NULL);
    gid_t g[] = {G1, G2};
    expect(&c, U1, g, 2, 0, false, "another uid, no options");
    assert_false(pcd_others_admitted(&c));
    pcd_config_free(&c);
}

static void test_allow_group(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, PT_ARGS("--allow-group", "64322"));
    assert_true(pcd_others_admitted(&c));
    gid_t primary[] = {G2};
    gid_t supplementary[] = {G1, G3, G2};
    gid_t neither[] = {G1, G3};
    /* Its members write and map the store, by primary or supplementary group. */
    expect(&c, U1, primary, 1, PC_ROLE_WRITE, true, "the group's member (primary)");
    expect(&c, U1, supplementary, 3, PC_ROLE_WRITE, true, "the group's member (supplementary)");
    expect(&c, U1, neither, 2, 0, false, "not a member");
    expect(&c, U1, NULL, 0, 0, false, "no groups");
    pcd_config_free(&c);
}

static void test_allow_ring_only(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, PT_ARGS("--allow-ring-only", "54321", "--allow-ring-only", "group:64323"));
    assert_true(pcd_others_admitted(&c));
    assert_int_equal(c.n_ro_uid, 1);
    assert_int_equal(c.ro_uid[0], U1);
    assert_int_equal(c.n_ro_gid, 1);
    assert_int_equal(c.ro_gid[0], G3);
    gid_t g1[] = {G1}, g3[] = {G1, G3};
    /* Admitted to write, never to map the store. */
    expect(&c, U1, g1, 1, PC_ROLE_WRITE, false, "the ring-only uid");
    expect(&c, U2, g3, 2, PC_ROLE_WRITE, false, "a member of the ring-only group");
    expect(&c, U2, g1, 1, 0, false, "anyone else");
    pcd_config_free(&c);
    /* A bare number that is no user's names a user, not a group. */
    settings(&c, PT_ARGS("--allow-ring-only", "user:54322"));
    assert_int_equal(c.n_ro_uid, 1);
    assert_int_equal(c.ro_uid[0], U2);
    assert_int_equal(c.n_ro_gid, 0);
    pcd_config_free(&c);
}

static void test_roles(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, PT_ARGS("--allow-read", "54321", "--allow-admin", "group:64322", "--allow-write",
                         "user:54322"));
    gid_t none[] = {G1}, admins[] = {G1, G2};
    expect(&c, U1, none, 1, PC_ROLE_READ, false, "--allow-read uid");
    expect(&c, U2, none, 1, PC_ROLE_WRITE, false, "--allow-write user:");
    expect(&c, U1, admins, 2, PC_ROLE_ADMIN, false, "read by uid, admin by group: the higher");
    expect(&c, (uid_t)54399, admins, 2, PC_ROLE_ADMIN, false, "admin by group");
    expect(&c, (uid_t)54399, none, 1, 0, false, "no grant");
    pcd_config_free(&c);

    /* A role option decides over --allow-group's write, which still lets
     * the peer map the store. */
    settings(&c, PT_ARGS("--allow-group", "64321", "--allow-read", "54321"));
    expect(&c, U1, none, 1, PC_ROLE_READ, true, "read role in an allowed group");
    expect(&c, U2, none, 1, PC_ROLE_WRITE, true, "the allowed group alone");
    pcd_config_free(&c);
    settings(&c, PT_ARGS("--allow-ring-only", "54321", "--allow-admin", "54321"));
    expect(&c, U1, none, 1, PC_ROLE_ADMIN, false, "admin role, ring-only");
    pcd_config_free(&c);
}

/* Naming a peer again keeps its higher role; 32 grants at most. */
static void test_grants(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, PT_ARGS("--allow-write", "54321", "--allow-read", "54321", "--allow-admin",
                         "group:54321", "--allow-read", "group:54321"));
    assert_int_equal(c.n_grant, 2); /* uid 54321 and gid 54321 are two peers */
    assert_false(c.grant[0].group);
    assert_int_equal(c.grant[0].role, PC_ROLE_WRITE);
    assert_true(c.grant[1].group);
    assert_int_equal(c.grant[1].role, PC_ROLE_ADMIN);
    pcd_config_free(&c);

    static char ids[33][16];
    const char *args[70];
    int n = 0;
    for (int i = 0; i < 32; i++) {
        snprintf(ids[i], sizeof ids[i], "%d", 60000 + i);
        args[n++] = "--allow-read";
        args[n++] = ids[i];
    }
    args[n] = NULL;
    settings(&c, args);
    assert_int_equal(c.n_grant, 32);
    pcd_config_free(&c);
    snprintf(ids[32], sizeof ids[32], "%d", 60032);
    args[n++] = "--allow-read";
    args[n++] = ids[32];
    args[n] = NULL;
    int argc;
    char **argv = pt_argv("pycached", args, &argc);
    pcd_config_defaults(&c);
    pt_capture ce;
    pt_capture_begin(&ce, STDERR_FILENO);
    int rc = pcd_config_args(&c, argc, argv);
    char *err = pt_capture_end(&ce);
    assert_int_equal(rc, -1);
    assert_string_equal(err, "pycached: bad value for --allow-read: '60032'\n");
    free(err);
    pcd_config_free(&c);
}

/* SIGHUP takes the roles and quotas of a reread config. */
static void test_take_access(void **state)
{
    (void)state;
    pcd_config cur, next;
    settings(&cur, PT_ARGS("--allow-admin", "54321", "--max-clients-per-uid", "3"));
    settings(&next, PT_ARGS("--allow-read", "54322", "--max-buffers", "2M", "--client-backlog",
                            "128K", "--request-timeout", "5"));
    pcd_config_take_access(&cur, &next);
    gid_t none[] = {G1};
    expect(&cur, U1, none, 1, 0, false, "a grant the new config dropped");
    expect(&cur, U2, none, 1, PC_ROLE_READ, false, "a grant the new config made");
    assert_int_equal(cur.max_clients_per_uid, 0);
    assert_int_equal(cur.max_buffers, 2u << 20);
    assert_int_equal(cur.client_backlog, 128u << 10);
    assert_int_equal(cur.request_timeout_s, 5);
    pcd_config_free(&cur);
    pcd_config_free(&next);
}

/* ---- what a role may ask ---- */

static void test_op_roles(void **state)
{
    (void)state;
    for (unsigned op = PCS_OP_SET; op < PCS_OP__COUNT; op++) {
        int want = PC_ROLE_WRITE;
        if ((op >= PCS_OP_R_GET && op <= PCS_OP_R_EXPIRY_SCAN) || op == PCS_OP_R_LPOS ||
            op == PCS_OP_R_SRANDMEMBER || op == PCS_OP_R_RANDOMKEY || pcs_op_is_read16(op) ||
            pcs_op_is_read17x(op) || pcs_op_is_read17z(op))
            want = PC_ROLE_READ;
        if (op == PCS_OP_A_EXPIRE_INTERVAL || op == PCS_OP_A_CLIENTS || op == PCS_OP_PURGE ||
            op == PCS_OP_A_SNAPSHOT || op == PCS_OP_A_TEST_ALLOC || op == PCS_OP_FLUSH)
            want = PC_ROLE_ADMIN;
        CHECK(pcd_op_role(op) == want, "op %u needs role %d, expected %d", op, pcd_op_role(op),
              want);
    }
    /* By name, the ones the manual lists. */
    assert_int_equal(pcd_op_role(PCS_OP_R_GET), PC_ROLE_READ);
    assert_int_equal(pcd_op_role(PCS_OP_R_SCAN), PC_ROLE_READ);
    assert_int_equal(pcd_op_role(PCS_OP_R_RANDOMKEY), PC_ROLE_READ);
    assert_int_equal(pcd_op_role(PCS_OP_RENAME), PC_ROLE_WRITE);
    assert_int_equal(pcd_op_role(PCS_OP_SET), PC_ROLE_WRITE);
    assert_int_equal(pcd_op_role(PCS_OP_QPOPW), PC_ROLE_WRITE);
    assert_int_equal(pcd_op_role(PCS_OP_TXN), PC_ROLE_WRITE);
    assert_int_equal(pcd_op_role(PCS_OP_FLUSH), PC_ROLE_ADMIN);
    assert_int_equal(pcd_op_role(PCS_OP_A_SNAPSHOT), PC_ROLE_ADMIN);
    /* An op no one knows needs write: never less than a write. */
    assert_int_equal(pcd_op_role(0), PC_ROLE_WRITE);
    assert_int_equal(pcd_op_role(PCS_OP__COUNT), PC_ROLE_WRITE);
    assert_int_equal(pcd_op_role(0xffff), PC_ROLE_WRITE);
}

/* ---- quotas ---- */

static void test_conn_caps(void **state)
{
    (void)state;
    pcd_config c;
    settings(&c, PT_ARGS("--max-clients", "10"));
    assert_int_equal(pcd_per_uid_cap(&c), 2); /* a quarter of --max-clients */
    assert_int_equal(pcd_conn_cap(&c, U1, 0, 0), 0);
    assert_int_equal(pcd_conn_cap(&c, U1, 5, 1), 0);
    assert_int_equal(pcd_conn_cap(&c, U1, 5, 2), PCD_CAP_PER_UID);
    assert_int_equal(pcd_conn_cap(&c, U1, 9, 1), 0);
    assert_int_equal(pcd_conn_cap(&c, U1, 10, 0), PCD_CAP_CLIENTS);
    assert_int_equal(pcd_conn_cap(&c, U1, 10, 2), PCD_CAP_CLIENTS); /* --max-clients first */
    /* The daemon's own uid is held to --max-clients only. */
    assert_int_equal(pcd_conn_cap(&c, geteuid(), 9, 9), 0);
    assert_int_equal(pcd_conn_cap(&c, geteuid(), 10, 10), PCD_CAP_CLIENTS);
    pcd_config_free(&c);

    settings(&c, PT_ARGS("--max-clients", "10", "--max-clients-per-uid", "6"));
    assert_int_equal(pcd_per_uid_cap(&c), 6);
    assert_int_equal(pcd_conn_cap(&c, U1, 6, 5), 0);
    assert_int_equal(pcd_conn_cap(&c, U1, 6, 6), PCD_CAP_PER_UID);
    pcd_config_free(&c);
    /* Fewer than four clients: one each. */
    settings(&c, PT_ARGS("--max-clients", "3"));
    assert_int_equal(pcd_per_uid_cap(&c), 1);
    pcd_config_free(&c);
    settings(&c, NULL);
    assert_int_equal(pcd_per_uid_cap(&c), 256);
    pcd_config_free(&c);
}

static void test_budget(void **state)
{
    (void)state;
    pcs_store st;
    memset(&st, 0, sizeof st);
    pcd *d = calloc(1, sizeof *d);
    assert_non_null(d);
    d->st = &st;
    pcd_config_defaults(&d->cfg);
    const uint64_t slack = PCS_FRAME_SLACK, small = 64u << 10;
    /* Default: 256M, or four of the largest request when that is more. */
    st.max_value = 1u << 20;
    assert_int_equal(pcd_budget(d), UINT64_C(256) << 20);
    st.max_value = 100u << 20;
    assert_int_equal(pcd_budget(d), 4 * ((100u << 20) + slack));
    /* --max-buffers, but never less than the largest request and a small buffer. */
    st.max_value = 1u << 20;
    d->cfg.max_buffers = 32u << 20;
    assert_int_equal(pcd_budget(d), 32u << 20);
    d->cfg.max_buffers = 1u << 20;
    assert_int_equal(pcd_budget(d), (1u << 20) + slack + small);
    free(d);
}

int main(void)
{
    pt_init(60);
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_own_uid),     cmocka_unit_test(test_default_refuses_others),
        cmocka_unit_test(test_allow_group), cmocka_unit_test(test_allow_ring_only),
        cmocka_unit_test(test_roles),       cmocka_unit_test(test_grants),
        cmocka_unit_test(test_take_access), cmocka_unit_test(test_op_roles),
        cmocka_unit_test(test_conn_caps),   cmocka_unit_test(test_budget),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
