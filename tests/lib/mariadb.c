/*
 * mariadb.c - a MariaDB server of a test's own (pctest.h): made in a
 * temporary directory with mariadb-install-db, run as mariadbd on a Unix
 * socket with networking off (or also on 127.0.0.1 alone, for TLS), queried
 * with the mariadb client as a person would, stopped (or killed) and
 * started again.  It never outlives the test: it dies with it (its parent
 * death signal), and the backstop (a test's alarm) and exit kill it and
 * remove its directory.
 */
#include <fcntl.h>
#include <netinet/in.h>
#include <pwd.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/socket.h>

#include "internal.h"
#include "pctest.h"

/* The servers of this process, for the backstop and exit. */
#define MAX_SERVERS 4
static pt_mariadb *servers_live[MAX_SERVERS];

static void live_add(pt_mariadb *m)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (servers_live[i] == m)
            return;
    for (int i = 0; i < MAX_SERVERS; i++)
        if (!servers_live[i]) {
            servers_live[i] = m;
            return;
        }
}

static void live_del(pt_mariadb *m)
{
    for (int i = 0; i < MAX_SERVERS; i++)
        if (servers_live[i] == m)
            servers_live[i] = NULL;
}

void pt__mariadb_backstop(void)
{
    /* Only the test's own process: a forked child's exit leaves them be. */
    if (pt__main_pid && getpid() != pt__main_pid)
        return;
    for (int i = 0; i < MAX_SERVERS; i++) {
        pt_mariadb *m = servers_live[i];
        if (!m)
            continue;
        servers_live[i] = NULL;
        if (m->pid > 0) {
            kill(m->pid, SIGKILL);
            waitpid(m->pid, NULL, 0);
            m->pid = 0;
        }
        if (m->dir[0] && !getenv("PCTEST_KEEP"))
            pt_rmtree(m->dir);
        m->dir[0] = 0;
    }
}

static void at_exit(void)
{
    pt__mariadb_backstop();
}

/* Interrupted (make's ^C, a kill): the servers go, then the signal's own
 * action. */
static void on_signal(int sig)
{
    // NOLINTNEXTLINE(bugprone-signal-handler): the process ends next
    pt__mariadb_backstop();
    signal(sig, SIG_DFL);
    raise(sig);
}

/* The first of names that is a program in PATH or in /usr/sbin, or NULL. */
static const char *find_prog(const char *const *names, char *buf, size_t n)
{
    static const char *const dirs[] = {"/usr/sbin",      "/usr/bin", "/usr/local/sbin",
                                       "/usr/local/bin", "/sbin",    "/bin"};
    for (; *names; names++)
        for (size_t i = 0; i < PT_LEN(dirs); i++) {
            snprintf(buf, n, "%s/%s", dirs[i], *names);
            if (access(buf, X_OK) == 0)
                return buf;
        }
    return NULL;
}

/* The account the client uses for administration: root's, or when the
 * test does not run as root the one mariadb-install-db made for the user
 * running it (both by socket authentication). */
static const char *admin_user(void)
{
    static char name[64];
    if (geteuid() == 0)
        return "root";
    if (!name[0]) {
        struct passwd *pw = getpwuid(geteuid());
        snprintf(name, sizeof name, "%s", pw ? pw->pw_name : "root");
    }
    return name;
}

/* Run the client with SQL as user; output into out.  Its wait status, or
 * -1. */
static int client(pt_mariadb *m, const char *user, const char *db, const char *sql, char *out,
                  size_t n)
{
    char sock[300], u[80];
    snprintf(sock, sizeof sock, "--socket=%s", m->sock);
    snprintf(u, sizeof u, "--user=%s", user);
    char *argv[] = {m->client, "--no-defaults", sock,       u,   "--batch", "--skip-column-names",
                    "-e",      (char *)sql,     (char *)db, NULL};
    if (!db)
        argv[8] = NULL;
    pt_output r = {0};
    if (pt_run(argv, 60000, &r))
        return -1;
    if (out && n) {
        snprintf(out, n, "%s", r.out);
        if (!pt_exited(r.status, 0))
            snprintf(out, n, "%s", r.err);
    }
    int st = r.status;
    pt_output_free(&r);
    return st;
}

