"""FP exception frames, SVC, PendSV and the fault model (escalation, lockup) of an IO core.

Rules: ARMv7-M ARM (DDI 0403E) B1.5.6-B1.5.8 (26-word frames, EXC_RETURN 0xFFFFFFE1/E9/ED), B1.5.14-B1.5.16
(fault escalation, HFSR.FORCED, lockup), B3.2.15 (CFSR), A7.7.175 (SVC).
"""
import struct

from m4_harness import RESULTS, Bare, run_program, run_to_fault, scs_offset

SHCSR, CFSR, HFSR, BFAR, ICSR = (scs_offset(n) for n in ("SHCSR", "CFSR", "HFSR", "BFAR", "ICSR"))
S_VALUES = [0x3F800000 + 0x10000 * i for i in range(16)]
FPSCR_VALUE = 0x03C0009F          # AHP, DN, FZ, RMode = 3 and the cumulative flags


def _fp_program(use_psp: bool) -> str:
    loads = "\n".join(f" ldr r0, =0x{v:08x}\n vmov s{i}, r0" for i, v in enumerate(S_VALUES))
    psp = """
 PSP_THREAD 0x00128000, 2
""" if use_psp else ""
    return f"""
reset:
{psp}
{loads}
 ldr r0, ={FPSCR_VALUE}
 vmsr fpscr, r0
 mov r5, sp
 SAVE r5, 0
 ENABLE_IRQ 0
 PEND_IRQ 0
 vmrs r0, fpscr
 SAVE r0, 1
 SAVE_SYSREG control, 2
 ldr r1, ={RESULTS + 0x40}
 vstmia r1, {{s0-s15}}
 mov r5, sp
 SAVE r5, 3
done: b done
irq0:
 SAVE lr, 4
 SAVE_SP 5
 SAVE_SYSREG control, 6
 vmov.f32 s0, #-2.0
 vmov.f32 s15, #-2.0
 vadd.f32 s1, s0, s15
 vmov s7, r0
 movs r0, #0
 vmsr fpscr, r0
 mrs r1, psp
 mrs r2, msp
 SAVE r1, 7
 SAVE r2, 8
 bx lr
"""


def _check_fp_frame(b: Bare, exc_return: int, frame_sp_index: int) -> None:
    r = b.results(9)
    thread_sp = r[0]
    assert r[4] == exc_return
    frame = r[frame_sp_index]
    assert frame == (thread_sp - 0x68) & ~7             # 26-word frame (8 core + 16 S + FPSCR + reserved)
    stacked = b.words(frame, 26)
    assert stacked[8:24] == S_VALUES and stacked[24] == FPSCR_VALUE
    assert r[6] & 4 == 0                                # CONTROL.FPCA clear on entry
    # S0-S15 and FPSCR clobbered by the handler are back after the return; FPCA set again.
    assert struct.unpack("<16I", b.view.read(RESULTS + 0x40, 64)) == tuple(S_VALUES)
    assert r[1] == FPSCR_VALUE
    assert r[2] & 4
    assert r[3] == thread_sp


def test_fp_frame_msp_thread_e9():
    b = run_program(_fp_program(False), {16: "irq0"}, us=30)
    _check_fp_frame(b, 0xFFFFFFE9, 5)


def test_fp_frame_psp_thread_ed():
    b = run_program(_fp_program(True), {16: "irq0"}, us=30)
    _check_fp_frame(b, 0xFFFFFFED, 7)
    assert b.result(8) == 0x00130000                    # main stack untouched


def test_fp_frame_nested_handler_e1():
    body = f"""
reset:
 WRITE IPR0, 0x00002040
 ENABLE_IRQ 0, 1
 PEND_IRQ 0
 vmov s0, r0
 SAVE r0, 9
done: b done
irq0:
 ldr r0, =0x40490FDB
 vmov s3, r0
 PEND_IRQ 1
 vmov r0, s3
 SAVE r0, 2
 SAVE lr, 3
 bx lr
irq1:
 SAVE lr, 0
 SAVE_SP 1
 vmov.f32 s3, #1.0
 bx lr
"""
    b = run_program(body, {16: "irq0", 17: "irq1"}, us=30)
    r = b.results(4)
    assert r[3] == 0xFFFFFFF9                           # thread had not used FP: basic frame for IRQ0
    assert r[0] == 0xFFFFFFE1                           # IRQ0 used FP, then was pre-empted: FP frame, handler
    assert r[2] == 0x40490FDB                           # S3 preserved across the nested handler
    assert b.words(r[1], 26)[8 + 3] == 0x40490FDB


