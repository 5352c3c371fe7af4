/* The socket layer of the Linux personality on its own (loopback, no network): TCP and UDP between threads of
 * one process, socketpair, options, poll, time-outs on virtual time, and the errno of each misuse. Prints one
 * "name: result" line per check; the test compares them. */
#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static int server_port;
static int listener;

static void check(const char *name, int ok, int err)
{
    printf("%s: %s", name, ok ? "ok" : "FAIL");
    if (!ok) {
        printf(" (errno %d %s)", err, strerror(err));
    }
    printf("\n");
}

static void *echo_server(void *arg)
{
    (void)arg;
    struct sockaddr_in peer;
    socklen_t len = sizeof peer;
    int c = accept(listener, (struct sockaddr *)&peer, &len);
    if (c < 0) {
        return NULL;
    }
    char buf[256];
    for (;;) {
        ssize_t n = recv(c, buf, sizeof buf, 0);
        if (n <= 0) {
            break;
        }
        send(c, buf, (size_t)n, 0);
    }
    close(c);
    return NULL;
}

static long ms_since(struct timespec *t0)
{
    struct timespec t1;
    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (t1.tv_sec - t0->tv_sec) * 1000 + (t1.tv_nsec - t0->tv_nsec) / 1000000;
}

int main(void)
{
    setvbuf(stdout, NULL, _IOLBF, 0);
    /* TCP echo over 127.0.0.1 with an ephemeral server port */
    listener = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK), .sin_port = 0};
    int one = 1;
    setsockopt(listener, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    check("bind", bind(listener, (struct sockaddr *)&a, sizeof a) == 0, errno);
    socklen_t alen = sizeof a;
    getsockname(listener, (struct sockaddr *)&a, &alen);
    server_port = ntohs(a.sin_port);
    printf("server port: %d\n", server_port);
    check("listen", listen(listener, 4) == 0, errno);
    pthread_t th;
    pthread_create(&th, NULL, echo_server, NULL);

    int c = socket(AF_INET, SOCK_STREAM, 0);
    check("connect", connect(c, (struct sockaddr *)&a, sizeof a) == 0, errno);
    struct sockaddr_in me, them;
    socklen_t ml = sizeof me, tl = sizeof them;
    getsockname(c, (struct sockaddr *)&me, &ml);
    getpeername(c, (struct sockaddr *)&them, &tl);
    printf("client %s:%d -> ", inet_ntoa(me.sin_addr), ntohs(me.sin_port));
    printf("%s:%d\n", inet_ntoa(them.sin_addr), ntohs(them.sin_port));
    int nodelay = 1;
    check("nodelay", setsockopt(c, IPPROTO_TCP, TCP_NODELAY, &nodelay, sizeof nodelay) == 0, errno);
    int got = 0;
    socklen_t gl = sizeof got;
    getsockopt(c, IPPROTO_TCP, TCP_NODELAY, &got, &gl);
    check("nodelay readback", got == 1, 0);
    const char *msg = "hello over loopback";
    check("send", send(c, msg, strlen(msg), 0) == (ssize_t)strlen(msg), errno);
    char buf[64] = {0};
    ssize_t n = recv(c, buf, sizeof buf - 1, MSG_WAITALL & 0);
    printf("echo: %.*s\n", (int)n, buf);
    /* MSG_PEEK leaves the data */
    send(c, "peek", 4, 0);
    char pk[8] = {0};
    struct pollfd pfd = {.fd = c, .events = POLLIN};
    poll(&pfd, 1, 1000);
    recv(c, pk, 4, MSG_PEEK);
    int avail = 0;
    ioctl(c, FIONREAD, &avail);
    char pk2[8] = {0};
    recv(c, pk2, 4, 0);
    check("peek", memcmp(pk, "peek", 4) == 0 && memcmp(pk2, "peek", 4) == 0 && avail == 4, errno);
    /* a receive time-out runs on virtual time */
    struct timeval tv = {.tv_sec = 0, .tv_usec = 200000};
    check("rcvtimeo", setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv) == 0, errno);
    struct timespec t0;
    clock_gettime(CLOCK_MONOTONIC, &t0);
    n = recv(c, buf, sizeof buf, 0);
    long waited = ms_since(&t0);
    check("timeout", n < 0 && errno == EAGAIN && waited >= 200 && waited < 250, errno);
    printf("waited %ld ms\n", waited);
    /* shutdown: the server sees EOF and closes, we see EOF */
    check("shutdown", shutdown(c, SHUT_WR) == 0, errno);
    tv.tv_sec = 2;
    setsockopt(c, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    n = recv(c, buf, sizeof buf, 0);
    check("eof", n == 0, errno);
    pthread_join(th, NULL);
    close(c);

    /* a port nobody listens on: refused; non-blocking connect reports through SO_ERROR */
    struct sockaddr_in closed = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK),
                                 .sin_port = htons(9)};
    int r = socket(AF_INET, SOCK_STREAM, 0);
    check("refused", connect(r, (struct sockaddr *)&closed, sizeof closed) < 0 && errno == ECONNREFUSED, errno);
    close(r);
    /* no network: anything but loopback is unreachable */
    struct sockaddr_in far = {.sin_family = AF_INET, .sin_port = htons(80)};
    inet_pton(AF_INET, "203.0.113.7", &far.sin_addr);
    r = socket(AF_INET, SOCK_STREAM, 0);
    check("unreachable", connect(r, (struct sockaddr *)&far, sizeof far) < 0 && errno == ENETUNREACH, errno);
    close(r);

    /* UDP on loopback */
    int u1 = socket(AF_INET, SOCK_DGRAM, 0), u2 = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    struct sockaddr_in ua = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
    bind(u2, (struct sockaddr *)&ua, sizeof ua);
    socklen_t ual = sizeof ua;
    getsockname(u2, (struct sockaddr *)&ua, &ual);
    char dg[16];
    check("udp empty", recv(u2, dg, sizeof dg, 0) < 0 && errno == EAGAIN, errno);
    check("sendto", sendto(u1, "datagram!", 9, 0, (struct sockaddr *)&ua, sizeof ua) == 9, errno);
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    n = recvfrom(u2, dg, 4, 0, (struct sockaddr *)&from, &fl);
    check("recvfrom truncates", n == 4 && memcmp(dg, "data", 4) == 0 && ntohs(from.sin_port) > 0, errno);
    /* sendmsg / recvmsg with two iovecs */
    struct iovec iov[2] = {{"ab", 2}, {"cd", 2}};
    struct msghdr mh = {.msg_name = &ua, .msg_namelen = sizeof ua, .msg_iov = iov, .msg_iovlen = 2};
    check("sendmsg", sendmsg(u1, &mh, 0) == 4, errno);
    char r1[2], r2[8];
    struct iovec riov[2] = {{r1, 2}, {r2, 8}};
    struct sockaddr_in src;
    struct msghdr rh = {.msg_name = &src, .msg_namelen = sizeof src, .msg_iov = riov, .msg_iovlen = 2};
    n = recvmsg(u2, &rh, 0);
    check("recvmsg", n == 4 && memcmp(r1, "ab", 2) == 0 && memcmp(r2, "cd", 2) == 0, errno);
    close(u1);
    close(u2);

    /* socketpair */
    int sv[2];
    check("socketpair", socketpair(AF_UNIX, SOCK_STREAM, 0, sv) == 0, errno);
    write(sv[0], "pair", 4);
    char pb[4];
    check("pair read", read(sv[1], pb, 4) == 4 && memcmp(pb, "pair", 4) == 0, errno);
    close(sv[0]);
    check("pair eof", read(sv[1], pb, 4) == 0, errno);
    close(sv[1]);

    /* misuse */
    check("inet6", socket(AF_INET6, SOCK_STREAM, 0) < 0 && errno == EAFNOSUPPORT, errno);
    check("raw", socket(AF_INET, SOCK_RAW, 1) < 0 && errno == EPERM, errno);
    check("notsock", send(1, "x", 1, 0) < 0 && errno == ENOTSOCK, errno);
    int s = socket(AF_INET, SOCK_STREAM, 0);
    check("notconn", recv(s, buf, 1, 0) < 0 && errno == ENOTCONN, errno);
    check("efault", connect(s, (struct sockaddr *)16, 16) < 0 && errno == EFAULT, errno);
    check("badopt", setsockopt(s, SOL_SOCKET, 12345, &one, sizeof one) < 0 && errno == ENOPROTOOPT, errno);
    struct sockaddr_in again = a;
    int s2 = socket(AF_INET, SOCK_STREAM, 0);
    check("inuse", bind(s2, (struct sockaddr *)&again, sizeof again) < 0 && errno == EADDRINUSE, errno);
    close(s);
    close(s2);
    close(listener);
    printf("done\n");
    return 0;
}