int pt_mariadb_sql(pt_mariadb *m, const char *sql, char *out, size_t n)
{
    return client(m, admin_user(), "pcsnap", sql, out, n);
}

int64_t pt_mariadb_int(pt_mariadb *m, const char *sql, int64_t fallback)
{
    char out[256];
    if (!pt_exited(pt_mariadb_sql(m, sql, out, sizeof out), 0) || !out[0])
        return fallback;
    char *end;
    long long v = strtoll(out, &end, 10);
    return end != out && (*end == '\n' || !*end) ? v : fallback;
}

/* Wait until the server answers on its socket (or exited). */
static int wait_up(pt_mariadb *m, int timeout_ms)
{
    uint64_t end = pt_now_ms() + (uint64_t)timeout_ms;
    while (pt_now_ms() < end) {
        int st;
        if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
            m->pid = 0;
            snprintf(m->why, sizeof m->why, "mariadbd exited at start (see %s/err.log)", m->dir);
            return -1;
        }
        if (pt_exists(m->sock) && pt_exited(client(m, admin_user(), NULL, "SELECT 1", NULL, 0), 0))
            return 0;
        pt_sleep_ms(50);
    }
    snprintf(m->why, sizeof m->why, "mariadbd did not answer in %d s", timeout_ms / 1000);
    return -1;
}

int pt_mariadb_free_port(void)
{
    int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    socklen_t al = sizeof a;
    int port = -1;
    if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof a) == 0 &&
        getsockname(fd, (struct sockaddr *)&a, &al) == 0)
        port = ntohs(a.sin_port);
    if (fd >= 0)
        close(fd);
    return port;
}

int pt_mariadb_run(pt_mariadb *m)
{
    char datadir[300], sock[300], pid[300], err[300], port[40];
    snprintf(datadir, sizeof datadir, "--datadir=%s/data", m->dir);
    snprintf(sock, sizeof sock, "--socket=%s", m->sock);
    snprintf(pid, sizeof pid, "--pid-file=%s/mariadbd.pid", m->dir);
    snprintf(err, sizeof err, "--log-error=%s/err.log", m->dir);
    snprintf(port, sizeof port, "--port=%d", m->port);
    char *argv[16 + PT_MARIADB_EXTRA] = {m->server,
                                         "--no-defaults",
                                         sock,
                                         datadir,
                                         pid,
                                         err,
                                         "--innodb-buffer-pool-size=64M",
                                         "--innodb-log-file-size=16M",
                                         "--max-allowed-packet=64M"};
    int n = 9;
    if (m->port > 0) {
        /* TCP on the loopback address alone, and names not looked up
         * (accounts name 127.0.0.1). */
        argv[n++] = port;
        argv[n++] = "--bind-address=127.0.0.1";
        argv[n++] = "--skip-name-resolve";
    } else {
        argv[n++] = "--skip-networking";
    }
    for (int i = 0; i < PT_MARIADB_EXTRA && m->extra[i]; i++)
        argv[n++] = (char *)m->extra[i];
    if (geteuid() == 0)
        argv[n++] = "--user=root"; /* mariadbd refuses root without it */
    argv[n] = NULL;
    pid_t parent = getpid();
    pid_t p = fork();
    if (p < 0)
        return -1;
    if (p == 0) {
        pt__exec_prep();
        /* Not tracked (a test's teardown kills what it tracks, and the
         * server outlives each test), but it dies with the test. */
        prctl(PR_SET_PDEATHSIG, SIGKILL);
        if (getppid() != parent)
            _exit(127); /* the test died before the line above */
        int fd = open("/dev/null", O_RDWR);
        dup2(fd, 0);
        dup2(fd, 1);
        dup2(fd, 2);
        setsid();
        execv(m->server, argv);
        _exit(127);
    }
    m->pid = p;
    live_add(m);
    if (wait_up(m, 60000) == 0)
        return 0;
    char log[300];
    snprintf(log, sizeof log, "%s/err.log", m->dir);
    pt_cat("mariadbd's error log", log);
    pt_mariadb_stop(m, SIGKILL);
    return -1;
}

