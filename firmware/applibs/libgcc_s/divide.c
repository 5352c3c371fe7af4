/* 64-bit integer division and bit counting for libgcc_s.so.1, written for this project.
 *
 * The run-time ABI for the ARM architecture (ARM IHI 0043, "Integer (32/32 -> 32) division functions" and
 * "Long long functions") defines __aeabi_uldivmod / __aeabi_ldivmod: numerator in r0:r1, denominator in r2:r3,
 * quotient back in r0:r1 and remainder in r2:r3 (the wrappers in divide_arm.S); division by zero calls
 * __aeabi_ldiv0, which raises SIGFPE as GCC's libgcc does on Linux. No 64-bit '/' or '%' is used here (the
 * compiler would call back into these very functions). */
#include <signal.h>
#include <stdint.h>

long long __aeabi_ldiv0(long long value)
{
    raise(SIGFPE);
    return value;
}

/* n <- n / d, d <- n % d (restoring shift-subtract division, 64 steps). */
void libgcc_s_udivmod(uint64_t *n, uint64_t *d)
{
    uint64_t numerator = *n, denominator = *d, quotient = 0, remainder = 0;
    if (denominator == 0) {
        __aeabi_ldiv0(0);
        *n = 0;
        *d = 0;
        return;
    }
    for (int bit = 63; bit >= 0; bit--) {
        remainder = (remainder << 1) | ((numerator >> bit) & 1);
        if (remainder >= denominator) {
            remainder -= denominator;
            quotient |= (uint64_t)1 << bit;
        }
    }
    *n = quotient;
    *d = remainder;
}

/* Signed: truncating division, the remainder has the numerator's sign (C99 6.5.5). */
void libgcc_s_divmod(int64_t *n, int64_t *d)
{
    int negative_quotient = (*n < 0) != (*d < 0);
    int negative_remainder = *n < 0;
    uint64_t un = *n < 0 ? (uint64_t)0 - (uint64_t)*n : (uint64_t)*n;
    uint64_t ud = *d < 0 ? (uint64_t)0 - (uint64_t)*d : (uint64_t)*d;
    libgcc_s_udivmod(&un, &ud);
    *n = negative_quotient ? (int64_t)((uint64_t)0 - un) : (int64_t)un;
    *d = negative_remainder ? (int64_t)((uint64_t)0 - ud) : (int64_t)ud;
}

uint64_t __udivdi3(uint64_t n, uint64_t d)
{
    libgcc_s_udivmod(&n, &d);
    return n;
}

uint64_t __umoddi3(uint64_t n, uint64_t d)
{
    libgcc_s_udivmod(&n, &d);
    return d;
}

int64_t __divdi3(int64_t n, int64_t d)
{
    libgcc_s_divmod(&n, &d);
    return n;
}

int64_t __moddi3(int64_t n, int64_t d)
{
    libgcc_s_divmod(&n, &d);
    return d;
}

int __popcountsi2(uint32_t x)
{
    int count = 0;
    while (x) {
        x &= x - 1;
        count++;
    }
    return count;
}

int __popcountdi2(uint64_t x)
{
    return __popcountsi2((uint32_t)x) + __popcountsi2((uint32_t)(x >> 32));
}
