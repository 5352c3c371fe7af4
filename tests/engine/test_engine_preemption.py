"""Pre-emption, priority grouping, masking, tail-chaining and late arrival on a bare IO core.

Rules: ARMv7-M Architecture Reference Manual (DDI 0403E) B1.5.4 (priority, grouping), B1.5.6-B1.5.8 (entry,
return, tail-chaining), B3.4 (NVIC). The MT3620 IO cores implement 3 priority bits (priority p is written p << 5).
Each handler appends to a log: IPSR on entry, IPSR | 0x100 on exit. RESULTS word 0 is the log length.
"""
import pytest

from m4_harness import RESULTS, Bare, run_program, scs_offset

LOG = RESULTS + 0x100


def logged(body: str) -> str:
    """Body plus `log_in` / `log_out` subroutines (preserve r0-r3 by pushing; r12 clobbered)."""
    return body + f"""
log_in:
 push {{r0, r1, r2}}
 mrs r0, ipsr
 b log_put
log_out:
 push {{r0, r1, r2}}
 mrs r0, ipsr
 orr r0, r0, #0x100
log_put:
 ldr r1, ={LOG}
 ldr r2, [r1]
 adds r2, #1
 str r2, [r1]
 str r0, [r1, r2, lsl #2]
 pop {{r0, r1, r2}}
 bx lr
"""


def log_of(bare: Bare) -> list[int]:
    n = bare.word(LOG)
    return bare.words(LOG + 4, n)


PLAIN_HANDLER = """
plain:
 push {lr}
 bl log_in
 bl log_out
 pop {pc}
"""


def nvic_setup(priorities: dict[int, int], pending: list[int] = ()) -> str:
    """IPR bytes of the interrupts, ISER for all of them, then ISPR for `pending` (m4_harness pseudo-instructions)."""
    lines = [f" IRQ_PRIORITY {irq}, {prio}" for irq, prio in priorities.items()]
    lines.append(f" ENABLE_IRQ {', '.join(map(str, priorities))}")
    return "\n".join(lines + ([pend(list(pending))] if pending else []))


def pend(irqs: list[int]) -> str:
    """Pend through ISPR, then DSB + ISB (m4_harness PEND_IRQ): without them a few more instructions may run first."""
    return f" PEND_IRQ {', '.join(map(str, irqs))}"


def test_pending_taken_by_priority_then_number():
    body = f"""
reset:
 cpsid i
{nvic_setup({0: 0x40, 1: 0x20, 2: 0x20, 3: 0x60, 4: 0x20}, pending=[0, 1, 2, 3, 4])}
 cpsie i
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {16 + i: "plain" for i in range(5)}, us=50)
    # group priority first (0x20 before 0x40 before 0x60), equal priorities by exception number; handlers of equal
    # priority do not pre-empt one another, so each runs to completion (tail-chained).
    assert log_of(b) == [17, 0x111, 18, 0x112, 20, 0x114, 16, 0x110, 19, 0x113]
    assert b.unexpected() == 0


def test_higher_priority_preempts_lower_waits():
    body = f"""
reset:
{nvic_setup({0: 0x40, 1: 0x20, 2: 0x60}, pending=[0])}
done: b done
irq0:
 push {{lr}}
 bl log_in
{pend([2])}
 nop
{pend([1])}
 nop
 bl log_out
 pop {{pc}}
""" + PLAIN_HANDLER
    b = run_program(logged(body), {16: "irq0", 17: "plain", 18: "plain"}, us=50)
    # IRQ1 (0x20) pre-empts IRQ0 (0x40) at once; IRQ2 (0x60) waits for IRQ0 to return.
    assert log_of(b) == [16, 17, 0x111, 0x110, 18, 0x112]


def _grouping_program(prigroup: int, irq0_priority: int = 0x20) -> str:
    return f"""
reset:
 WRITE AIRCR, {0x05FA0000 | prigroup << 8}
{nvic_setup({0: irq0_priority, 1: 0x00}, pending=[0])}
done: b done
irq0:
 push {{lr}}
 bl log_in
{pend([1])}
 nop
 nop
 bl log_out
 pop {{pc}}
