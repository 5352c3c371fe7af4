/* gdb_target: a program shaped for the GDB tests. Named functions that are never inlined (breakpoints),
 * a global counter written in a loop (watchpoints), a float computation (FPU registers), and a final busy
 * loop that never returns (interrupting a running target; it says once when it has spun 1000 times). */
#include "rt.h"

volatile uint32_t gdb_counter;
volatile uint32_t gdb_spin;
volatile float gdb_result;

__attribute__((noinline, used)) uint32_t gdb_add(uint32_t a, uint32_t b)
{
    return a + b;
}

__attribute__((noinline, used)) void gdb_count_to(uint32_t n)
{
    for (uint32_t i = 1; i <= n; i++) {
        gdb_counter = i;
    }
}

__attribute__((noinline, used)) float gdb_float_compute(float x)
{
    return x * x * 0.5f + 1.25f;
}

__attribute__((noinline, used)) _Noreturn void gdb_busy_loop(void)
{
    for (;;) {
        if (++gdb_spin == 1000) print("gdb_target: spinning\r\n");
    }
}

static volatile float three = 3.0f;

int main(void)
{
    fpu_enable();
    print("gdb_target: start\r\n");
    print("gdb_target: add=%u\r\n", gdb_add(2, 3));
    gdb_count_to(10);
    print("gdb_target: counter=%u\r\n", gdb_counter);
    gdb_result = gdb_float_compute(three);
    print("gdb_target: float x 100 = %d\r\n", (int32_t)(gdb_result * 100.0f));
    print("gdb_target: busy\r\n");
    gdb_busy_loop();
}
