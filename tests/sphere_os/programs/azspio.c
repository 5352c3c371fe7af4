/* AF_AZSPIO sockets as the Azure Sphere kernel serves them (net/azspio): type, family and address checks, one
 * message per send/recv, MSG_DONTWAIT, SO_RCVTIMEO. The partner is the echoing mailbox RTApp. */
#include <applibs/log.h>

#include <errno.h>
#include <netinet/in.h>
#include <stdint.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <time.h>
#include <unistd.h>

struct sockaddr_azspio {
    sa_family_t sa_family;
    uint16_t sa_port;
    uint8_t sa_component_id[16];
};

int main(void)
{
    int s = socket(43, SOCK_STREAM, 0);
    Log_Debug("stream socket: %s\n", s < 0 ? strerror(errno) : "created");
    s = socket(AF_INET, SOCK_DGRAM, 0);
    Log_Debug("inet socket: %s\n", s < 0 ? strerror(errno) : "created");
    int fd = socket(43, SOCK_DGRAM, 0);
    /* 9d0a8f3e-1b2c-4e5d-8f6a-7b8c9d0e1f44 in the GUID's little-endian layout */
    struct sockaddr_azspio peer = {43, 0, {0x3e, 0x8f, 0x0a, 0x9d, 0x2c, 0x1b, 0x5d, 0x4e, 0x8f, 0x6a, 0x7b, 0x8c,
                                           0x9d, 0x0e, 0x1f, 0x44}};
    struct sockaddr_azspio wrong = peer;
    wrong.sa_family = AF_INET;
    int rc = connect(fd, (struct sockaddr *)&wrong, sizeof wrong);
    Log_Debug("bad family: %s\n", rc < 0 ? strerror(errno) : "connected");
    rc = (int)send(fd, "x", 1, 0);
    Log_Debug("send before connect: %s\n", rc < 0 ? strerror(errno) : "sent");
    Log_Debug("connect: %d\n", connect(fd, (struct sockaddr *)&peer, sizeof peer));
    static char big[2000];
    rc = (int)send(fd, big, sizeof big, 0);
    Log_Debug("too big: %s\n", rc < 0 ? strerror(errno) : "sent");
    char buffer[32];
    rc = (int)recv(fd, buffer, sizeof buffer, MSG_DONTWAIT);
    Log_Debug("nonblocking recv: %s\n", rc < 0 ? strerror(errno) : "data");
    struct timeval timeout = {1, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout);
    send(fd, "hello A", 7, 0);
    rc = (int)recv(fd, buffer, sizeof buffer, 0);
    Log_Debug("recv with timeout: %d '%.*s'\n", rc, rc > 0 ? rc : 0, buffer);
    struct sockaddr_azspio name;
    socklen_t length = sizeof name;
    getpeername(fd, (struct sockaddr *)&name, &length);
    Log_Debug("peer: family %d port %d\n", name.sa_family, name.sa_port);
    struct timeval short_timeout = {0, 200000};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &short_timeout, sizeof short_timeout);
    struct timespec before, after;
    clock_gettime(CLOCK_MONOTONIC, &before);
    rc = (int)recv(fd, buffer, sizeof buffer, 0);
    clock_gettime(CLOCK_MONOTONIC, &after);
    long ms = (after.tv_sec - before.tv_sec) * 1000 + (after.tv_nsec - before.tv_nsec) / 1000000;
    Log_Debug("timeout after %ld ms: %s\n", ms, rc < 0 ? strerror(errno) : "data");
    close(fd);
    return 0;
}
