/* Finding a Unicorn ARM CPU's register file in memory (cpu_env.h says why and how it is verified). */
#define _GNU_SOURCE
#include <stdint.h>
#include <string.h>
#include <unistd.h>
#include <unicorn/arm.h>
#include "cpu_env.h"

#define UC_SCAN_BYTES 4096u          /* the fields of uc_struct looked at for the CPU pointer */
#define CPU_SCAN_BYTES 16384u        /* the fields of CPUState looked at for env_ptr / icount_decr_ptr */
#define ARCHCPU_MAX_BYTES (8u << 20) /* env lies this close after the CPU object's start */
#define ENV_SCAN_BYTES 8192u         /* where d0-d3 are looked for in the register file */

/* Reads our own memory without faulting on an unmapped address: through a pipe, whose write() returns EFAULT (or
 * stops short) on memory that is not mapped, where a plain load would crash the process. (process_vm_readv would do
 * too, but container seccomp profiles may refuse it.) */
static int safe_read(const int probe[2], uintptr_t address, void *buffer, size_t length) {
    uint8_t *out = buffer;
    while (length) {
        size_t chunk = length < 4096 ? length : 4096;   /* well inside a pipe's capacity */
        ssize_t written = write(probe[1], (const void *)address, chunk);
        ssize_t got = 0;
        if (written > 0) got = read(probe[0], out, (size_t)written);   /* drain what went in, always */
        if (written != (ssize_t)chunk || got != written) return 0;
        address += chunk;
        out += chunk;
        length -= chunk;
    }
    return 1;
}

static int plausible(uintptr_t p) { return p >= 0x10000 && (p & 7) == 0 && p < ((uintptr_t)1 << 47); }

static const int PROBE_REGS[4] = {UC_ARM_REG_R0, UC_ARM_REG_R1, UC_ARM_REG_R2, UC_ARM_REG_R3};
static const int PROBE_DREGS[4] = {UC_ARM_REG_D0, UC_ARM_REG_D1, UC_ARM_REG_D2, UC_ARM_REG_D3};
static const uint32_t MAGIC[4] = {0x6D743336u, 0x32305F65u, 0x6E765F72u, 0x30C0FFEEu};
static const uint64_t DMAGIC[4] = {0x1122334455667788ull, 0x99AABBCCDDEEFF01ull, 0x0F1E2D3C4B5A6978ull,
                                   0x8796A5B4C3D2E1F0ull};

/* The register file at `env` holds the probe values (r0-r3 first, then d0-d3 somewhere after). */
static int verify(const int probe[2], uintptr_t env, cpu_env_t *e) {
    uint32_t regs[4];
    if (!safe_read(probe, env, regs, sizeof regs) || memcmp(regs, MAGIC, sizeof regs) != 0) return 0;
    uint8_t window[ENV_SCAN_BYTES];
    if (!safe_read(probe, env, window, sizeof window)) return 0;
    for (uint32_t off = 64; off + 8 <= sizeof window; off += 8) {
        uint64_t d;
        memcpy(&d, window + off, 8);
        if (d != DMAGIC[0]) continue;
        uint64_t d1;
        memcpy(&d1, window + off + 8, 8);
        if (d1 != DMAGIC[1]) continue;
        for (uint32_t stride = 16; off + stride + 16 <= sizeof window && stride <= 256; stride += 16) {
            uint64_t d2, d3;
            memcpy(&d2, window + off + stride, 8);
            memcpy(&d3, window + off + stride + 8, 8);
            if (d2 == DMAGIC[2] && d3 == DMAGIC[3]) {
                e->regs = (uint32_t *)env;
                e->d0 = (uint8_t *)(env + off);
                e->d_stride = stride;
                return 1;
            }
        }
    }
    return 0;
}

/* Where the last search found them (the same library always sees the same Unicorn): tried first. */
static size_t cached_uc_field = SIZE_MAX, cached_cpu_field = SIZE_MAX;

/* A CPU object at `cpu` whose fields hold env_ptr followed by icount_decr_ptr, both inside it, the counter just
 * ahead of the register file. */
static int candidate(const int probe[2], uintptr_t cpu, uintptr_t env, uintptr_t icount, cpu_env_t *e) {
    if (env <= cpu || env - cpu > ARCHCPU_MAX_BYTES || icount >= env || env - icount > 64 || icount <= cpu) return 0;
    return verify(probe, env, e);
}

static int search_cpu(const int probe[2], uintptr_t cpu, cpu_env_t *e) {
    uintptr_t words[CPU_SCAN_BYTES / sizeof(uintptr_t)];
    if (cached_cpu_field != SIZE_MAX) {
        uintptr_t pair[2];
        if (safe_read(probe, cpu + cached_cpu_field * sizeof(uintptr_t), pair, sizeof pair) &&
            candidate(probe, cpu, pair[0], pair[1], e))
            return 1;
    }
    if (!safe_read(probe, cpu, words, sizeof words)) return 0;
    for (size_t i = 0; i + 1 < sizeof words / sizeof words[0]; i++) {
        if (candidate(probe, cpu, words[i], words[i + 1], e)) {
            cached_cpu_field = i;
            return 1;
        }
    }
    return 0;
}

