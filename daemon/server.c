/*
 * server.c - the daemon's socket: listening, the handshake (credentials,
 * policy, a sealed channel passed with SCM_RIGHTS), wake bytes, and closing
 * clients.
 */
#include <errno.h>
#include <stdarg.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/epoll.h>
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <syslog.h>
#include <unistd.h>

#include "../shm/alloc.h"
#include "../shm/hello.h"
#include "pycached.h"

#define PCD_FDS_MAX 16 /* fds one message may carry before it counts as abuse */

int pcd_listen(pcd *d)
{
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    if (snprintf(sa.sun_path, sizeof sa.sun_path, "%s/%s", d->cfg.dir, PCS_SOCK_NAME) >=
        (int)sizeof sa.sun_path) {
        pcd_log(LOG_ERR, "store directory path too long for a socket: %s", d->cfg.dir);
        return -1;
    }
    /* A socket of ours left here is a dead daemon's (we hold the lock). */
    if (pcd_sock_clear(&d->cfg, PCS_SOCK_NAME))
        return -1;
    d->lsock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (d->lsock < 0) {
        pcd_log(LOG_ERR, "socket: %s", strerror(errno));
        return -1;
    }
    bool others = pcd_others_admitted(&d->cfg);
    mode_t old = umask(others ? 0 : 0077);
    int rc = bind(d->lsock, (struct sockaddr *)&sa, sizeof sa);
    umask(old);
    if (rc < 0 || listen(d->lsock, 128) < 0) {
        pcd_log(LOG_ERR, "cannot listen on %s: %s", sa.sun_path, strerror(errno));
        return -1;
    }
    /* Who may connect is decided by SO_PEERCRED; the file modes only keep
     * everyone else from reaching the socket at all. */
    if (chmod(sa.sun_path, others ? 0666 : 0600) < 0 || (others && chmod(d->cfg.dir, 0711) < 0))
        pcd_log(LOG_WARNING, "chmod on %s: %s", sa.sun_path, strerror(errno));
    return 0;
}

int pcd_peer_role(const pcd_config *cfg, uid_t uid, const gid_t *gids, size_t ngids, bool *trusted)
{
    *trusted = false;
    if (uid == geteuid()) {
        *trusted = true;
        return PC_ROLE_ADMIN;
    }
    bool admitted = false;
    int granted = 0;
    for (unsigned i = 0; i < cfg->n_ro_uid; i++)
        admitted |= uid == cfg->ro_uid[i];
    for (unsigned i = 0; i < cfg->n_grant; i++)
        if (!cfg->grant[i].group && cfg->grant[i].id == (uint32_t)uid &&
            cfg->grant[i].role > granted)
            granted = cfg->grant[i].role;
    for (size_t k = 0; k < ngids; k++) {
        for (unsigned i = 0; i < cfg->n_allow_gid; i++)
            if (gids[k] == cfg->allow_gid[i])
                admitted = *trusted = true;
        for (unsigned i = 0; i < cfg->n_ro_gid; i++)
            admitted |= gids[k] == cfg->ro_gid[i];
        for (unsigned i = 0; i < cfg->n_grant; i++)
            if (cfg->grant[i].group && cfg->grant[i].id == (uint32_t)gids[k] &&
                cfg->grant[i].role > granted)
                granted = cfg->grant[i].role;
    }
    /* A role option decides; --allow-group and --allow-ring-only alone grant write. */
    if (granted)
        return granted;
    return admitted ? PC_ROLE_WRITE : 0;
}

int pcd_conn_cap(const pcd_config *cfg, uid_t uid, size_t live, size_t mine)
{
    if (live >= cfg->max_clients)
        return PCD_CAP_CLIENTS;
    if (uid != geteuid() && mine >= pcd_per_uid_cap(cfg))
        return PCD_CAP_PER_UID;
    return 0;
}