""" + PLAIN_HANDLER


def test_subpriority_does_not_preempt():
    # PRIGROUP 5: group = priority bits [7:6], subpriority = bit 5. 0x20 and 0x00 are in the same group 0, so IRQ1
    # waits for IRQ0 even though its subpriority is higher (B1.5.4).
    b = run_program(logged(_grouping_program(5)), {16: "irq0", 17: "plain"}, us=50)
    assert log_of(b) == [16, 0x110, 17, 0x111]
    assert (b.scs("AIRCR") >> 8) & 7 == 5


def test_group_priority_preempts_with_prigroup_0():
    b = run_program(logged(_grouping_program(0)), {16: "irq0", 17: "plain"}, us=50)
    assert log_of(b) == [16, 17, 0x111, 0x110]


def test_subpriority_orders_pending_before_number():
    # Both in group 0 with PRIGROUP 5: among pending exceptions the lower subpriority wins, then the number.
    body = f"""
reset:
 cpsid i
 WRITE AIRCR, 0x05FA0500
{nvic_setup({0: 0x20, 1: 0x00}, pending=[0, 1])}
 cpsie i
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {16: "plain", 17: "plain"}, us=50)
    assert log_of(b) == [17, 0x111, 16, 0x110]


def test_basepri_masks_at_and_below_its_level_with_3_bits():
    body = f"""
reset:
{nvic_setup({0: 0x00, 1: 0x20, 2: 0x40})}
 movs r0, #0x20
 msr basepri, r0
{pend([0, 1, 2])}
 nop
 nop
 LOAD_SAVE {LOG}, 1
 movs r0, #0
 msr basepri, r0
 LOAD_SAVE {LOG}, 2
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {16: "plain", 17: "plain", 18: "plain"}, us=50)
    # BASEPRI 0x20 masks priorities >= 0x20: only IRQ0 (0x00) ran; dropping BASEPRI to 0 lets the others in at
    # once, before the next instruction (B1.5.4: execution priority; B5.2.3 MSR).
    assert b.result(1) == 2
    assert b.result(2) == 6
    assert log_of(b) == [16, 0x110, 17, 0x111, 18, 0x112]


def test_basepri_1_masks_nothing_with_3_priority_bits():
    # MT3620 IO cores implement priority bits [7:5]; BASEPRI bits [4:0] are not implemented, so BASEPRI = 1 is
    # BASEPRI = 0: no masking (samples write 1 meaning "block"; the hardware does not block).
    body = f"""
reset:
{nvic_setup({0: 0xE0})}
 movs r0, #1
 msr basepri, r0
{pend([0])}
 nop
 LOAD_SAVE {LOG}, 1
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {16: "plain"}, us=20)
    assert b.result(1) == 2
    assert log_of(b) == [16, 0x110]


def test_basepri_max_only_raises_priority():
    body = """
reset:
 movs r0, #0x40
 msr basepri, r0
 movs r0, #0x60
 msr basepri_max, r0
 mrs r1, basepri
 SAVE r1, 0
 movs r0, #0x20
 msr basepri_max, r0
 mrs r1, basepri
 SAVE r1, 1
done: b done
"""
    b = run_program(body, us=10)
    assert b.results(2) == [0x40, 0x20]


def test_primask_and_interrupt_taken_right_after_cpsie():
    body = f"""
reset:
 cpsid i
{nvic_setup({5: 0x80}, pending=[5])}
 nop
 nop
 nop
 LOAD_SAVE {LOG}, 1
 cpsie i
 LOAD_SAVE {LOG}, 2
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {21: "plain"}, us=20)
    # Masked while PRIMASK = 1; taken after CPSIE and before the next instruction.
    assert b.results(3)[1:] == [0, 2]


def test_interrupt_taken_right_after_msr_primask():
    body = f"""
reset:
 movs r0, #1
 msr primask, r0
{nvic_setup({5: 0x80}, pending=[5])}
 movs r0, #0
 msr primask, r0
 LOAD_SAVE {LOG}, 1
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {21: "plain"}, us=20)
    assert b.result(1) == 2


def test_faultmask_blocks_hardfault_priority_but_not_nmi():
    body = f"""
reset:
 cpsid f
{nvic_setup({0: 0x00}, pending=[0])}
 SET_PENDING nmi
 LOAD_SAVE {LOG}, 1
 cpsie f
 LOAD_SAVE {LOG}, 2
done: b done
""" + PLAIN_HANDLER
    b = run_program(logged(body), {2: "plain", 16: "plain"}, us=20)
    # FAULTMASK raises the execution priority to -1: IRQ0 (priority 0) waits, NMI (-2) is taken.
    assert b.result(1) == 2
    assert log_of(b) == [2, 0x102, 16, 0x110]