int pt_mariadb_start(pt_mariadb *m)
{
    memset(m, 0, sizeof *m);
    static const char *const servers[] = {"mariadbd", "mysqld", NULL};
    static const char *const installs[] = {"mariadb-install-db", "mysql_install_db", NULL};
    static const char *const clients[] = {"mariadb", "mysql", NULL};
    char install[200];
    if (!find_prog(servers, m->server, sizeof m->server) ||
        !find_prog(installs, install, sizeof install) ||
        !find_prog(clients, m->client, sizeof m->client)) {
        snprintf(m->why, sizeof m->why,
                 "no MariaDB server here (mariadbd, mariadb-install-db and mariadb: the Debian "
                 "packages mariadb-server and mariadb-client; scripts/setup.sh installs them)");
        return 77;
    }
    /* Under /tmp: the socket's path must be short. */
    if (pt_mkdtemp(m->dir, sizeof m->dir, "/tmp", "mariadb")) {
        snprintf(m->why, sizeof m->why, "cannot make a temporary directory");
        return -1;
    }
    static bool registered;
    if (!registered) {
        registered = true;
        atexit(at_exit);
        static const int sigs[] = {SIGINT, SIGTERM, SIGHUP};
        for (size_t i = 0; i < PT_LEN(sigs); i++)
            signal(sigs[i], on_signal);
    }
    live_add(m);
    snprintf(m->sock, sizeof m->sock, "%s/sock", m->dir);
    char datadir[300];
    snprintf(datadir, sizeof datadir, "--datadir=%s/data", m->dir);
    char *argv[] = {install, "--no-defaults", datadir, "--auth-root-authentication-method=socket",
                    "--skip-test-db",
                    /* No look-up of the host's name, which fails in a
                     * chroot without /etc/hosts: the accounts it would
                     * make for that name are not used. */
                    "--force", "--innodb-log-file-size=16M", geteuid() == 0 ? "--user=root" : NULL,
                    NULL};
    pt_output r = {0};
    if (pt_run(argv, 120000, &r) || !pt_exited(r.status, 0)) {
        snprintf(m->why, sizeof m->why, "mariadb-install-db failed: %.400s",
                 r.err ? r.err : "did not run");
        pt_output_free(&r);
        pt_rmtree(m->dir);
        m->dir[0] = 0;
        live_del(m);
        return -1;
    }
    pt_output_free(&r);
    if (pt_mariadb_run(m)) {
        char w[sizeof m->why];
        snprintf(w, sizeof w, "%s", m->why);
        pt_mariadb_end(m);
        snprintf(m->why, sizeof m->why, "%s", w);
        return -1;
    }
    /* The user pycache connects as, with a password in a file. */
    char out[400];
    if (!pt_exited(client(m, admin_user(), NULL,
                          "CREATE USER pc@localhost IDENTIFIED BY 'pc-s3cret';"
                          " CREATE DATABASE pcsnap; GRANT ALL ON pcsnap.* TO pc@localhost;",
                          out, sizeof out),
                   0)) {
        snprintf(m->why, sizeof m->why, "cannot create the test's user and database: %s", out);
        pt_mariadb_end(m);
        return -1;
    }
    snprintf(m->pwfile, sizeof m->pwfile, "%s/password", m->dir);
    snprintf(m->url, sizeof m->url, "mysql://pc@localhost/pcsnap?socket=%s", m->sock);
    if (pt_write_text(m->pwfile, "pc-s3cret\n")) {
        snprintf(m->why, sizeof m->why, "cannot write %s", m->pwfile);
        pt_mariadb_end(m);
        return -1;
    }
    return 0;
}

void pt_mariadb_stop(pt_mariadb *m, int sig)
{
    if (!m->pid)
        return;
    kill(m->pid, sig);
    if (pt_wait_pid(m->pid, 60000) < 0)
        kill(m->pid, SIGKILL);
    m->pid = 0;
    unlink(m->sock);
}

void pt_mariadb_end(pt_mariadb *m)
{
    pt_mariadb_stop(m, SIGTERM);
    if (m->dir[0] && !getenv("PCTEST_KEEP"))
        pt_rmtree(m->dir);
    m->dir[0] = 0;
    live_del(m);
}