def test_svc_immediate_from_stacked_pc_and_return_value():
    body = """
reset:
 movs r0, #7
 svc #42
after_svc:
 SAVE r0, 0
 svc #0xAB
 SAVE r0, 1
done: b done
svc_handler:
 ldr r1, [sp, #24]
 ldrb r2, [r1, #-2]
 ldr r3, [sp]
 add r3, r3, r2
 str r3, [sp]
 bx lr
"""
    b = run_program(body, {11: "svc_handler"}, us=10)
    # The stacked PC is the instruction after SVC; its immediate is the low byte of the halfword before it.
    assert b.results(2) == [7 + 42, 7 + 42 + 0xAB]


def test_svc_with_primask_set_escalates_to_hardfault():
    b = run_to_fault("cpsid i\n svc #3")
    assert b.core.state.active == [3]
    assert b.scs(HFSR) & (1 << 30)                      # FORCED: SVCall could not be taken
    assert b.result(0) == b.label("faulting") + 4       # return address: after the SVC


def test_svc_in_higher_priority_handler_escalates():
    body = f"""
reset:
 WRITE SHPR2, 0x80000000
 ENABLE_IRQ 0
 PEND_IRQ 0
done: b done
irq0:
 svc #0
 bx lr
hardfault:
 SAVE_SYSREG ipsr, 0
hang: b hang
"""
    b = run_program(body, {3: "hardfault", 16: "irq0"}, us=10)
    # IRQ0 runs at priority 0; SVCall at 0x80 cannot pre-empt it: escalation to HardFault (B1.5.15).
    assert b.result(0) == 3 and b.scs(HFSR) & (1 << 30)


def test_pendsv_runs_after_the_interrupt_that_pended_it():
    body = f"""
reset:
 WRITE SHPR3, 0x00E00000
 ENABLE_IRQ 0
 PEND_IRQ 0
 SAVE r4, 3
done: b done
irq0:
 SET_PENDING pendsv
 LOAD_SAVE ICSR, 0
 movs r4, #1
 SAVE r4, 1
 bx lr
pendsv:
 SAVE r4, 2
 movs r4, #2
 LOAD_SAVE ICSR, 4
 bx lr
"""
    b = run_program(body, {14: "pendsv", 16: "irq0"}, us=20)
    r = b.results(5)
    assert r[0] & (1 << 28) and (r[0] >> 12) & 0x1FF == 14     # PENDSVSET reads 1, PendSV is VECTPENDING
    # PendSV (0xE0) did not pre-empt IRQ0 (0x00): it saw IRQ0's last write of r4, and ran before the thread
    # resumed (the thread's next instruction saw PendSV's r4).
    assert r[1] == 1 and r[2] == 1 and r[3] == 2
    assert r[4] & 0x1FF == 14 and not r[4] & (1 << 28)


def test_bus_fault_disabled_escalates_to_hardfault_forced():
    b = run_to_fault("ldr r1, =0x40000000\nload: ldr r0, [r1]")
    assert b.result(0) == b.label("load")            # precise: the stacked PC is the faulting load
    assert b.scs(HFSR) & (1 << 30)
    cfsr = b.scs(CFSR)
    assert cfsr & (1 << 9) and cfsr & (1 << 15)      # BFSR.PRECISERR, BFARVALID
    assert b.scs(BFAR) == 0x40000000
    b.core.scs.write(CFSR, 4, 0xFFFFFFFF)            # W1C
    b.core.scs.write(HFSR, 4, 0xFFFFFFFF)
    assert b.scs(CFSR) == 0 and b.scs(HFSR) == 0


