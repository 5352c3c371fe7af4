"""NVIC and SCB registers of an IO core, accessed by the Python side (register level) and by guest programs.

Rules: ARMv7-M ARM (DDI 0403E) B3.2 (SCB), B3.4 (NVIC); Cortex-M4 TRM r0p1 (CPUID 0x410FC241).
MT3620 IO cores implement 3 priority bits, so each priority byte keeps bits [7:5] (MT3620-FACTS "NVIC / SysTick").
"""
from m4_harness import RESULTS, TCM, Bare, run_program

from mt3620.engine.cortex_m.scs import SystemControlSpace

ISER, ICER, ISPR, ICPR, IABR, IPR = (SystemControlSpace.offset(f"{n}0") for n in ("ISER", "ICER", "ISPR", "ICPR",
                                                                                  "IABR", "IPR"))
ICSR, VTOR, AIRCR, SHPR1, SHPR2, SHPR3, SHCSR, CPUID, STIR = (
    SystemControlSpace.offset(n) for n in ("ICSR", "VTOR", "AIRCR", "SHPR1", "SHPR2", "SHPR3", "SHCSR", "CPUID", "STIR"))
IDLE = "reset:\n b reset\n"


def idle_core():
    return Bare(IDLE)


def test_cpuid_and_ictr():
    b = idle_core()
    assert b.scs(CPUID) == 0x410FC241           # Cortex-M4 r0p1
    assert b.scs(SystemControlSpace.offset("ICTR")) & 0xF == 3   # ICTR: 128 interrupt lines (emulator-defined count)


def test_iser_icer_set_and_clear_enable_bits():
    scs = idle_core().core.scs
    scs.write(ISER, 4, 0x0000_0011)
    scs.write(ISER + 4, 4, 0x8000_0000)                 # IRQ 63
    assert scs.read(ISER, 4) == 0x11 and scs.read(ICER, 4) == 0x11
    assert scs.read(ISER + 4, 4) == 0x8000_0000
    scs.write(ISER, 4, 0)                               # writing 0 has no effect
    assert scs.read(ISER, 4) == 0x11
    scs.write(ICER, 4, 0x10)
    assert scs.read(ISER, 4) == 0x01 and scs.read(ICER, 4) == 0x01
    assert scs.read(ISER + 0x10, 4) == 0                # beyond the implemented lines: RAZ


def test_ispr_icpr_pending_without_enable_is_not_taken():
    b = idle_core()
    scs = b.core.scs
    scs.write(ISPR, 4, 1 << 7)
    b.run_us(5)
    assert scs.read(ISPR, 4) == 1 << 7 and scs.read(ICPR, 4) == 1 << 7
    assert b.unexpected() == 0                          # disabled: stays pending, not taken
    icsr = scs.read(ICSR, 4)
    assert (icsr >> 12) & 0x1FF == 0 and not icsr & (1 << 22)   # VECTPENDING / ISRPENDING count enabled ones only
    scs.write(ICPR, 4, 1 << 7)
    assert scs.read(ISPR, 4) == 0
    scs.write(ISPR, 4, 1 << 7)
    scs.write(ISER, 4, 1 << 7)
    b.run_us(5)
    assert b.unexpected() == 16 + 7                     # enabled: taken at once (no handler in this program)


def test_ipr_bytes_keep_three_bits():
    scs = idle_core().core.scs
    scs.write(IPR + 3, 1, 0xFF)
    assert scs.read(IPR + 3, 1) == 0xE0
    assert scs.read(IPR, 4) == 0xE0000000
    scs.write(IPR + 4, 4, 0x12345678)
    assert scs.read(IPR + 4, 4) == 0x00204060
    assert scs.read(IPR + 5, 1) == 0x40
    scs.write(IPR + 6, 2, 0xFFFF)
    assert scs.read(IPR + 4, 4) == 0xE0E04060


