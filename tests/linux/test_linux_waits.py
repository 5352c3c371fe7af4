"""Blocking calls park the A7 and wake on virtual time or on another thread: epoll + timerfd, eventfd, poll,
select, nanosleep. An idle app costs instructions only when it runs."""


def test_epoll_on_a_periodic_timerfd_ticks_every_100ms_of_virtual_time(run_program):
    dev, app, lines = run_program("waits")
    assert app.exit_code == 0, lines
    ticks = [line for line in lines if line.startswith("tick")]
    assert ticks == [f"tick {i} n=1 data=1122334455667788 expirations=1 at {100 * (i + 1)} ms" for i in range(5)]


def test_eventfd_poll_select_timeouts(run_program):
    dev, app, lines = run_program("waits")
    assert "eventfd 5 after 30 ms" in lines        # read blocked until the other thread wrote after its sleep
    assert "poll 0 after 40 ms" in lines            # nothing readable: the time-out, to the millisecond
    assert "select 0 after 60 ms" in lines
    assert "timer interval 100 ms" in lines


def test_waiting_advances_virtual_time_without_running_instructions(run_program):
    dev, app, lines = run_program("waits")
    # 500 ms of ticks + 130 ms of time-outs passed; the A7 ran only the app's own code (well under a million
    # instructions, where spinning for 630 ms at 500 MHz would be 315 million).
    assert dev.now >= 630 * 10**9
    assert dev.machine.a7.instructions < 1_000_000