def test_faultmask_cleared_on_return_from_exception():
    # B1.5.8 ExceptionReturn -> DeActivate: FAULTMASK is cleared on return from any exception but NMI.
    body = f"""
reset:
{nvic_setup({0: 0x40}, pending=[0])}
 SAVE_SYSREG faultmask, 1
done: b done
irq0:
 cpsid f
 SAVE_SYSREG faultmask, 0
 bx lr
"""
    b = run_program(body, {16: "irq0"}, us=20)
    assert b.results(2) == [1, 0]


def test_tail_chaining_keeps_the_frame():
    # Two pending handlers of one priority: the second is entered on the first's return without unstacking and
    # restacking (B1.5.8 tail-chaining): same SP, same frame, EXC_RETURN still says "return to thread", and no
    # thread instruction runs between them.
    body = f"""
reset:
 cpsid i
{nvic_setup({0: 0x40, 1: 0x40}, pending=[0, 1])}
 movs r4, #0
 SAVE_SP 0
 cpsie i
spin:
 adds r4, #1
 b spin
irq0:
 SAVE_SP 1
 SAVE r4, 2
 SAVE_FRAME pc, 3
 ldr r0, =0x0DDBA11
 str r0, [sp, #16]
 bx lr
irq1:
 SAVE_SP 4
 SAVE r4, 5
 SAVE lr, 6
 SAVE_FRAME r12, 7
 SAVE_FRAME pc, 8
 bx lr
"""
    b = run_program(body, {16: "irq0", 17: "irq1"}, us=20)
    r = b.results(9)
    thread_sp = r[0]
    assert r[1] == thread_sp - 0x20 and r[4] == r[1]
    assert r[2] == r[5] == 0
    assert r[6] == 0xFFFFFFF9
    assert r[7] == 0x0DDBA11          # the frame IRQ0 edited is the frame IRQ1 sees
    assert r[8] == r[3] == b.label("spin")
    assert b.core.reg("r12") == 0x0DDBA11 and b.core.reg("sp") == thread_sp
    assert b.core.reg("r4") > 0


def test_late_arrival_higher_priority_taken_first_on_one_frame():
    # Two interrupts raised by models at the same virtual instant: the higher-priority one is entered first, the
    # other follows by tail-chaining; both return to thread (EXC_RETURN 0xFFFFFFF9) over one 8-word frame.
    body = f"""
reset:
{nvic_setup({0: 0x60, 1: 0x20})}
 SAVE_SP 0
spin:
 b spin
irq0:
 push {{lr}}
 bl log_in
 pop {{lr}}
 SAVE_SP 1
 SAVE lr, 2
 b out
irq1:
 push {{lr}}
 bl log_in
 pop {{lr}}
 SAVE_SP 3
 SAVE lr, 4
out:
 push {{lr}}
 bl log_out
 pop {{pc}}
"""
    b = run_program(logged(body), {16: "irq0", 17: "irq1"}, us=5)
    b.clock.schedule(1_000_000, lambda: b.core.set_irq(0, True), "irq0")
    b.clock.schedule(1_000_000, lambda: b.core.set_irq(1, True), "irq1")
    b.clock.schedule(1_000_001, lambda: (b.core.set_irq(0, False), b.core.set_irq(1, False)), "drop")
    b.run_us(10)
    assert log_of(b) == [17, 0x111, 16, 0x110]
    r = b.results(5)
    assert r[1] == r[3] == r[0] - 0x20
    assert r[2] == r[4] == 0xFFFFFFF9


def test_nested_exc_return_f1_and_stacked_frames():
    body = f"""
reset:
{nvic_setup({0: 0x40, 1: 0x20})}
 SAVE_SP 0
{pend([0])}
done: b done
irq0:
 SAVE lr, 1
 SAVE_SP 2
{pend([1])}
after_pend:
 bx lr
irq1:
 SAVE lr, 3
 SAVE_SP 4
 SAVE_FRAME pc, 5
 SAVE_FRAME xpsr, 6
 bx lr
"""
    b = run_program(body, {16: "irq0", 17: "irq1"}, us=20)
    r = b.results(7)
    assert r[1] == 0xFFFFFFF9 and r[3] == 0xFFFFFFF1
    assert r[2] == r[0] - 0x20 and r[4] == r[2] - 0x20
    assert r[5] == b.label("after_pend")        # pre-empted right after the ISPR store
    assert r[6] & 0x1FF == 16                   # stacked xPSR carries IPSR of the pre-empted handler
    assert r[6] & (1 << 24)                     # and the Thumb bit


