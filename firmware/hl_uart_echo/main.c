/* hl_uart_echo: opens ISU0's UART at 115200 8N1 with UART_Open, greets, then echoes every byte it receives
 * (upper-cased) and logs what it got. The descriptor is waited on by the EventLoop, read and written directly,
 * as the Azure Sphere UART sample does. ISU1 is not in its manifest: UART_Open on it fails with EACCES.
 * A received "q" ends the app with status 0. */
#include "applibs_versions.h"

#include <applibs/eventloop.h>
#include <applibs/log.h>
#include <applibs/uart.h>

#include <ctype.h>
#include <errno.h>
#include <string.h>
#include <unistd.h>

#define ISU0_UART 4        /* MT3620_ISU0_UART in the SDK's hardware definition */
#define ISU1_UART 5

static int uart_fd = -1;

static void write_all(const char *data, size_t length)
{
    while (length > 0) {
        ssize_t n = write(uart_fd, data, length);
        if (n < 0) {
            if (errno == EAGAIN) {
                continue;               /* the OS drains its buffer into the FIFO as the line sends */
            }
            Log_Debug("hl_uart_echo: write: %s\n", strerror(errno));
            return;
        }
        data += n;
        length -= (size_t)n;
    }
}

static void on_uart(EventLoop *el, int fd, EventLoop_IoEvents events, void *context)
{
    char buffer[64];
    ssize_t n = read(fd, buffer, sizeof buffer);
    if (n < 0) {
        if (errno != EAGAIN) {
            Log_Debug("hl_uart_echo: read: %s\n", strerror(errno));
            EventLoop_Stop(el);
        }
        return;
    }
    Log_Debug("hl_uart_echo: received %d bytes: '%.*s'\n", (int)n, (int)n, buffer);
    for (ssize_t i = 0; i < n; i++) {
        buffer[i] = (char)toupper((unsigned char)buffer[i]);
    }
    write_all(buffer, (size_t)n);
    if (memchr(buffer, 'Q', (size_t)n) != NULL) {
        EventLoop_Stop(el);
    }
}

int main(void)
{
    UART_Config config;
    UART_InitConfig(&config);
    config.baudRate = 115200;
    config.flowControl = UART_FlowControl_None;
    int other = UART_Open(ISU1_UART, &config);
    Log_Debug("hl_uart_echo: ISU1: %s\n", other < 0 ? strerror(errno) : "opened");
    uart_fd = UART_Open(ISU0_UART, &config);
    if (uart_fd < 0) {
        Log_Debug("hl_uart_echo: UART_Open: %s\n", strerror(errno));
        return 1;
    }
    EventLoop *loop = EventLoop_Create();
    if (loop == NULL || EventLoop_RegisterIo(loop, uart_fd, EventLoop_Input, on_uart, NULL) == NULL) {
        Log_Debug("hl_uart_echo: event loop: %s\n", strerror(errno));
        return 1;
    }
    static const char greeting[] = "hl_uart_echo ready\r\n";
    write_all(greeting, sizeof greeting - 1);
    Log_Debug("hl_uart_echo: listening on ISU0 at 115200 baud\n");
    EventLoop_Run_Result result = EventLoop_Run(loop, -1, false);
    EventLoop_Close(loop);
    close(uart_fd);
    Log_Debug("hl_uart_echo: bye\n");
    return result == EventLoop_Run_Failed ? 2 : 0;
}
