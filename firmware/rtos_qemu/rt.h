/* The runtime API of the project's firmware (firmware/common/rt.h) on QEMU's mps2-an386 board, for the builds of
 * the RTOS kernel there (rtos_pingpong_qemu). The declarations, the CPU helpers, the formatter (common/fmt.c), the
 * C library helpers (common/libc.c) and SysTick's set-up (common/timer.c) are the common runtime's own; main.c
 * beside this file is the board's part: vector table, reset, console, clock, halt. */
#ifndef RTOS_QEMU_RT_H
#define RTOS_QEMU_RT_H

#include "../common/rt.h"

#endif
