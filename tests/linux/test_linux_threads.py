"""Threads and futexes on the A7: pthread mutexes, condition variables and a timed wait, scheduled
deterministically on virtual time."""


def test_mutex_counter_join_results_and_tls(run_program):
    dev, app, lines = run_program("threads")
    assert app.exit_code == 0
    assert "counter 4000 results 100 tls 0" in lines     # 4 x 1000 increments; results 10+20+30+40; main's TLS 0


def test_condition_variable_handoff_and_timed_wait_on_virtual_time(run_program):
    dev, app, lines = run_program("threads")
    assert "handoff done" in lines
    # pthread_cond_timedwait on CLOCK_REALTIME: the futex wait times out at its virtual deadline, not earlier.
    timed = next(line for line in lines if line.startswith("timedwait"))
    assert timed.startswith("timedwait ETIMEDOUT after 25")
    assert "tid differs from pid: 1" in lines       # main thread: tid == pid


def test_thread_interleaving_is_deterministic(run_program):
    first = run_program("threads")
    second = run_program("threads")
    assert first[2] == second[2]
    assert first[0].machine.a7.instructions == second[0].machine.a7.instructions
    assert first[0].now == second[0].now