/* The peer's role from its credentials and its supplementary groups. */
static int peer_role(const pcd_config *cfg, int fd, const struct ucred *cr, bool *trusted)
{
    gid_t groups[257];
    socklen_t len = sizeof groups - sizeof groups[0];
    groups[0] = cr->gid;
    size_t n = 1;
    if (getsockopt(fd, SOL_SOCKET, SO_PEERGROUPS, groups + 1, &len) == 0)
        n += len / sizeof groups[0];
    return pcd_peer_role(cfg, cr->uid, groups, n, trusted);
}

#define REFUSE_LOG_WINDOW_MS 10000
#define REFUSE_LOG_BURST 10

/* A refusal at accept: logged, but at most REFUSE_LOG_BURST lines in a
 * window; the rest are counted in one line when the window ends. */
static void log_refusal(pcd *d, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void log_refusal(pcd *d, const char *fmt, ...)
{
    uint64_t now = pcs_now_ms();
    if (now - d->refuse_window_ms >= REFUSE_LOG_WINDOW_MS) {
        if (d->refuse_quiet)
            pcd_log(LOG_NOTICE, "refused %u more connection(s) in %u s (not logged one by one)",
                    d->refuse_quiet, REFUSE_LOG_WINDOW_MS / 1000);
        d->refuse_window_ms = now;
        d->refuse_logged = d->refuse_quiet = 0;
    }
    if (d->refuse_logged >= REFUSE_LOG_BURST) {
        d->refuse_quiet++;
        return;
    }
    d->refuse_logged++;
    char msg[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    pcd_log(LOG_NOTICE, "%s", msg);
}

/* Turn a new connection away with a welcome that says why, then close it:
 * the client's pc_connect returns status.  Needs no memory. */
static void refuse(int fd, int32_t status)
{
    pcs_welcome w = {.magic = PCS_WELCOME_MAGIC, .version = PCS_PROTO_VERSION, .status = status};
    (void)send(fd, &w, sizeof w, MSG_DONTWAIT | MSG_NOSIGNAL);
    close(fd);
}

void pcd_accept(pcd *d)
{
    for (;;) {
        int fd = accept4(d->lsock, NULL, NULL, SOCK_NONBLOCK | SOCK_CLOEXEC);
        if (fd < 0) {
            if (errno != EAGAIN && errno != EINTR && errno != ECONNABORTED)
                pcd_log_peer(PCD_LOG_NOUID, LOG_WARNING, "accept: %s", strerror(errno));
            if (errno == EINTR || errno == ECONNABORTED)
                continue;
            return;
        }
        /* Who it is decides first, before it may say anything: a peer the
         * policy does not admit holds no slot, not even for a hello. */
        struct ucred cr;
        socklen_t crl = sizeof cr;
        bool trusted = false;
        int role = 0;
        if (getsockopt(fd, SOL_SOCKET, SO_PEERCRED, &cr, &crl) < 0) {
            pcd_log(LOG_WARNING, "SO_PEERCRED: %s", strerror(errno));
            refuse(fd, PC_EIO);
            continue;
        }
        role = peer_role(&d->cfg, fd, &cr, &trusted);
        if (!role) {
            log_refusal(d, "refused pid %d uid %u gid %u: not allowed by the access policy",
                        (int)cr.pid, (unsigned)cr.uid, (unsigned)cr.gid);
            refuse(fd, PC_EACCES);
            continue;
        }
        size_t live = 0, mine = 0;
        for (size_t i = 0; i < d->ncl; i++) {
            live += d->cl[i]->state != PCD_C_DEAD;
            mine += d->cl[i]->state != PCD_C_DEAD && d->cl[i]->uid == cr.uid;
        }
        int capped = pcd_conn_cap(&d->cfg, cr.uid, live, mine);
        if (capped == PCD_CAP_CLIENTS) {
            log_refusal(d, "refusing a client: --max-clients %u reached", d->cfg.max_clients);
            refuse(fd, PC_EBUSY);
            continue;
        }
        if (capped == PCD_CAP_PER_UID) {
            log_refusal(d, "refusing pid %d: uid %u has %zu connections (--max-clients-per-uid %u)",
                        (int)cr.pid, (unsigned)cr.uid, mine, pcd_per_uid_cap(&d->cfg));
            refuse(fd, PC_EBUSY);
            continue;
        }
        pcd_client *c = pcs_calloc(1, sizeof *c);
        if (c && d->ncl == d->clcap) {
            size_t cap = d->clcap ? d->clcap * 2 : 16;
            // NOLINTNEXTLINE(bugprone-sizeof-expression): an array of pointers to structs
            pcd_client **n = pcs_reallocarray(d->cl, cap, sizeof *n);
            if (n) {
                d->cl = n;
                d->clcap = cap;
            }
        }
        if (!c || d->ncl == d->clcap) {
            pcd_log(LOG_ERR, "out of memory accepting a client");
            pcs_free(c);
            refuse(fd, PC_ENOMEM);
            continue;
        }
        c->fd = fd;
        c->state = PCD_C_HELLO;
        c->pid = cr.pid;
        c->uid = cr.uid;
        c->gid = cr.gid;
        c->role = (uint8_t)role;
        c->ring_only = !trusted;
        c->since_ms = pcs_now_ms();
        struct epoll_event ev = {.events = EPOLLIN | EPOLLRDHUP, .data.ptr = c};
        if (epoll_ctl(d->epfd, EPOLL_CTL_ADD, fd, &ev) < 0) {
            pcd_log(LOG_ERR, "epoll_ctl: %s", strerror(errno));
            pcs_free(c);
            close(fd);
            continue;
        }
        d->cl[d->ncl++] = c;
    }
}

/* Is there a trusted client of another process (peer pid) that names the
 * same pid in its hello as c?  Two processes of different pid namespaces
 * that LMDB would take for one. */
static bool same_pid_elsewhere(const pcd *d, const pcd_client *c)
{
    if (c->self_pid <= 0)
        return false;
    for (size_t i = 0; i < d->ncl; i++) {
        const pcd_client *o = d->cl[i];
        if (o != c && o->state == PCD_C_ACTIVE && !o->ring_only && o->self_pid == c->self_pid &&
            o->pid != c->pid)
            return true;
    }
    return false;
}

/* Receive one message, closing every fd it carried.  Returns its length, 0
 * at the end of the stream, -1 (errno EAGAIN) when nothing is there, or -2
 * when the client must go (an error, or control data cut short). */
static ssize_t recv_msg(pcd_client *c, void *buf, size_t len)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * PCD_FDS_MAX)];
    } cm;
    struct iovec iov = {buf, len};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
    ssize_t n = recvmsg(c->fd, &mh, MSG_DONTWAIT | MSG_CMSG_CLOEXEC);
    if (n < 0)
        return errno == EAGAIN || errno == EINTR ? -1 : -2;
    for (struct cmsghdr *h = CMSG_FIRSTHDR(&mh); h; h = CMSG_NXTHDR(&mh, h)) {
        if (h->cmsg_level == SOL_SOCKET && h->cmsg_type == SCM_RIGHTS) {
            size_t nfd = (h->cmsg_len - CMSG_LEN(0)) / sizeof(int);
            int fds[PCD_FDS_MAX];
            memcpy(fds, CMSG_DATA(h), nfd * sizeof(int));
            for (size_t i = 0; i < nfd && i < PCD_FDS_MAX; i++)
                close(fds[i]);
            pcd_log_peer(c->uid, LOG_NOTICE, "client %llu sent %zu file descriptor(s); closed them",
                         (unsigned long long)c->id, nfd);
        }
    }
    if (mh.msg_flags & (MSG_CTRUNC | MSG_TRUNC) && c->state == PCD_C_HELLO)
        return -2;
    if (mh.msg_flags & MSG_CTRUNC) {
        pcd_log_peer(c->uid, LOG_WARNING, "client %llu: control data cut short (MSG_CTRUNC)",
                     (unsigned long long)c->id);
        return -2;
    }
    return n;
}