def test_bus_fault_enabled_is_taken_as_busfault():
    body = f"""
reset:
 WRITE SHCSR, 0x00020000
 ldr r1, =0x40000000
load:
 str r0, [r1]
after:
 SAVE r0, 1
done: b done
busfault:
 SKIP_FAULTING 0
"""
    b = run_program(body, {5: "busfault"}, us=10)
    assert b.result(0) == b.label("load")
    assert b.core.pc in (b.label("done"), b.label("done") + 2)   # resumed after the skipped store
    assert not b.scs(HFSR) & (1 << 30)


def test_undefined_instruction_usagefault_undefinstr():
    body = f"""
reset:
 WRITE SHCSR, 0x00040000
bad:
 udf #7
 SET_RESULT 1, 5
done: b done
usagefault:
 SKIP_FAULTING 0
"""
    b = run_program(body, {6: "usagefault"}, us=10)
    assert b.result(0) == b.label("bad") and b.result(1) == 5
    assert b.scs(CFSR) & (1 << 16)                   # UFSR.UNDEFINSTR
    assert b.unexpected() == 0


def test_undefined_instruction_without_usagefault_enable_goes_to_hardfault():
    b = run_to_fault("udf #7")
    assert b.result(0) == b.label("faulting")
    assert b.scs(HFSR) & (1 << 30) and b.scs(CFSR) & (1 << 16)


def test_fault_in_hardfault_is_lockup_reported_as_guest_fault():
    body = """
reset:
 ldr r1, =0x40000000
 ldr r0, [r1]
hardfault:
 ldr r1, =0x50000000
second:
 ldr r0, [r1]
hang: b hang
"""
    b = run_program(body, {3: "hardfault"}, us=10)
    fault = b.core.locked_up
    assert fault is not None and "lockup" in fault.kind
    assert fault.pc == b.label("second") and fault.address == 0x50000000
    assert b.faults == [fault]
    t = b.core.time
    b.run_us(10)                                     # a locked-up core executes nothing more
    assert b.core.pc == b.label("second") and b.faults == [fault] and b.core.time >= t


def test_stop_on_fault_reports_the_first_fault():
    body = """
reset:
 ldr r1, =0x40000000
load:
 ldr r0, [r1]
hang: b hang
"""
    b = run_program(body, stop_on_fault=True, us=10)
    assert len(b.faults) == 1
    assert b.faults[0].kind == "BusFault" and b.faults[0].pc == b.label("load")
    assert b.faults[0].address == 0x40000000


def test_invalid_exc_return_is_usagefault_invpc():
    body = f"""
reset:
 WRITE SHCSR, 0x00040000
 IRQ_PRIORITY 0, 0x40
 ENABLE_IRQ 0
 PEND_IRQ 0
done: b done
irq0:
 ldr r0, =0xFFFFFFF5
 bx r0
usagefault:
 SAVE_FRAME pc, 0
 SAVE_SYSREG ipsr, 1
hang: b hang
"""
    b = run_program(body, {6: "usagefault", 16: "irq0"}, us=20)
    # B1.5.8: an EXC_RETURN with a reserved form is an INVPC UsageFault, taken from the returning handler
    # (IRQ0 at 0x40, so UsageFault at 0 pre-empts it rather than escalating).
    assert b.scs(CFSR) & (1 << 18)
    assert b.result(1) == 6
    assert b.core.state.active == [16, 6]


def test_vector_with_thumb_bit_clear_is_invstate_hardfault():
    body = f"""
reset:
 ENABLE_IRQ 0
 ldr r0, ={0x00100000 + 4 * 16}
 ldr r1, [r0]
 bic r1, r1, #1
 str r1, [r0]
 dsb
 PEND_IRQ 0
done: b done
irq0:
 bx lr
hardfault:
 SAVE_SYSREG ipsr, 0
hang: b hang
"""
    b = run_program(body, {3: "hardfault", 16: "irq0"}, us=20)
    # Executing a handler with EPSR.T = 0 is an INVSTATE UsageFault; disabled, it escalates to HardFault.
    assert b.result(0) == 3
    assert b.scs(CFSR) & (1 << 17) and b.scs(HFSR) & (1 << 30)