def test_psp_thread_exc_return_fd():
    body = f"""
reset:
{nvic_setup({0: 0x40})}
 PSP_THREAD 0x00128000, 2
 SAVE_SP 0
 SAVE_SYSREG msp, 1
{pend([0])}
 SAVE_SP 6
 SAVE_SYSREG control, 7
done: b done
irq0:
 SAVE lr, 2
 SAVE_SP 3
 SAVE_SYSREG psp, 4
 SAVE_SYSREG control, 5
 bx lr
"""
    b = run_program(body, {16: "irq0"}, us=20)
    r = b.results(8)
    assert r[0] == 0x00128000 and r[1] == 0x00130000
    assert r[2] == 0xFFFFFFFD
    assert r[3] == 0x00130000                   # the handler runs on MSP, untouched by stacking
    assert r[4] == 0x00128000 - 0x20            # the frame went to the process stack
    assert r[5] & 2 == 0                        # SPSEL reads 0 in handler mode
    assert r[6] == 0x00128000 and r[7] & 2      # back on PSP


def test_stack_realignment_sets_xpsr_bit9():
    body = f"""
reset:
{nvic_setup({0: 0x40})}
 sub sp, #4
 SAVE_SP 0
{pend([0])}
 SAVE_SP 3
 add sp, #4
{pend([0])}
 SAVE_SP 4
done: b done
irq0:
 mov r0, sp
 ldr r1, [sp, #28]
 ldr r2, ={RESULTS + 0x20}
 ldr r3, [r2]
 add r12, r2, r3, lsl #3
 str r0, [r12, #4]
 str r1, [r12, #8]
 adds r3, #1
 str r3, [r2]
 bx lr
"""
    b = run_program(body, {16: "irq0"}, us=20)
    r = b.results(16)
    sp_misaligned = r[0]
    assert sp_misaligned % 8 == 4
    # CCR.STKALIGN = 1 at reset on the Cortex-M4: the frame is 8-byte aligned and xPSR bit 9 records the pad.
    first_sp, first_xpsr = r[9], r[10]
    assert first_sp == (sp_misaligned - 0x20) & ~7 and first_xpsr & (1 << 9)
    assert r[3] == sp_misaligned                # unstacking removed the pad
    second_sp, second_xpsr = r[11], r[12]
    assert second_sp == sp_misaligned + 4 - 0x20 and not second_xpsr & (1 << 9)
    assert r[4] == sp_misaligned + 4


def test_level_interrupt_held_high_is_taken_again_and_edge_while_active_repends():
    body = f"""
reset:
{nvic_setup({0: 0x40})}
done: b done
irq0:
 COUNT 0
 cmp r1, #3
 bne out
 WRITE ICER0, 1
out:
 bx lr
"""
    b = run_program(body, {16: "irq0"}, us=5)
    b.core.set_irq(0, True)            # held high: pending again after each return (B3.4.1) until disabled
    b.run_us(20)
    assert b.result(0) == 3
    assert b.scs("ISPR0") & 1          # still asserted: pending, but disabled now
    b.core.set_irq(0, False)
    b.core.scs.write(scs_offset("ICPR0"), 4, 1)   # with the line low: no longer pending
    assert not b.scs("ISPR0") & 1


def test_tail_chain_from_nested_handler_into_pending_that_preempts_the_returned_to_one():
    body = f"""
reset:
{nvic_setup({0: 0x60, 1: 0x20, 2: 0x20, 3: 0x40}, pending=[0])}
done: b done
irq0:
 push {{lr}}
 bl log_in
{pend([1])}
 bl log_out
 pop {{pc}}
irq1:
 push {{lr}}
 bl log_in
{pend([2, 3])}
 bl log_out
 pop {{lr}}
 SAVE lr, 1
 bx lr
irq2:
 push {{lr}}
 bl log_in
 bl log_out
 pop {{lr}}
 SAVE lr, 2
 bx lr
""" + PLAIN_HANDLER
    b = run_program(logged(body), {16: "irq0", 17: "irq1", 18: "irq2", 19: "plain"}, us=50)
    # IRQ2 (0x20, pended inside IRQ1 at 0x20) tail-chains when IRQ1 returns, because it pre-empts IRQ0 (0x60) that
    # IRQ1 returns to; IRQ3 (0x40) pre-empts IRQ0 as well, then IRQ0 finishes.
    assert log_of(b) == [16, 17, 0x111, 18, 0x112, 19, 0x113, 0x110]
    assert b.results(3)[1:] == [0xFFFFFFF1, 0xFFFFFFF1]


