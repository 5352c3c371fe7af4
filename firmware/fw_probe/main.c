/* fw_probe: reads one register of every block the MT3620's firewalls guard, with BusFault enabled, and says for
 * each whether this IO core may touch it:
 *     probe isu0_uart 0x38070514: ok 0x00000060
 *     probe isu1_uart 0x38080514: BusFault CFSR=0x00008200 BFAR=0x38080514
 * A core that does not own a block gets a precise BusFault (CFSR PRECISERR | BFARVALID, BFAR = the address) when
 * the security monitor has programmed the firewalls from the apps' manifests; the handler records it, clears the
 * status bits and resumes after the 4-byte load. Every read is harmless (status, input and version registers). */
#include "rt.h"

struct probe {
    const char *name;
    uint32_t address;
};

static const struct probe probes[] = {
    {"gpio0", 0x38010004u}, {"pwm0", 0x38011000u}, {"gpio1", 0x38020004u}, {"pwm1", 0x38021000u},
    {"gpio2", 0x38030004u}, {"pwm2", 0x38031000u}, {"gpio3", 0x38040004u}, {"gpio4", 0x38050004u},
    {"gpio5", 0x38060004u},
    {"isu0_i2c", 0x38070200u}, {"isu0_spi", 0x38070300u}, {"isu0_uart", 0x38070514u},
    {"isu1_uart", 0x38080514u}, {"isu2_uart", 0x38090514u}, {"isu3_uart", 0x380A0514u}, {"isu4_uart", 0x380B0514u},
    {"adc", 0x38000000u}, {"i2s0", 0x380D0000u}, {"i2s1", 0x380E0000u},
    {"mbox_a7", 0x21050000u}, {"mbox_m4", 0x21060000u},
};

static volatile uint32_t fault_cfsr, fault_bfar, faults;

/* The handler gets the stacked exception frame: r0-r3, r12, lr, pc, xPSR (ARM DDI 0403E B1.5.6). */
void probe_fault(uint32_t *frame)
{
    fault_cfsr = rd32(SCS_CFSR);
    fault_bfar = rd32(SCS_BFAR);
    wr32(SCS_CFSR, fault_cfsr);  /* write-one-to-clear */
    frame[6] += 4;               /* resume after the faulting ldr.w */
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
        "bl probe_fault\n"
        "pop {r4, pc}\n");
}

static uint32_t load(uint32_t address)
{
    uint32_t value = 0xFFFFFFFFu;
    /* ldr.w: always a 4-byte encoding, so the handler knows how far to step. */
    __asm__ volatile("ldr.w %0, [%1]" : "+r"(value) : "r"(address) : "memory");
    return value;
}

int main(void)
{
    print("probe: start\r\n");
    wr32(SCS_SHCSR, rd32(SCS_SHCSR) | SHCSR_BUSFAULTENA);
    cpu_dsb();
    cpu_isb();
    unsigned refused = 0;
    for (unsigned i = 0; i < sizeof probes / sizeof probes[0]; i++) {
        uint32_t before = faults;
        uint32_t value = load(probes[i].address);
        if (faults != before) {
            refused++;
            print("probe %s 0x%08x: BusFault CFSR=0x%08x BFAR=0x%08x\r\n", probes[i].name, probes[i].address,
                  fault_cfsr, fault_bfar);
        } else {
            print("probe %s 0x%08x: ok 0x%08x\r\n", probes[i].name, probes[i].address, value);
        }
    }
    print("probe: done, %u refused\r\n", refused);
    return 0;
}