def test_guest_byte_and_word_access_to_ipr_and_stir():
    body = f"""
reset:
 IRQ_PRIORITY 9, 0xFF
 ldrb r2, [r0]                    @ r0: the priority byte just written
 SAVE r2, 0
 LOAD_SAVE IPR2, 1
 ENABLE_IRQ 9
 WRITE STIR, 9
 dsb
 isb
 LOAD_SAVE {RESULTS + 12}, 2
done: b done
irq9:
 SAVE_SYSREG ipsr, 3
 LOAD_SAVE IABR0, 4
 bx lr
"""
    b = run_program(body, {16 + 9: "irq9"}, us=20)
    r = b.results(5)
    assert r[0] == 0xE0 and r[1] == 0x0000E000
    assert r[3] == 25 and r[2] == 25                    # STIR pended IRQ 9, taken before the next instruction
    assert r[4] == 1 << 9                               # IABR shows it active inside its handler
    assert b.scs(IABR) == 0                             # and inactive after return


def test_icsr_fields_in_thread_and_handlers():
    body = f"""
reset:
 cpsid i
 IRQ_PRIORITY 0, 0x40
 IRQ_PRIORITY 1, 0x20
 ENABLE_IRQ 0, 1
 WRITE ISPR0, 1
 LOAD_SAVE ICSR, 0
 cpsie i
done: b done
irq0:
 LOAD_SAVE ICSR, 1
 PEND_IRQ 1
 bx lr
irq1:
 LOAD_SAVE ICSR, 2
 bx lr
"""
    b = run_program(body, {16: "irq0", 17: "irq1"}, us=20)
    thread, in0, in1 = b.results(3)
    # Thread with IRQ0 pending behind PRIMASK: VECTACTIVE 0, VECTPENDING 16, ISRPENDING, RETTOBASE 1
    # (Cortex-M4: "no active exceptions").
    assert thread & 0x1FF == 0 and (thread >> 12) & 0x1FF == 16 and thread & (1 << 22) and thread & (1 << 11)
    # In IRQ0, the only active exception: RETTOBASE 1, nothing pending.
    assert in0 & 0x1FF == 16 and (in0 >> 12) & 0x1FF == 0 and in0 & (1 << 11) and not in0 & (1 << 22)
    # IRQ1 (priority 0x20) pre-empted IRQ0 (0x40): another exception is active, RETTOBASE 0.
    assert in1 & 0x1FF == 17 and not in1 & (1 << 11)


def test_icsr_pendsv_and_systick_set_clear():
    b = idle_core()
    scs = b.core.scs
    scs.write(ICSR, 4, (1 << 28) | (1 << 26))   # PENDSVSET, PENDSTSET
    icsr = scs.read(ICSR, 4)
    assert icsr & (1 << 28) and icsr & (1 << 26)
    assert (icsr >> 12) & 0x1FF == 14           # same priority 0: PendSV (14) before SysTick (15) by number
    scs.write(ICSR, 4, 1 << 27)                 # PENDSVCLR
    icsr = scs.read(ICSR, 4)
    assert not icsr & (1 << 28) and (icsr >> 12) & 0x1FF == 15
    scs.write(ICSR, 4, 1 << 25)                 # PENDSTCLR
    assert scs.read(ICSR, 4) & ((1 << 26) | (0x1FF << 12)) == 0


def test_aircr_needs_key_and_holds_prigroup():
    scs = idle_core().core.scs
    assert scs.read(AIRCR, 4) >> 16 == 0xFA05   # VECTKEYSTAT
    assert scs.read(AIRCR, 4) & (1 << 15) == 0  # little-endian
    scs.write(AIRCR, 4, 0x0000_0500)            # no key: ignored
    assert (scs.read(AIRCR, 4) >> 8) & 7 == 0
    scs.write(AIRCR, 4, 0x1234_0300)            # wrong key: ignored
    assert (scs.read(AIRCR, 4) >> 8) & 7 == 0
    scs.write(AIRCR, 4, 0x05FA_0300)
    assert (scs.read(AIRCR, 4) >> 8) & 7 == 3
    assert scs.read(AIRCR, 4) >> 16 == 0xFA05


