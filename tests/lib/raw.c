/*
 * raw.c - a raw client: the handshake (shm/hello.h) done by hand, for tests
 * that play a client the library would never be (pctest.h).
 */
#include <sys/mman.h>
#include <sys/socket.h>
#include <sys/un.h>

#include "../../shm/channel.h"
#include "pctest.h"

/* Connect to DIR/pycached.sock, say hello, take the welcome and its fds, map
 * the channel.  0, or a PC_E* code (the welcome's status, PC_EPROTO ...). */
int pt_raw_connect(const char *dir, uint32_t ring_size, uint32_t flags, pt_raw *r)
{
    memset(r, 0, sizeof *r);
    r->chan_fd = r->dpage_fd = -1;
    struct sockaddr_un sa = {.sun_family = AF_UNIX};
    size_t dl = strlen(dir);
    if (dl + sizeof PCS_SOCK_NAME + 1 > sizeof sa.sun_path)
        return PC_EINVAL;
    memcpy(sa.sun_path, dir, dl);
    sa.sun_path[dl] = '/';
    memcpy(sa.sun_path + dl + 1, PCS_SOCK_NAME, sizeof PCS_SOCK_NAME);
    r->sock = socket(AF_UNIX, SOCK_SEQPACKET | SOCK_CLOEXEC, 0);
    if (r->sock < 0)
        return PC_EIO;
    r->step = 1;
    if (connect(r->sock, (struct sockaddr *)&sa, sizeof sa) < 0) {
        int e = errno;
        close(r->sock);
        r->sock = -1;
        return e == EACCES ? PC_EACCES : PC_ECONNREFUSED;
    }
    pcs_hello h = {.magic = PCS_HELLO_MAGIC,
                   .version = PCS_PROTO_VERSION,
                   .flags = flags,
                   .ring_size = ring_size};
    r->step = 2;
    /* A peer refused at accept may find its hello refused (EPIPE) or its
     * first read reset: the welcome that says why is queued all the same. */
    if (send(r->sock, &h, sizeof h, MSG_NOSIGNAL) != (ssize_t)sizeof h && errno != EPIPE &&
        errno != ECONNRESET) {
        r->err = errno;
        goto proto;
    }
    r->step = 3;
    union {
        struct cmsghdr h;
        char b[CMSG_SPACE(sizeof(int) * 4)];
    } cm;
    struct iovec iov = {&r->w, sizeof r->w};
    struct msghdr mh = {
        .msg_iov = &iov, .msg_iovlen = 1, .msg_control = cm.b, .msg_controllen = sizeof cm.b};
    struct timeval tv = {10, 0};
    setsockopt(r->sock, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    ssize_t n = recvmsg(r->sock, &mh, MSG_CMSG_CLOEXEC);
    if (n < 0 && errno == ECONNRESET) {
        mh.msg_controllen = sizeof cm.b;
        n = recvmsg(r->sock, &mh, MSG_CMSG_CLOEXEC);
    }
    r->err = n < 0 ? errno : 0;
    int fds[4], nfds = 0;
    for (struct cmsghdr *c = CMSG_FIRSTHDR(&mh); c; c = CMSG_NXTHDR(&mh, c)) {
        if (c->cmsg_level != SOL_SOCKET || c->cmsg_type != SCM_RIGHTS)
            continue;
        int k = (int)((c->cmsg_len - CMSG_LEN(0)) / sizeof(int));
        memcpy(fds + nfds, CMSG_DATA(c), sizeof(int) * (size_t)(k > 4 - nfds ? 4 - nfds : k));
        nfds += k > 4 - nfds ? 4 - nfds : k;
    }
    if (n == 0) {
        close(r->sock);
        r->sock = -1;
        return PC_EACCES;
    }
    if (n != (ssize_t)sizeof r->w || r->w.magic != PCS_WELCOME_MAGIC)
        goto proto_fds;
    r->step = 5;
    if (r->w.status) {
        for (int i = 0; i < nfds; i++)
            close(fds[i]);
        close(r->sock);
        r->sock = -1;
        return r->w.status;
    }
    if (nfds < 2)
        goto proto_fds;
    r->step = 6;
    for (int i = 2; i < nfds; i++)
        close(fds[i]);
    r->chan_fd = fds[0];
    r->dpage_fd = fds[1];
    r->maplen = pcs_chan_size(r->w.ring_size);
    r->map = mmap(NULL, r->maplen, PROT_READ | PROT_WRITE, MAP_SHARED, r->chan_fd, 0);
    if (r->map == MAP_FAILED) {
        r->map = NULL;
        goto proto_fds2;
    }
    return 0;
proto_fds:
    for (int i = 0; i < nfds; i++)
        close(fds[i]);
    goto proto;
proto_fds2:
    close(r->chan_fd);
    close(r->dpage_fd);
    r->chan_fd = r->dpage_fd = -1;
proto:
    close(r->sock);
    r->sock = -1;
    return PC_EPROTO;
}

void pt_raw_close(pt_raw *r)
{
    if (r->map)
        munmap(r->map, r->maplen);
    if (r->chan_fd >= 0)
        close(r->chan_fd);
    if (r->dpage_fd >= 0)
        close(r->dpage_fd);
    if (r->sock >= 0)
        close(r->sock);
    memset(r, 0, sizeof *r);
    r->sock = r->chan_fd = r->dpage_fd = -1;
}

/* Is the daemon's end of the raw client's socket closed? */
bool pt_raw_closed(const pt_raw *r)
{
    char b;
    ssize_t n = recv(r->sock, &b, 1, MSG_PEEK | MSG_DONTWAIT);
    return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK);
}
