/* busfault: reads 0x50000000, where nothing answers on the IO core's bus.
 *
 * Default build: BusFault is enabled in SHCSR, so the read raises BusFault (exception 5). Its handler prints
 * CFSR (expected PRECISERR | BFARVALID = 0x00008200) and BFAR (0x50000000), clears them, steps the stacked
 * PC over the 4-byte load and returns; main then says it recovered.
 * BUSFAULT_UNHANDLED build (busfault_unhandled): BusFault stays disabled, so the fault escalates to
 * HardFault (HFSR.FORCED = 0x40000000); the HardFault handler prints HFSR, CFSR and BFAR and stops. */
#include "rt.h"

#define UNMAPPED 0x50000000u

static void read_unmapped(void)
{
    uintptr_t addr = UNMAPPED;
    /* ldr.w: always a 4-byte encoding, so the handler knows how far to step. The destination register is
       never written when the load faults, so the value is not used. */
    __asm__ volatile("ldr.w r3, [%0]" : : "r"(addr) : "r3", "memory");
}

#ifndef BUSFAULT_UNHANDLED
static volatile uint32_t faults;

/* The handler gets the stacked exception frame: r0-r3, r12, lr, pc, xPSR (ARM DDI 0403E B1.5.6). */
void busfault_report(uint32_t *frame)
{
    uint32_t cfsr = rd32(SCS_CFSR), bfar = rd32(SCS_BFAR);
    print("busfault: CFSR=0x%08x BFAR=0x%08x\r\n", cfsr, bfar);
    wr32(SCS_CFSR, cfsr);  /* the status bits are write-one-to-clear */
    frame[6] += 4;         /* resume after the faulting ldr.w */
    faults++;
}

__attribute__((naked)) void BusFault_Handler(void)
{
    __asm__ volatile(
        "tst lr, #4\n"
        "ite eq\n"
        "mrseq r0, msp\n"
        "mrsne r0, psp\n"
        "push {r4, lr}\n"
        "bl busfault_report\n"
        "pop {r4, pc}\n");
}
#else
void HardFault_Handler(void)
{
    print("hardfault: HFSR=0x%08x CFSR=0x%08x BFAR=0x%08x\r\n", rd32(SCS_HFSR), rd32(SCS_CFSR), rd32(SCS_BFAR));
    print("hardfault: stopped\r\n");
    halt();
}
#endif

int main(void)
{
#ifndef BUSFAULT_UNHANDLED
    print("busfault: start, BusFault enabled\r\n");
    wr32(SCS_SHCSR, rd32(SCS_SHCSR) | SHCSR_BUSFAULTENA);
    cpu_dsb();
    cpu_isb();
    read_unmapped();
    print("busfault: recovered after %u fault(s)\r\n", faults);
    print("busfault: done\r\n");
#else
    print("busfault_unhandled: start, BusFault disabled\r\n");
    read_unmapped();
    print("busfault_unhandled: not reached\r\n");
#endif
    return 0;
}