int cpu_env_find(uc_engine *uc, cpu_env_t *e) {
    memset(e, 0, sizeof *e);
    uint32_t saved[4];
    uint64_t saved_d[4];
    void *ptrs[4], *dptrs[4];
    const void *mptrs[4], *dmptrs[4];
    for (int i = 0; i < 4; i++) {
        ptrs[i] = &saved[i];
        dptrs[i] = &saved_d[i];
        mptrs[i] = &MAGIC[i];
        dmptrs[i] = &DMAGIC[i];
    }
    if (uc_reg_read_batch(uc, (int *)PROBE_REGS, ptrs, 4) || uc_reg_read_batch(uc, (int *)PROBE_DREGS, dptrs, 4))
        return -1;
    int found = 0, probe[2];
    if (pipe(probe) != 0) return -1;
    if (!uc_reg_write_batch(uc, (int *)PROBE_REGS, (void *const *)mptrs, 4) &&
        !uc_reg_write_batch(uc, (int *)PROBE_DREGS, (void *const *)dmptrs, 4)) {
        uintptr_t fields[UC_SCAN_BYTES / sizeof(uintptr_t)];
        if (safe_read(probe, (uintptr_t)uc, fields, sizeof fields)) {
            if (cached_uc_field != SIZE_MAX && plausible(fields[cached_uc_field]))
                found = search_cpu(probe, fields[cached_uc_field], e);
            for (size_t i = 0; i < sizeof fields / sizeof fields[0] && !found; i++) {
                if (plausible(fields[i]) && (found = search_cpu(probe, fields[i], e))) cached_uc_field = i;
            }
        }
    }
    uc_reg_write_batch(uc, (int *)PROBE_REGS, (void *const *)ptrs, 4);
    uc_reg_write_batch(uc, (int *)PROBE_DREGS, (void *const *)dptrs, 4);
    if (found) {
        /* The API and the register file agree on values written either way. */
        uint32_t sp = 0, value = 0x5A5AA5A4u, back = 0;
        uc_reg_read(uc, UC_ARM_REG_R12, &sp);
        e->regs[12] = value;
        uc_reg_read(uc, UC_ARM_REG_R12, &back);
        e->regs[12] = sp;
        uint32_t api_sp = 0;
        uc_reg_read(uc, UC_ARM_REG_SP, &api_sp);
        if (back != value || api_sp != e->regs[13]) found = 0;
    }
    close(probe[0]);
    close(probe[1]);
    if (!found) memset(e, 0, sizeof *e);
    e->found = found;
    return found ? 0 : -1;
}

/* The one word of the register file that holds `first` after the register is written `first`, and `second` after
 * it is written `second` (through the API; the register's value is restored). */
static const uint32_t *find_u32_field(const int probe[2], uc_engine *uc, const cpu_env_t *e, int reg, uint32_t first,
                                      uint32_t second) {
    uint32_t saved = 0;
    uint8_t a[ENV_SCAN_BYTES], b[ENV_SCAN_BYTES];
    if (uc_reg_read(uc, reg, &saved)) return NULL;
    int ok = !uc_reg_write(uc, reg, &first) && safe_read(probe, (uintptr_t)e->regs, a, sizeof a) &&
             !uc_reg_write(uc, reg, &second) && safe_read(probe, (uintptr_t)e->regs, b, sizeof b);
    uc_reg_write(uc, reg, &saved);
    if (!ok) return NULL;
    const uint32_t *found = NULL;
    for (uint32_t off = 64; off + 4 <= sizeof a; off += 4) {
        uint32_t x, y;
        memcpy(&x, a + off, 4);
        memcpy(&y, b + off, 4);
        if (x == first && y == second) {
            if (found) return NULL;                 /* ambiguous: not used */
            found = (const uint32_t *)((const uint8_t *)e->regs + off);
        }
    }
    if (found) {
        uint32_t now = 0;
        uc_reg_read(uc, reg, &now);
        if (*found != now) return NULL;
    }
    return found;
}

int cpu_env_find_masks(uc_engine *uc, cpu_env_t *e) {
    int probe[2];
    if (!e->found || pipe(probe) != 0) return -1;
    e->primask = find_u32_field(probe, uc, e, UC_ARM_REG_PRIMASK, 1, 0);
    e->faultmask = find_u32_field(probe, uc, e, UC_ARM_REG_FAULTMASK, 1, 0);
    e->basepri = find_u32_field(probe, uc, e, UC_ARM_REG_BASEPRI, 0xA0, 0x60);
    close(probe[0]);
    close(probe[1]);
    if (!e->primask || !e->faultmask || !e->basepri) {
        e->primask = e->faultmask = e->basepri = NULL;
        return -1;
    }
    return 0;
}
