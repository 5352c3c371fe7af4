"""Signals on the A7: handlers entered through a real sigframe and left through sigreturn, blocked signals held
pending, a SIGSEGV from a guest fault handled by the app itself on an alternate stack."""


def test_handler_sigreturn_restores_the_interrupted_code(run_program):
    dev, app, lines = run_program("signals")
    assert app.exit_code == 0, lines
    # SI_TKILL (-6): musl's raise() uses tkill; the VFP register the caller kept survives the handler.
    assert "handler got 10 code -6 keep 2.50" in lines
    assert "plain handler got 112" in lines           # a handler without SA_SIGINFO (sigreturn, not rt_sigreturn)


def test_blocked_signal_stays_pending_until_unblocked(run_program):
    dev, app, lines = run_program("signals")
    assert "blocked: got 0 pending 1" in lines
    assert "unblocked: got 10" in lines


def test_segv_from_a_guest_fault_reaches_the_apps_handler_on_its_altstack(run_program):
    dev, app, lines = run_program("signals")
    assert "recovered from SIGSEGV at 0x1234 on altstack 1" in lines
    assert app.crash is None and dev.machine.faults == []
