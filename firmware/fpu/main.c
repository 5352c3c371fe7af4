/* fpu: the Cortex-M4F's single-precision FPU. Grants CP10/CP11 access in CPACR, then computes:
 * a square root by Newton's method and by VSQRT, a dot product, and two divisions. Results are printed as
 * integers (scaled, truncated by VCVT) and as raw IEEE-754 bits, so a test can check them exactly. */
#include "rt.h"

static inline uint32_t bits(float f)
{
    union {
        float f;
        uint32_t u;
    } v = {.f = f};
    return v.u;
}

/* volatile inputs keep the compiler from folding the arithmetic at build time: the FPU must do it. */
static volatile float two = 2.0f, ten = 10.0f, one = 1.0f, three = 3.0f, twenty_two = 22.0f, seven = 7.0f;
static volatile float va[4] = {1.5f, 2.25f, -3.0f, 4.125f};
static volatile float vb[4] = {2.0f, -1.0f, 0.5f, 8.0f};

__attribute__((noinline)) static float newton_sqrt(float x)
{
    float g = x;
    for (int i = 0; i < 20; i++) {
        g = 0.5f * (g + x / g);
    }
    return g;
}

__attribute__((noinline)) static float dot(const volatile float *a, const volatile float *b, int n)
{
    float s = 0.0f;
    for (int i = 0; i < n; i++) {
        s += a[i] * b[i];
    }
    return s;
}

/* Every floating-point instruction lives here, not in main(): main() runs before CP10/CP11 are granted, and a
 * VPUSH of d8-d15 in its prologue would take a UsageFault (NOCP) on the chip (ARM DDI 0403E B3.2.20). */
static void __attribute__((noinline)) fpu_checks(void)
{
    float s2 = newton_sqrt(two);
    float s10 = newton_sqrt(ten);
    float v2 = __builtin_sqrtf(two);  /* VSQRT.F32 with -fno-math-errno */
    print("fpu: newton sqrt(2) x 1e6 = %d bits 0x%08x\r\n", (int32_t)(s2 * 1e6f), bits(s2));
    print("fpu: newton sqrt(10) x 1e6 = %d bits 0x%08x\r\n", (int32_t)(s10 * 1e6f), bits(s10));
    print("fpu: vsqrt sqrt(2) x 1e6 = %d bits 0x%08x\r\n", (int32_t)(v2 * 1e6f), bits(v2));

    float d = dot(va, vb, 4);
    print("fpu: dot x 100 = %d bits 0x%08x\r\n", (int32_t)(d * 100.0f), bits(d));

    float third = one / three;
    float pi_ish = twenty_two / seven;
    print("fpu: 1/3 x 1e6 = %d bits 0x%08x\r\n", (int32_t)(third * 1e6f), bits(third));
    print("fpu: 22/7 x 1e6 = %d bits 0x%08x\r\n", (int32_t)(pi_ish * 1e6f), bits(pi_ish));
    print("fpu: -22/7 x 1e6 = %d\r\n", (int32_t)(-pi_ish * 1e6f));
}

int main(void)
{
    print("fpu: start\r\n");
    uint32_t before = rd32(SCS_CPACR);
    fpu_enable();
    print("fpu: CPACR 0x%08x -> 0x%08x\r\n", before, rd32(SCS_CPACR));
    fpu_checks();
    print("fpu: done\r\n");
    return 0;
}
