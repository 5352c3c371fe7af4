/* crc32 built for QEMU (qemu-system-arm -M mps2-an386), so scripts/bench can run the same CRC-32 kernel
 * (drivers/crc32.c, the code of firmware/crc32) on QEMU with -icount shift=0 and compare speeds. No MT3620 runtime:
 * its own vector table, the board's CMSDK UART0 (ARM AN386: 0x40004000; DATA +0, STATE +4 bit0 TX full, CTRL +8
 * bit0 TX enable) and a semihosting exit (SYS_EXIT, ARM semihosting specification) when done. CRC32_ROUNDS rounds
 * of the 4 KB buffer (16384 by default, 64 MB; the bench also builds 0 to subtract QEMU's start-up). */
#include <stddef.h>
#include <stdint.h>
#include "crc32.h"

#ifndef CRC32_ROUNDS
#define CRC32_ROUNDS 16384u  /* as scripts/bench's driver loop on the engine and on bare Unicorn */
#endif

#define UART0_DATA 0x40004000u
#define UART0_STATE 0x40004004u
#define UART0_CTRL 0x40004008u

extern uint32_t StackTop;
extern uint32_t __bss_start, __bss_end;
_Noreturn void Reset_Handler(void);

__attribute__((section(".vector_table"), used))
const uintptr_t vector_table[16] = {(uintptr_t)&StackTop, (uintptr_t)Reset_Handler};

static void putc_uart(char c)
{
    while (*(volatile uint32_t *)UART0_STATE & 1u) {
    }
    *(volatile uint32_t *)UART0_DATA = (uint8_t)c;
}

static void puts_uart(const char *s)
{
    while (*s) {
        putc_uart(*s++);
    }
}

static void put_hex(uint32_t v)
{
    for (int shift = 28; shift >= 0; shift -= 4) {
        putc_uart("0123456789abcdef"[(v >> shift) & 0xFu]);
    }
}

static _Noreturn void semihosting_exit(void)
{
    /* SYS_EXIT (0x18) with ADP_Stopped_ApplicationExit (0x20026): QEMU ends with status 0. */
    register uint32_t op __asm__("r0") = 0x18u;
    register uint32_t arg __asm__("r1") = 0x20026u;
    __asm__ volatile("bkpt #0xab" ::"r"(op), "r"(arg) : "memory");
    for (;;) {
    }
}

_Noreturn void Reset_Handler(void)
{
    for (uint32_t *p = &__bss_start; p < &__bss_end; p++) {
        *p = 0;
    }
    *(volatile uint32_t *)UART0_CTRL = 1u;
    crc32_prepare();
    uint32_t crc = 0;
    for (uint32_t r = 0; r < CRC32_ROUNDS; r++) {
        crc = crc32_update(crc, crc32_buffer, CRC32_BUF_SIZE);
    }
    puts_uart("crc32_qemu: rounds crc=0x");
    put_hex(crc);
    puts_uart("\r\n");
    semihosting_exit();
}
