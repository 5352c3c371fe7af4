/* Direct access to the register file of a Unicorn ARM CPU (qemu's CPUARMState), for the native exception path.
 *
 * Unicorn's register API costs a function call and a switch per register, and a PC write through it also asks the
 * CPU loop to leave translated code (uc->quit_request: the whole of cpu_exec is left and entered again). The
 * exception fast path moves about 40 registers per context switch, so it reads and writes the core registers
 * r0-r15 and d0-d7 in place instead, and uses the API only for the registers whose writes have side effects in
 * qemu (xPSR, CONTROL, MSP, PSP, FPSCR, the masks).
 *
 * Unicorn does not export where that register file is. cpu_env_find() locates it once per engine from two facts
 * of qemu's layout (qemu/include/hw/core/cpu.h, target/arm/cpu.h of the Unicorn 2 tree): the CPU object holds
 * `env_ptr` (the register file) followed by `icount_decr_ptr`, both pointing into the same ArchCPU, with
 * the 4-byte IcountDecr just ahead of the register file; and r0 is the first word of the register file. Every
 * candidate is then verified through the API (values written with uc_reg_write must read back in place, for r0-r3,
 * d0-d3 and the SP), and memory is only ever probed through a pipe (write() fails cleanly on an unmapped
 * address). When anything does not match, `found` stays 0 and the callers use the API as before. */
#ifndef MT3620_CPU_ENV_H
#define MT3620_CPU_ENV_H

#include <stdint.h>
#include <unicorn/unicorn.h>

typedef struct {
    int32_t found;              /* 1: the pointers below are verified */
    int32_t pad;
    uint32_t *regs;             /* r0-r15 (CPUARMState.regs) */
    uint8_t *d0;                /* d0; d(2k+1) is 8 bytes after d(2k) */
    uint64_t d_stride;          /* bytes from d(2k) to d(2k+2) (one vector register) */
    const uint32_t *primask, *faultmask, *basepri;  /* M profile: the mask registers, read in place (NULL: API) */
} cpu_env_t;

int cpu_env_find(uc_engine *uc, cpu_env_t *e);
/* M profile: locates the mask registers too (call after cpu_env_find succeeded); 0 when all three were found. */
int cpu_env_find_masks(uc_engine *uc, cpu_env_t *e);

static inline uint64_t *cpu_env_dreg(const cpu_env_t *e, int n) {
    return (uint64_t *)(e->d0 + (uint64_t)(n >> 1) * e->d_stride + (uint64_t)(n & 1) * 8);
}

#endif