def test_pending_while_active_runs_again_after_return():
    body = f"""
reset:
{nvic_setup({0: 0x40}, pending=[0])}
 LOAD_SAVE {LOG}, 1
done: b done
irq0:
 push {{lr}}
 bl log_in
 ldr r0, ={LOG}
 ldr r0, [r0]
 cmp r0, #1
 bne skip
{pend([0])}
skip:
 bl log_out
 pop {{pc}}
"""
    b = run_program(logged(body), {16: "irq0"}, us=30)
    # Pending again while active: no self-pre-emption; taken again (tail-chained) after the return.
    assert log_of(b) == [16, 0x110, 16, 0x110]
    assert b.result(1) == 4


def test_prigroup_7_means_no_preemption_between_configurable_priorities():
    # PRIGROUP 7: no group bits at all, so 0xE0 and 0x00 share group 0 and never pre-empt each other; with
    # PRIGROUP 5 (group bits [7:6]) the same pair does.
    b = run_program(logged(_grouping_program(7, 0xE0)), {16: "irq0", 17: "plain"}, us=50)
    assert log_of(b) == [16, 0x110, 17, 0x111]
    b = run_program(logged(_grouping_program(5, 0xE0)), {16: "irq0", 17: "plain"}, us=50)
    assert log_of(b) == [16, 17, 0x111, 0x110]


def test_nmi_preempts_hardfault_and_svcall_pended_through_shcsr():
    body = f"""
reset:
 WRITE SHCSR, 0x00008000
 dsb
 isb
 udf #0
hardfault:
 push {{lr}}
 bl log_in
 SET_PENDING nmi
 bl log_out
hang: b hang
""" + PLAIN_HANDLER
    b = run_program(logged(body), {2: "plain", 3: "hardfault", 11: "plain"}, us=30)
    # SHCSR.SVCALLPENDED pends SVCall (taken at once); the UDF escalates to HardFault; NMI (-2) pre-empts it.
    assert log_of(b) == [11, 0x10B, 3, 2, 0x102, 0x103]


@pytest.mark.parametrize("written, read_back, execution_priority", [(0x3F, 0x20, 0x20), (0x01, 0x00, 256)])
def test_basepri_reads_back_only_implemented_bits(written, read_back, execution_priority):
    # MT3620-FACTS: with 3 priority bits BASEPRI bits [4:0] are RAZ/WI, so BASEPRI = 1 reads back 0 and masks
    # nothing (execution priority stays at thread level, 256 here).
    body = f"""
reset:
 movs r0, #{written}
 msr basepri, r0
 mrs r1, basepri
 SAVE r1, 0
done: b done
"""
    b = run_program(body, us=5)
    assert b.result(0) == read_back
    assert b.core.state.execution_priority(0, 0, b.core.reg("basepri")) == execution_priority


def test_interrupt_from_a_model_event_is_taken_at_its_virtual_time():
    body = f"""
reset:
{nvic_setup({0: 0x40})}
 movs r4, #0
loop:
 adds r4, #1
 b loop
irq0:
 SAVE r4, 0
 bx lr
"""
    b = Bare(body, {16: "irq0"})
    t = 100_000_000                                   # 100 us: 2600 cycles at 26 MHz
    b.clock.schedule_at(t, lambda: b.core.set_irq(0, True), "irq")
    b.run_until(t + 10_000_000)
    # The quantum ends at the event: the loop (2 instructions per turn) ran for 2600 cycles minus the setup.
    setup = b.label("loop") - b.label("reset")        # generous: at most one instruction per halfword
    assert 2600 - setup // 2 - 4 <= 2 * b.result(0) <= 2600


def test_return_to_thread_while_nested_is_invpc():
    # B1.5.8 ExceptionReturn: EXC_RETURN 0xFFFFFFF9 from a nested handler with CCR.NONBASETHRDENA = 0 is an INVPC
    # UsageFault (it does not resume thread code under the pre-empted handler).
    body = f"""
reset:
 WRITE SHCSR, 0x00040000
{nvic_setup({0: 0x60, 1: 0x40}, pending=[0])}
 SET_RESULT 2, 1
done: b done
irq0:
{pend([1])}
 bx lr
irq1:
 ldr r0, =0xFFFFFFF9
 bx r0
usagefault:
 SAVE_SYSREG ipsr, 0
 LOAD_SAVE CFSR, 1
 LOAD_SAVE IABR0, 3
hang: b hang
"""
    b = run_program(body, {6: "usagefault", 16: "irq0", 17: "irq1"}, us=30)
    r = b.results(4)
    assert r[0] == 6 and r[1] & (1 << 18) and r[2] == 0
    assert r[3] & 3 == 3                  # taken from IRQ1 itself: IRQ0 and IRQ1 still active (no thread code ran)
