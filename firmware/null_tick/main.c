/* null_tick: what MediaTek's FreeRTOS samples (MediaTek-Labs/mt3620_m4_software) do to address 0 before their
 * scheduler exists, and what the IO core's TCM ROM window there does about it.
 *
 * The samples' BSP enables SysTick (NVIC_SetupVectorTable) before the tasks are created; the first tick, during
 * the banner's printf, runs the kernel's tick function while its lists are still NULL pointers, so it reads the
 * length of "the delayed list" at 0x00000000 and "the current task's priority" at 0x0000002C. Their GPIOIF sample
 * also stores through a NULL pointer (0x00000001) before its driver is initialised. The emulator maps the IO core's
 * TCM ROM window (0x00000000-0x000FFFFF) as read-as-zero, writes ignored, not executable (docs/EMULATOR-DEFINED.md),
 * which gives those samples what they need: an empty list, a store that goes nowhere. This firmware does the same
 * accesses and prints what it saw, then calls through a NULL pointer and into the window at 0x00000001: the
 * emulator reports both as an instruction bus error (BusFault, CFSR.IBUSERR), recovered by the handler. (On the
 * chip the ROM holds code; a branch to 0x00000000 with the Thumb bit clear would be an INVSTATE UsageFault there.) */
#include "rt.h"

struct list {                /* the shape of a kernel's task list: a length first */
    uint32_t length;
    void *index;
};

struct task {
    uint32_t words[11];
    uint32_t priority;       /* at offset 0x2C, as FreeRTOS's TCB uxPriority in these builds */
};

struct kernel {
    struct list *volatile delayed;
    struct task *volatile current;
};

struct gpioif_config {
    uint8_t mode;
    uint8_t group;           /* at offset 1: the GPIOIF sample's ctlr->mconfig->group */
};

static struct kernel kernel;  /* zero until "the scheduler" would fill it: it never does here */
static volatile uint32_t ticks, empty_seen, priority_sum;
static volatile uint32_t fault_cfsr, fault_pc;

void SysTick_Handler(void)
{
    ticks++;
    if (kernel.delayed->length == 0) {         /* a read of 0x00000000 */
        empty_seen++;
    }
    priority_sum += kernel.current->priority;  /* a read of 0x0000002C */
}

/* The fault returns to the caller of the bad call: stacked PC = stacked LR, Thumb bit set again. */
static void recover(uint32_t *frame)
{
    fault_cfsr = rd32(SCS_CFSR);
    fault_pc = frame[6];
    wr32(SCS_CFSR, fault_cfsr);               /* write one to clear */
    frame[6] = frame[5] & ~1u;
    frame[7] |= 1u << 24;
}

__attribute__((naked)) void BusFault_Handler(void)
{
    __asm__ volatile("tst lr, #4\n ite eq\n mrseq r0, msp\n mrsne r0, psp\n b recover_bus\n");
}

__attribute__((used)) void recover_bus(uint32_t *frame) { recover(frame); }

__attribute__((noinline)) static void call(uintptr_t address)
{
    void (*volatile fn)(void) = (void (*)(void))address;
    fn();
}

int main(void)
{
    uint32_t hz = clock_select(HCLK_SRC_PLL);
    wr32(SCS_SHCSR, rd32(SCS_SHCSR) | (1u << 17));                /* BusFault enabled */
    systick_start(1000);                                          /* before any list exists, as the BSP does */
    print("null_tick: SysTick at 1 kHz, %u Hz core; this banner takes a few milliseconds at 115200 baud, long "
          "enough for ticks to come before the kernel has set up anything\r\n", hz);
    uint32_t seen = ticks;
    print("null_tick: %u ticks, %u saw an empty list at 0x00000000, priority sum %u from 0x0000002c\r\n", seen,
          empty_seen, priority_sum);
    wr32(SYST_CSR, 0);

    struct gpioif_config *volatile config = NULL;
    config->group = 3;                                            /* a store to 0x00000001 */
    print("null_tick: stored 3 at 0x00000001, reads back %u\r\n", ((volatile uint8_t *)0)[1]);

    call(0);
    print("null_tick: call to 0x00000000 faulted with CFSR 0x%08x at 0x%08x, recovered\r\n", fault_cfsr, fault_pc);
    call(1);
    print("null_tick: call to 0x00000001 faulted with CFSR 0x%08x at 0x%08x, recovered\r\n", fault_cfsr, fault_pc);
    print("null_tick: done\r\n");
    return 0;
}