static int send_welcome(pcd_client *c, const pcs_welcome *w, const int *fds, int nfds)
{
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 3)];
    } cm;
    struct iovec iov = {(void *)w, sizeof *w};
    struct msghdr mh = {.msg_iov = &iov, .msg_iovlen = 1};
    if (nfds) {
        memset(&cm, 0, sizeof cm);
        mh.msg_control = cm.b;
        mh.msg_controllen = CMSG_SPACE(sizeof(int) * (size_t)nfds);
        struct cmsghdr *h = CMSG_FIRSTHDR(&mh);
        h->cmsg_level = SOL_SOCKET;
        h->cmsg_type = SCM_RIGHTS;
        h->cmsg_len = CMSG_LEN(sizeof(int) * (size_t)nfds);
        memcpy(CMSG_DATA(h), fds, sizeof(int) * (size_t)nfds);
    }
    return sendmsg(c->fd, &mh, MSG_DONTWAIT | MSG_NOSIGNAL) == (ssize_t)sizeof *w ? 0 : -1;
}

/* Create the client's channel: a memfd sealed against resizing. */
static int make_channel(pcd *d, pcd_client *c, uint32_t ring)
{
    int fd = memfd_create("pycache-channel", MFD_CLOEXEC | MFD_ALLOW_SEALING);
    if (fd < 0)
        return -1;
    c->maplen = pcs_chan_size(ring);
    if (ftruncate(fd, (off_t)c->maplen) < 0 ||
        fcntl(fd, F_ADD_SEALS, F_SEAL_SHRINK | F_SEAL_GROW | F_SEAL_SEAL) < 0)
        goto fail;
    c->map = mmap(NULL, c->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    if (c->map == MAP_FAILED) {
        c->map = NULL;
        goto fail;
    }
    pcs_chan_init(c->map, ring, c->id);
    c->hdr = c->map;
    pcs_chan_rings(c->map, 0, &c->req, &c->resp);
    (void)d;
    return fd;
fail:
    close(fd);
    return -1;
}

static void handshake(pcd *d, pcd_client *c)
{
    pcs_hello h = {0};
    ssize_t n = recv_msg(c, &h, sizeof h);
    if (n == -1)
        return;
    if (n != (ssize_t)sizeof h || h.magic != PCS_HELLO_MAGIC) {
        pcd_client_close(d, c, "bad handshake");
        return;
    }
    pcs_welcome w = {.magic = PCS_WELCOME_MAGIC, .version = PCS_PROTO_VERSION};
    /* The peer's credentials and role were taken at accept. */
    if (h.version != PCS_PROTO_VERSION)
        w.status = PC_EPROTO;
    if (w.status) {
        send_welcome(c, &w, NULL, 0);
        pcd_client_close(d, c, NULL);
        return;
    }
    uint32_t ring = h.ring_size ? h.ring_size : d->cfg.ring_size;
    if (ring < PCS_RING_MIN || ring > PCS_RING_MAX || (ring & (ring - 1)))
        ring = d->cfg.ring_size;
    c->id = ++d->next_id;
    c->self_pid = (pid_t)h.pid;
    c->ring_only = c->ring_only || (h.flags & PCS_HELLO_RING_ONLY);
    if (!c->ring_only && same_pid_elsewhere(d, c)) {
        /* LMDB keeps one byte lock per pid: this process's reads would fail
         * while the other one holds it.  Serve its reads through the ring. */
        pcd_log_peer(c->uid, LOG_NOTICE,
                     "pid %d (pid %d in its own namespace) admitted ring-only: another "
                     "process's client has that pid in its namespace",
                     (int)c->pid, (int)c->self_pid);
        c->ring_only = true;
    }
    int chan = make_channel(d, c, ring);
    if (chan < 0) {
        pcd_log_peer(c->uid, LOG_ERR, "cannot make a channel for pid %d: %s", (int)c->pid,
                     strerror(errno));
        w.status = PC_ENOMEM;
        send_welcome(c, &w, NULL, 0);
        pcd_client_close(d, c, NULL);
        return;
    }
    w.mode = c->ring_only ? PCS_PEER_RING_ONLY : PCS_PEER_TRUSTED;
    w.ring_size = ring;
    w.client_id = c->id;
    w.map_size = d->st->map_size;
    w.store_id = d->st->id;
    w.max_value = d->st->max_value;
    w.shards = d->st->nshards;
    w.max_readers = d->st->max_readers;
    w.format = PCS_FORMAT;
    w.policy = (uint32_t)d->cfg.policy;
    int fds[3] = {chan, d->dpage_fd, d->access_fd};
    int rc = send_welcome(c, &w, fds, !c->ring_only && d->access ? 3 : 2);
    close(chan);
    if (rc) {
        pcd_client_close(d, c, "could not send the welcome");
        return;
    }
    c->state = PCD_C_ACTIVE;
    pcd_log_peer(c->uid, LOG_INFO, "client %llu: pid %d uid %u, %s, role %s, ring %u bytes",
                 (unsigned long long)c->id, (int)c->pid, (unsigned)c->uid,
                 c->ring_only ? "ring-only" : "trusted", pc_role_name((pc_role)c->role), ring);
}

void pcd_client_readable(pcd *d, pcd_client *c)
{
    if (c->state == PCD_C_HELLO) {
        handshake(d, c);
        return;
    }
    /* Wake bytes: read and drop them (a bounded number per event). */
    char buf[256];
    for (int i = 0; i < 16 && c->state == PCD_C_ACTIVE; i++) {
        ssize_t n = recv_msg(c, buf, sizeof buf);
        if (n == -1)
            return;
        if (n <= 0) {
            pcd_client_close(d, c, n == 0 ? NULL : "socket error");
            return;
        }
    }
}

void pcd_client_close(pcd *d, pcd_client *c, const char *why)
{
    if (c->state == PCD_C_DEAD)
        return;
    if (why)
        pcd_log_peer(c->uid, LOG_NOTICE, "client %llu (pid %d): closed: %s",
                     (unsigned long long)c->id, (int)c->pid, why);
    else if (c->state == PCD_C_ACTIVE)
        pcd_log_peer(c->uid, LOG_INFO, "client %llu (pid %d) left", (unsigned long long)c->id,
                     (int)c->pid);
    epoll_ctl(d->epfd, EPOLL_CTL_DEL, c->fd, NULL);
    close(c->fd);
    c->fd = -1;
    c->state = PCD_C_DEAD;
    d->kick_parked = true; /* it may have held a lease others wait for */
}

/* Free dead clients; their reader slots go with their processes' ends. */
void pcd_reap(pcd *d)
{
    size_t j = 0;
    bool any = false;
    for (size_t i = 0; i < d->ncl; i++) {
        pcd_client *c = d->cl[i];
        if (c->state != PCD_C_DEAD) {
            d->cl[j++] = c;
            continue;
        }
        if (c->map) {
            d->hits_gone += atomic_load_explicit(&c->hdr->reads_hit, memory_order_relaxed);
            d->misses_gone += atomic_load_explicit(&c->hdr->reads_miss, memory_order_relaxed);
            munmap(c->map, c->maplen);
        }
        pcs_buf_free(&c->msg);
        pcs_buf_free(&c->out);
        pcs_buf_free(&c->parked);
        pcd_note_held(d, c);
        pcs_free(c);
        any = true;
    }
    d->ncl = j;
    if (any)
        for (unsigned s = 0; s < d->st->nshards; s++) {
            int dead = 0;
            pcs_shard_reader_check(&d->st->shards[s], &dead);
            if (dead)
                pcd_log(LOG_INFO, "cleared %d reader slot(s) of dead processes", dead);
        }
}