def test_enabled_fault_below_current_priority_escalates():
    body = f"""
reset:
 WRITE SHCSR, 0x00040000
 WRITE SHPR1, 0x00400000
 ENABLE_IRQ 0
 PEND_IRQ 0
done: b done
irq0:
 udf #0
usagefault:
 SET_RESULT 0, 6
hang6: b hang6
hardfault:
 SET_RESULT 0, 3
hang3: b hang3
"""
    b = run_program(body, {3: "hardfault", 6: "usagefault", 16: "irq0"}, us=20)
    # UsageFault is enabled but at priority 0x40, below IRQ0's 0x00: it escalates to HardFault (B1.5.15).
    assert b.result(0) == 3 and b.scs(HFSR) & (1 << 30) and b.scs(CFSR) & (1 << 16)


def test_stacking_on_a_bad_process_stack_faults_on_the_main_stack():
    # B1.5.6/B1.5.15: a bus error while stacking (STKERR) is a BusFault (escalated to HardFault when disabled),
    # taken on the main stack; it is not a lockup, so an RTOS can recover from a corrupt task stack.
    body = f"""
reset:
 ENABLE_IRQ 0
 PSP_THREAD 0x40001000, 2
 PEND_IRQ 0
done: b done
irq0:
 bx lr
hardfault:
 SAVE lr, 0
 SAVE_SYSREG ipsr, 1
hang: b hang
"""
    b = run_program(body, {3: "hardfault", 16: "irq0"}, us=20)
    assert b.core.locked_up is None
    assert b.result(1) == 3
    assert b.scs(CFSR) & (1 << 12) and b.scs(HFSR) & (1 << 30)    # BFSR.STKERR, forced


def test_unprivileged_thread_svc_raises_privilege():
    # The RTOS pattern: an unprivileged PSP thread asks for privilege through SVC; CONTROL.nPRIV survives entry
    # and return, CPSID is ignored while unprivileged (B1.4.4, B5.2.1).
    body = """
reset:
 PSP_THREAD 0x00128000, 3
 cpsid i
 SAVE_SYSREG primask, 0
 svc #0
 SAVE_SYSREG control, 2
 cpsid i
 SAVE_SYSREG primask, 3
done: b done
svc_handler:
 SAVE_SYSREG control, 1
 movs r0, #0
 msr control, r0
 bx lr
"""
    b = run_program(body, {11: "svc_handler"}, us=10)
    r = b.results(4)
    assert r[0] == 0                      # CPSID ignored while unprivileged
    assert r[1] == 1                      # in the handler: nPRIV still 1, SPSEL reads 0
    assert r[2] == 2                      # back on PSP (from EXC_RETURN), now privileged
    assert r[3] == 1


def test_bkpt_without_debugger_is_hardfault_debugevt():
    b = run_to_fault("bkpt #1")
    assert b.result(0) == b.label("faulting")
    assert b.scs(HFSR) & (1 << 31)        # DEBUGEVT


def test_scb_reset_values():
    b = Bare("reset:\n b reset\n")
    assert b.scs("CCR") == 0x200          # STKALIGN set on the Cortex-M4
    assert b.scs("AIRCR") == 0xFA050000   # PRIGROUP 0, little-endian
    assert b.scs(ICSR) == 0x800           # nothing active or pending; RETTOBASE
    assert b.scs("FPCCR") == 0xC0000000   # ASPEN, LSPEN
    for name in ("SHPR1", "SHPR2", "SHPR3", "SHCSR", "CFSR", "HFSR", "SCR"):
        assert b.scs(name) == 0, name
    assert b.core.reg("control") == 0 and b.core.reg("sp") == 0x00130000


