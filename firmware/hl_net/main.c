/* hl_net: a network client for the A7 driven by its command-line arguments (CmdArgs); one Log_Debug line per
 * result:
 *
 *   wait-ready SECONDS            until Networking_IsNetworkingReady
 *   resolve NAME                  getaddrinfo (musl's resolver: /etc/resolv.conf, UDP DNS)
 *   tcp NAME PORT TEXT            connect, send TEXT and a newline, print the reply line
 *   udp NAME PORT TEXT            one datagram out, one back (2 s time-out)
 *   rtt NAME PORT COUNT SIZE      COUNT request/response round trips of SIZE bytes on one TCP connection
 *   listen PORT                   a TCP server socket (AllowedTcpServerPorts decides)
 *   sleep MS
 *
 * Exit status: 0 when every command succeeded, else the number of the first failing command. */
#include <applibs/log.h>
#include <applibs/networking.h>

#include <arpa/inet.h>
#include <errno.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

static void sleep_ms(long ms)
{
    struct timespec t = {ms / 1000, (ms % 1000) * 1000000L};
    while (nanosleep(&t, &t) < 0 && errno == EINTR) {
    }
}

static long now_us(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000L + t.tv_nsec / 1000;
}

static int lookup(const char *name, const char *port, int type, struct sockaddr_in *out)
{
    struct addrinfo hints = {.ai_family = AF_INET, .ai_socktype = type}, *res = NULL;
    int rc = getaddrinfo(name, port, &hints, &res);
    if (rc != 0) {
        Log_Debug("resolve %s: failed: %s\n", name, gai_strerror(rc));
        return -1;
    }
    memcpy(out, res->ai_addr, sizeof *out);
    freeaddrinfo(res);
    return 0;
}

