/* The glibc "checking" entry points that Debian's _FORTIFY_SOURCE builds of static libraries call (LSB: the
 * *_chk interfaces): each checks the destination size it was given, then does the plain operation with musl. */
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/select.h>

void *__memcpy_chk(void *dest, const void *src, size_t len, size_t destlen)
{
    if (len > destlen) {
        abort();
    }
    return memcpy(dest, src, len);
}

void *__memmove_chk(void *dest, const void *src, size_t len, size_t destlen)
{
    if (len > destlen) {
        abort();
    }
    return memmove(dest, src, len);
}

void *__memset_chk(void *dest, int c, size_t len, size_t destlen)
{
    if (len > destlen) {
        abort();
    }
    return memset(dest, c, len);
}

int __vsnprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, va_list ap)
{
    (void)flag;
    if (maxlen > slen) {
        abort();
    }
    return vsnprintf(s, maxlen, format, ap);
}

int __snprintf_chk(char *s, size_t maxlen, int flag, size_t slen, const char *format, ...)
{
    va_list ap;
    va_start(ap, format);
    int n = __vsnprintf_chk(s, maxlen, flag, slen, format, ap);
    va_end(ap);
    return n;
}

int __printf_chk(int flag, const char *format, ...)
{
    (void)flag;
    va_list ap;
    va_start(ap, format);
    int n = vprintf(format, ap);
    va_end(ap);
    return n;
}

long __fdelt_chk(long fd)
{
    if (fd < 0 || fd >= FD_SETSIZE) {
        abort();
    }
    return fd / (8 * (long)sizeof(long));
}

void (*__sysv_signal(int sig, void (*handler)(int)))(int)
{
    return signal(sig, handler);
}