def test_unprivileged_psp_thread_interrupted_stays_unprivileged_on_psp():
    body = f"""
reset:
 ENABLE_IRQ 0
 PSP_THREAD 0x00128000, 3
 movs r4, #0
spin:
 adds r4, #1
 cmp r4, #200
 bne spin
 SAVE_SP 3
 SAVE_SYSREG control, 4
 cpsid i
 SAVE_SYSREG primask, 5
done: b done
irq0:
 SAVE_SYSREG psp, 0
 SAVE_SYSREG msp, 1
 SAVE lr, 2
 bx lr
"""
    b = run_program(body, {16: "irq0"}, us=2)
    b.core.set_irq(0, True)
    b.core.set_irq(0, False)
    b.run_us(30)
    r = b.results(6)
    assert r[0] == 0x00128000 - 0x20 and r[1] == 0x00130000 and r[2] == 0xFFFFFFFD
    assert r[3] == 0x00128000 and r[4] == 3      # back on PSP, still unprivileged
    assert r[5] == 0                             # so CPSID is still ignored


def test_debugger_view_of_stack_pointers_in_unprivileged_thread():
    body = """
reset:
 PSP_THREAD 0x00128000, 3
spin:
 adds r4, #1
 b spin
"""
    b = run_program(body, us=5)
    core = b.core
    assert core.reg("control") == 3
    assert core.reg("msp") == 0x00130000 and core.reg("psp") == 0x00128000 and core.reg("sp") == 0x00128000
    assert core.reg("control") == 3                      # reading left the guest unprivileged
    core.set_reg("msp", 0x0012F000)
    core.set_reg("psp", 0x00127000)
    assert core.reg("msp") == 0x0012F000 and core.reg("sp") == 0x00127000 and core.reg("control") == 3
    core.set_reg("control", 2)                           # a debugger may drop nPRIV
    assert core.reg("control") == 2 and core.reg("sp") == 0x00127000
    b.run_us(5)
    assert core.reg("r4") > 0 and core.reg("sp") == 0x00127000


def test_vector_read_bus_error_is_hardfault_vecttbl():
    # B1.5.15 / Cortex-M4: a bus error reading an exception's vector is a HardFault with HFSR.VECTTBL, taken on the
    # frame already stacked; only a failing HardFault vector locks up.
    table = 0x0012FE00                                   # vectors from IRQ 112 on fall past the end of TCM
    body = f"""
reset:
 ldr r0, =0x0012F000
 mov sp, r0
 COPY_VECTORS {table}
 WRITE VTOR, {table}
 dsb
 isb
 ENABLE_IRQ 112
 PEND_IRQ 112
after:
 b after
hardfault:
 SAVE_FRAME pc, 0
 SAVE_SYSREG ipsr, 1
hang: b hang
"""
    b = run_program(body, {3: "hardfault"}, us=30)
    assert b.core.locked_up is None
    assert b.results(2) == [b.label("after"), 3]
    assert b.scs(HFSR) & (1 << 1)                        # VECTTBL
    assert 16 + 112 not in b.core.state.active


def test_fault_inside_an_it_block_resumes_with_its_itstate():
    # The stacked xPSR carries ITSTATE (B1.5.6); returning re-executes the faulting instruction under its own
    # condition and the rest of the IT block under theirs.
    body = f"""
reset:
 WRITE SHCSR, 0x00020000
 ldr r0, =0x40000000
 movs r2, #0
 movs r3, #0
 cmp r2, #0
 itte eq
load:
 ldreq r1, [r0]
 addeq r2, #1
 addne r3, #1
 SAVE r1, 1
 SAVE r2, 2
 SAVE r3, 3
done: b done
busfault:
 SAVE_FRAME xpsr, 0
 SAVE_FRAME pc, 4
 ldr r0, ={RESULTS + 0x40}
 ldr r1, =0x5A5A
 str r1, [r0]
 str r0, [sp]
 bx lr
"""
    b = run_program(body, {5: "busfault"}, us=20)
    xpsr, loaded, r2, r3, pc = b.results(5)
    assert pc == b.label("load")
    assert xpsr & 0x0600FC00                             # ITSTATE was live when the load faulted
    assert (loaded, r2, r3) == (0x5A5A, 1, 0)
