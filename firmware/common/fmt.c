/* A small printf-like formatter: %d %i %u %x %X %p %s %c %%, flags '-' and '0', a decimal field width.
 * 32-bit integers only (the M4 divides in hardware; no 64-bit helpers from a compiler runtime needed). */
#include "rt.h"

struct out {
    fmt_sink sink;
    void *ctx;
    int count;
};

static void emit(struct out *o, char c)
{
    o->sink(o->ctx, c);
    o->count++;
}

static void emit_padded(struct out *o, const char *s, int len, int width, bool left, char pad)
{
    int fill = width > len ? width - len : 0;
    if (!left) {
        /* Zero padding goes after a sign. */
        if (pad == '0' && len > 0 && s[0] == '-') {
            emit(o, '-');
            s++;
            len--;
        }
        while (fill-- > 0) {
            emit(o, pad);
        }
    }
    for (int i = 0; i < len; i++) {
        emit(o, s[i]);
    }
    if (left) {
        while (fill-- > 0) {
            emit(o, ' ');
        }
    }
}

static int utoa_base(uint32_t v, unsigned base, bool upper, char *buf)
{
    const char *digits = upper ? "0123456789ABCDEF" : "0123456789abcdef";
    char tmp[12];
    int n = 0;
    do {
        tmp[n++] = digits[v % base];
        v /= base;
    } while (v);
    for (int i = 0; i < n; i++) {
        buf[i] = tmp[n - 1 - i];
    }
    return n;
}

int vformat(fmt_sink sink, void *ctx, const char *fmt, va_list ap)
{
    struct out o = {sink, ctx, 0};
    char buf[16];
    for (; *fmt; fmt++) {
        if (*fmt != '%') {
            emit(&o, *fmt);
            continue;
        }
        fmt++;
        bool left = false;
        char pad = ' ';
        for (;; fmt++) {
            if (*fmt == '-') {
                left = true;
            } else if (*fmt == '0') {
                pad = '0';
            } else {
                break;
            }
        }
        int width = 0;
        while (*fmt >= '0' && *fmt <= '9') {
            width = width * 10 + (*fmt++ - '0');
        }
        if (left) {
            pad = ' ';
        }
        switch (*fmt) {
        case 'd':
        case 'i': {
            int32_t v = va_arg(ap, int32_t);
            int n = 0;
            uint32_t mag = (uint32_t)v;
            if (v < 0) {
                buf[n++] = '-';
                mag = 0u - mag;
            }
            n += utoa_base(mag, 10, false, buf + n);
            emit_padded(&o, buf, n, width, left, pad);
            break;
        }
        case 'u':
            emit_padded(&o, buf, utoa_base(va_arg(ap, uint32_t), 10, false, buf), width, left, pad);
            break;
        case 'x':
        case 'X':
            emit_padded(&o, buf, utoa_base(va_arg(ap, uint32_t), 16, *fmt == 'X', buf), width, left, pad);
            break;
        case 'p': {
            buf[0] = '0';
            buf[1] = 'x';
            uint32_t v = (uint32_t)(uintptr_t)va_arg(ap, void *);
            for (int i = 0; i < 8; i++) {
                buf[2 + i] = "0123456789abcdef"[(v >> (28 - 4 * i)) & 0xFu];
            }
            emit_padded(&o, buf, 10, width, left, ' ');
            break;
        }
        case 's': {
            const char *s = va_arg(ap, const char *);
            if (!s) {
                s = "(null)";
            }
            emit_padded(&o, s, (int)strlen(s), width, left, ' ');
            break;
        }
        case 'c':
            buf[0] = (char)va_arg(ap, int);
            emit_padded(&o, buf, 1, width, left, ' ');
            break;
        case '%':
            emit(&o, '%');
            break;
        case '\0':
            return o.count;  /* a lone '%' at the end */
        default:
            /* Unknown conversion: shown as written so the mistake is visible on the console. */
            emit(&o, '%');
            emit(&o, *fmt);
            break;
        }
    }
    return o.count;
}

static void uart_sink(void *ctx, char c)
{
    (void)ctx;
    uart_putc(c);
}

int print(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(uart_sink, NULL, fmt, ap);
    va_end(ap);
    return n;
}

struct strbuf {
    char *buf;
    size_t size;
    size_t len;
};

static void str_sink(void *ctx, char c)
{
    struct strbuf *sb = ctx;
    if (sb->len + 1 < sb->size) {
        sb->buf[sb->len] = c;
    }
    sb->len++;
}

int snformat(char *buf, size_t size, const char *fmt, ...)
{
    struct strbuf sb = {buf, size, 0};
    va_list ap;
    va_start(ap, fmt);
    int n = vformat(str_sink, &sb, fmt, ap);
    va_end(ap);
    if (size) {
        buf[sb.len < size ? sb.len : size - 1] = '\0';
    }
    return n;
}
