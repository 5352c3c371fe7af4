/* libapplibs: Log_Debug and Log_DebugVarArgs.
 *
 * Emulator-defined transport (docs/a7.md): the message is formatted in the app (musl's vsnprintf, as the SDK's
 * libapplibs does) and written with one write() to the OS's log device /dev/azure-sphere/log, which the emulated
 * OS labels with the app's name ([a7.<app name>] lines). Without that device (a plain Linux), stderr is used. */
#include <applibs/log.h>

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <unistd.h>

#define LOG_DEVICE "/dev/azure-sphere/log"

static int log_fd = -1;
static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void open_log(void)
{
    log_fd = open(LOG_DEVICE, O_WRONLY | O_CLOEXEC);
    if (log_fd < 0) {
        log_fd = STDERR_FILENO;
    }
}

static int write_all(const char *text, size_t length)
{
    while (length > 0) {
        ssize_t n = write(log_fd, text, length);
        if (n < 0) {
            if (errno == EINTR) {
                continue;
            }
            return -1;
        }
        text += n;
        length -= (size_t)n;
    }
    return 0;
}

int Log_DebugVarArgs(const char *fmt, va_list args)
{
    if (fmt == NULL) {
        errno = EFAULT;
        return -1;
    }
    pthread_once(&log_once, open_log);
    char small[512];
    va_list again;
    va_copy(again, args);
    int length = vsnprintf(small, sizeof small, fmt, args);
    if (length < 0) {
        va_end(again);
        return -1;
    }
    int result;
    if ((size_t)length < sizeof small) {
        result = write_all(small, (size_t)length);
    } else {
        char *big = malloc((size_t)length + 1);
        if (big == NULL) {
            va_end(again);
            errno = ENOMEM;
            return -1;
        }
        vsnprintf(big, (size_t)length + 1, fmt, again);
        result = write_all(big, (size_t)length);
        free(big);
    }
    va_end(again);
    return result;
}

int Log_Debug(const char *fmt, ...)
{
    va_list args;
    va_start(args, fmt);
    int result = Log_DebugVarArgs(fmt, args);
    va_end(args);
    return result;
}