def test_aircr_sysresetreq_resets_the_core():
    body = f"""
reset:
 COUNT 0
 cmp r1, #2
 bge done
 WRITE AIRCR, 0x05FA0004
 dsb
spin: b spin
done: b done
"""
    b = run_program(body, us=20)
    assert b.result(0) == 2                     # booted twice: SYSRESETREQ went through the reset vector
    assert b.core.pc in (b.label("done"), b.label("done") + 2)


def test_shpr_fields_keep_three_bits_and_reserved_bytes_read_zero():
    scs = idle_core().core.scs
    for reg in (SHPR1, SHPR2, SHPR3):
        scs.write(reg, 4, 0xFFFFFFFF)
    assert scs.read(SHPR1, 4) == 0x00E0E0E0     # MemManage, BusFault, UsageFault; byte 3 reserved
    assert scs.read(SHPR2, 4) == 0xE0000000     # SVCall only
    assert scs.read(SHPR3, 4) == 0xE0E000E0     # DebugMonitor, PendSV, SysTick; byte 1 reserved
    scs.write(SHPR3 + 2, 1, 0x45)               # byte access to PendSV's field
    assert scs.read(SHPR3, 4) == 0xE04000E0 and scs.read(SHPR3 + 2, 1) == 0x40


def test_shcsr_enable_and_active_bits():
    body = f"""
reset:
 WRITE SHCSR, 0x00070000
 LOAD_SAVE SHCSR, 0
 svc #1
done: b done
svc:
 LOAD_SAVE SHCSR, 1
 bx lr
"""
    b = run_program(body, {11: "svc"}, us=10)
    r = b.results(2)
    assert r[0] == 0x00070000                   # MEMFAULTENA, BUSFAULTENA, USGFAULTENA
    assert r[1] == 0x00070000 | (1 << 7)        # SVCALLACT while in the SVCall handler
    assert b.scs(SHCSR) == 0x00070000


def test_fixed_priorities_cannot_be_changed():
    b = idle_core()
    st = b.core.state
    st.set_priority(3, 0x00)
    st.set_priority(2, 0x00)
    assert st.get_priority(3) == -1 and st.get_priority(2) == -2 and st.get_priority(1) == -3


def test_vtor_relocation_and_runtime_vector_rewrite():
    # Apps copy the vector table to RAM, point VTOR at it and rewrite entries at run time (MT3620-FACTS "Loading").
    new_table = 0x00118000
    body = f"""
reset:
 COPY_VECTORS {new_table}
 WRITE VTOR, {new_table | 0x55}
 LOAD_SAVE VTOR, 0
 dsb
 isb
 ENABLE_IRQ 0
 PEND_IRQ 0
 ldr r0, ={new_table + 4 * 16}
 adr r1, second
 orr r1, r1, #1
 str r1, [r0]
 dsb
 PEND_IRQ 0
done: b done
 .align 2
first:
 SET_RESULT 1, 1
 bx lr
 .align 2
second:
 SET_RESULT 2, 2
 bx lr
"""
    b = run_program(body, {16: "first"}, us=30)
    r = b.results(3)
    assert r[0] == new_table                    # TBLOFF only: bits [6:0] are reserved, read as zero
    assert r[1] == 1 and r[2] == 2              # the copied entry, then the rewritten one
    assert b.scs(VTOR) == new_table
    b.core.reset()                              # reset restores VTOR to the reset value (the image's table)
    assert b.scs(VTOR) == TCM


def test_unmodelled_mpu_reads_zero():
    scs = idle_core().core.scs
    mpu = SystemControlSpace.offset
    assert scs.read(mpu("MPU_TYPE"), 4) == 0    # no MPU regions (emulator-defined: MPU not modelled)
    assert scs.read(mpu("MPU_RBAR"), 4) == 0