static int connect_to(const char *name, const char *port)
{
    struct sockaddr_in a;
    if (lookup(name, port, SOCK_STREAM, &a) < 0) {
        return -1;
    }
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    long t0 = now_us();
    if (connect(s, (struct sockaddr *)&a, sizeof a) < 0) {
        Log_Debug("tcp %s:%s: connect failed: errno %d (%s)\n", name, port, errno, strerror(errno));
        close(s);
        return -1;
    }
    int one = 1;
    setsockopt(s, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    Log_Debug("tcp %s:%s: connected to %s in %ld us\n", name, port, inet_ntoa(a.sin_addr), now_us() - t0);
    return s;
}

static int read_line(int s, char *buf, size_t size)
{
    size_t n = 0;
    while (n + 1 < size) {
        ssize_t r = recv(s, buf + n, 1, 0);
        if (r <= 0) {
            if (r < 0) {
                return -1;
            }
            break;
        }
        if (buf[n] == '\n') {
            break;
        }
        n++;
    }
    buf[n] = 0;
    return (int)n;
}

static int cmd_tcp(const char *name, const char *port, const char *text)
{
    int s = connect_to(name, port);
    if (s < 0) {
        return -1;
    }
    char msg[512];
    int len = snprintf(msg, sizeof msg, "%s\n", text);
    if (send(s, msg, (size_t)len, MSG_NOSIGNAL) != len) {
        Log_Debug("tcp: send failed: errno %d (%s)\n", errno, strerror(errno));
        close(s);
        return -1;
    }
    char reply[512];
    if (read_line(s, reply, sizeof reply) < 0) {
        Log_Debug("tcp: recv failed: errno %d (%s)\n", errno, strerror(errno));
        close(s);
        return -1;
    }
    Log_Debug("tcp reply: %s\n", reply);
    close(s);
    return 0;
}

static int cmd_udp(const char *name, const char *port, const char *text)
{
    struct sockaddr_in a;
    if (lookup(name, port, SOCK_DGRAM, &a) < 0) {
        return -1;
    }
    int s = socket(AF_INET, SOCK_DGRAM | SOCK_CLOEXEC, 0);
    struct timeval tv = {2, 0};
    setsockopt(s, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof tv);
    if (sendto(s, text, strlen(text), 0, (struct sockaddr *)&a, sizeof a) < 0) {
        Log_Debug("udp: sendto failed: errno %d (%s)\n", errno, strerror(errno));
        close(s);
        return -1;
    }
    char reply[512];
    struct sockaddr_in from;
    socklen_t fl = sizeof from;
    ssize_t n = recvfrom(s, reply, sizeof reply - 1, 0, (struct sockaddr *)&from, &fl);
    close(s);
    if (n < 0) {
        Log_Debug("udp: recvfrom failed: errno %d (%s)\n", errno, strerror(errno));
        return -1;
    }
    reply[n] = 0;
    Log_Debug("udp reply from %s:%d: %s\n", inet_ntoa(from.sin_addr), ntohs(from.sin_port), reply);
    return 0;
}

static int cmd_rtt(const char *name, const char *port, long count, long size)
{
    int s = connect_to(name, port);
    if (s < 0) {
        return -1;
    }
    char *buf = malloc((size_t)size + 1);
    memset(buf, 'x', (size_t)size);
    long t0 = now_us();
    for (long i = 0; i < count; i++) {
        if (send(s, buf, (size_t)size, MSG_NOSIGNAL) != size) {
            Log_Debug("rtt: send failed at %ld: errno %d\n", i, errno);
            free(buf);
            close(s);
            return -1;
        }
        long got = 0;
        while (got < size) {
            ssize_t r = recv(s, buf + got, (size_t)(size - got), 0);
            if (r <= 0) {
                Log_Debug("rtt: recv failed at %ld: errno %d\n", i, r < 0 ? errno : 0);
                free(buf);
                close(s);
                return -1;
            }
            got += r;
        }
    }
    long us = now_us() - t0;
    Log_Debug("rtt: %ld round trips of %ld bytes in %ld us of virtual time\n", count, size, us);
    free(buf);
    close(s);
    return 0;
}

static int cmd_listen(const char *port)
{
    int s = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
    struct sockaddr_in a = {.sin_family = AF_INET, .sin_port = htons((uint16_t)atoi(port))};
    if (bind(s, (struct sockaddr *)&a, sizeof a) < 0 || listen(s, 4) < 0) {
        Log_Debug("listen %s: failed: errno %d (%s)\n", port, errno, strerror(errno));
        close(s);
        return -1;
    }
    Log_Debug("listen %s: ok\n", port);
    close(s);
    return 0;
}

int main(int argc, char *argv[])
{
    for (int i = 1, step = 1; i < argc; step++) {
        const char *cmd = argv[i++];
        int r = 0;
#define ARG(n) (i + (n) <= argc ? argv[i + (n) - 1] : NULL)
        if (strcmp(cmd, "wait-ready") == 0 && ARG(1)) {
            long limit = atol(ARG(1)) * 10;
            bool ready = false;
            long n = 0;
            for (; n <= limit && !ready; n++) {
                if (Networking_IsNetworkingReady(&ready) < 0 || !ready) {
                    sleep_ms(100);
                }
            }
            Log_Debug(ready ? "network ready\n" : "network not ready\n");
            r = ready ? 0 : -1;
            i += 1;
        } else if (strcmp(cmd, "resolve") == 0 && ARG(1)) {
            struct sockaddr_in a;
            r = lookup(ARG(1), NULL, SOCK_STREAM, &a);
            if (r == 0) {
                Log_Debug("resolve %s: %s\n", ARG(1), inet_ntoa(a.sin_addr));
            }
            i += 1;
        } else if (strcmp(cmd, "tcp") == 0 && ARG(3)) {
            r = cmd_tcp(ARG(1), ARG(2), ARG(3));
            i += 3;
        } else if (strcmp(cmd, "udp") == 0 && ARG(3)) {
            r = cmd_udp(ARG(1), ARG(2), ARG(3));
            i += 3;
        } else if (strcmp(cmd, "rtt") == 0 && ARG(4)) {
            r = cmd_rtt(ARG(1), ARG(2), atol(ARG(3)), atol(ARG(4)));
            i += 4;
        } else if (strcmp(cmd, "listen") == 0 && ARG(1)) {
            r = cmd_listen(ARG(1));
            i += 1;
        } else if (strcmp(cmd, "sleep") == 0 && ARG(1)) {
            sleep_ms(atol(ARG(1)));
            i += 1;
        } else {
            Log_Debug("ERROR: unknown command or missing arguments: %s\n", cmd);
            return step;
        }
        if (r < 0) {
            return step;
        }
    }
    Log_Debug("hl_net: done\n");
    return 0;
}
