/* hl_intercore: the high-level half of an intercore pair. Its partner is the project's mailbox RTApp
 * (firmware/mailbox, packed with rtapp_manifest.json), which echoes every message back. Every 100 ms an EventLoop
 * timer sends "ping <n>" through the Application_Connect socket; replies arrive on the same socket and are
 * logged. After N replies (first argument) it exits with status 0. It also shows the allow-list: a component
 * not in AllowedApplicationConnections cannot be reached (EPERM), and a second socket to the same RTApp is
 * refused (EADDRINUSE), as the Azure Sphere kernel's azspio sockets behave. */
#include "applibs_versions.h"

#include <applibs/application.h>
#include <applibs/eventloop.h>
#include <applibs/log.h>

#include <errno.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/time.h>
#include <sys/timerfd.h>
#include <unistd.h>

static const char rtapp[] = "9d0a8f3e-1b2c-4e5d-8f6a-7b8c9d0e1f44";
static const char stranger[] = "11111111-2222-3333-4444-555555555555";
static int sock = -1;
static int sent, received, wanted = 3;

static void on_timer(EventLoop *el, int fd, EventLoop_IoEvents events, void *context)
{
    uint64_t expirations;
    (void)read(fd, &expirations, sizeof expirations);
    char message[32];
    int length = snprintf(message, sizeof message, "ping %d", ++sent);
    if (send(sock, message, (size_t)length, 0) < 0) {
        Log_Debug("hl_intercore: send: %s\n", strerror(errno));
        EventLoop_Stop(el);
        return;
    }
    Log_Debug("hl_intercore: sent '%s'\n", message);
}

static void on_socket(EventLoop *el, int fd, EventLoop_IoEvents events, void *context)
{
    char reply[64];
    ssize_t n = recv(fd, reply, sizeof reply, 0);
    if (n < 0) {
        Log_Debug("hl_intercore: recv: %s\n", strerror(errno));
        EventLoop_Stop(el);
        return;
    }
    Log_Debug("hl_intercore: received %d bytes: '%.*s'\n", (int)n, (int)n, reply);
    if (++received >= wanted) {
        EventLoop_Stop(el);
    }
}

int main(int argc, char *argv[])
{
    if (argc > 1) {
        wanted = atoi(argv[1]);
    }
    int other = Application_Connect(stranger);
    Log_Debug("hl_intercore: connect to a component not in the manifest: %s\n",
              other < 0 ? strerror(errno) : "connected");
    sock = Application_Connect(rtapp);
    if (sock < 0) {
        Log_Debug("hl_intercore: Application_Connect: %s\n", strerror(errno));
        return 1;
    }
    int again = Application_Connect(rtapp);
    Log_Debug("hl_intercore: a second socket to the RTApp: %s\n", again < 0 ? strerror(errno) : "connected");
    static const struct timeval timeout = {.tv_sec = 5, .tv_usec = 0};
    if (setsockopt(sock, SOL_SOCKET, SO_RCVTIMEO, &timeout, sizeof timeout) < 0) {
        Log_Debug("hl_intercore: setsockopt: %s\n", strerror(errno));
        return 1;
    }
    int timer = timerfd_create(CLOCK_MONOTONIC, TFD_NONBLOCK | TFD_CLOEXEC);
    struct itimerspec period = {.it_interval = {0, 100000000}, .it_value = {0, 100000000}};
    timerfd_settime(timer, 0, &period, NULL);
    EventLoop *loop = EventLoop_Create();
    if (loop == NULL || EventLoop_RegisterIo(loop, timer, EventLoop_Input, on_timer, NULL) == NULL ||
        EventLoop_RegisterIo(loop, sock, EventLoop_Input, on_socket, NULL) == NULL) {
        Log_Debug("hl_intercore: event loop: %s\n", strerror(errno));
        return 1;
    }
    Log_Debug("hl_intercore: connected to the RTApp %s\n", rtapp);
    EventLoop_Run_Result result = EventLoop_Run(loop, -1, false);
    EventLoop_Close(loop);
    close(timer);
    close(sock);
    Log_Debug("hl_intercore: %d sent, %d received\n", sent, received);
    return result == EventLoop_Run_Failed ? 2 : 0;
}
