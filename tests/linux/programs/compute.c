/* Pure computation through musl: formatted floating point, string conversions, sorting, hashing, 64-bit
 * arithmetic, libm. The same static binary runs on the emulated A7 and on qemu-arm (tests/linux/test_linux_oracle.py),
 * which must print the same bytes. */
#include <inttypes.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int compare(const void *a, const void *b)
{
    int x = *(const int *)a, y = *(const int *)b;
    return (x > y) - (x < y);
}

int main(void)
{
    printf("%.17g %.6e %a %g\n", 1.0 / 3.0, 6.02214076e23, 0.1, 1e-300 * 1e-300);
    printf("%f %f %f %f\n", sqrt(2.0), sin(1.0), exp(1.0), log10(12345.678));
    printf("%.9f %.9f %.9f\n", atan2(1.0, -1.0), pow(1.0001, 10000.0), fmod(-7.5, 2.0));
    printf("%ld %lu %lld %s\n", strtol("-0x7fffffff", NULL, 0), strtoul("4294967295", NULL, 10),
           strtoll("-9223372036854775808", NULL, 10), "end");
    printf("%.10g %.10g\n", strtod("3.14159265358979323846", NULL), strtod("1e-320", NULL));
    int values[64];
    uint32_t seed = 12345;
    for (int i = 0; i < 64; i++) {
        seed = seed * 1103515245u + 12345u;
        values[i] = (int)(seed >> 8) - (1 << 23);
    }
    qsort(values, 64, sizeof values[0], compare);
    printf("sorted %d %d %d\n", values[0], values[31], values[63]);
    uint64_t h = 1469598103934665603ull;
    for (int i = 0; i < 1000; i++) {
        h = (h ^ (uint64_t)i) * 1099511628211ull;
    }
    printf("fnv %016" PRIx64 " div %" PRId64 " mod %" PRId64 "\n", h, (int64_t)h / -12345, (int64_t)h % 977);
    char buf[64];
    snprintf(buf, sizeof buf, "%-8s|%08.3f|%+d|%x", "left", -3.14159, 42, 0xdeadbeef);
    printf("%s %zu\n", buf, strlen(buf));
    float f = 16777217.0f;
    double d = (double)f * 3.0f;
    printf("float %.1f %.3f %d\n", f, d, (int)(f / 7.0f));
    return 0;
}
