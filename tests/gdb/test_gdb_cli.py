"""`mt3620 run` GDB options: ports per core, the A7's port (open when a high-level app runs), --gdb-wait, the virtual
time limit, and one-line errors."""
from __future__ import annotations

import socket
import subprocess

import pytest

from mt3620.cli import UserError, build_parser
from mt3620.cli.gdb_options import DEBUG_DURATION, parse_ports
from mt3620.engine.machine import Machine

from gdb_helpers import MT3620


def parse(*argv: str):
    return build_parser().parse_args(["run", *argv])


@pytest.fixture(scope="module")
def machine(gdb_target_elf):
    m = Machine()
    m.load("io0", gdb_target_elf)
    return m


def test_gdb_opens_a_port_per_core_with_an_app(machine):
    args = parse("--rt0", "x.elf", "--gdb")
    assert parse_ports(args, machine) == {"io0": 3334}
    args = parse("--rt0", "x.elf", "--gdb-port", "rt0=0")
    assert parse_ports(args, machine) == {"io0": 0}
    with pytest.raises(UserError, match=r"a7 has no app loaded \(give --hl APP.imagepackage\)"):
        parse_ports(parse("--rt0", "x.elf", "--gdb-port", "a7=4000"), machine)


def test_the_a7_port_opens_for_a_high_level_app(gdb_target_elf):
    from gdb_helpers import a7_program
    from mt3620.sphere_os.apps import SphereOs
    _, package = a7_program("gdb_app")
    m = Machine()
    m.load("io0", gdb_target_elf)
    SphereOs.of(m).launch(package)
    assert parse_ports(parse("--hl", "x", "--rt0", "x.elf", "--gdb"), m) == {"a7": 3333, "io0": 3334}
    assert parse_ports(parse("--hl", "x", "--gdb-port", "cortex-a7=0"), m) == {"a7": 0}


@pytest.mark.parametrize("spec, message", [
    ("io0", "expected CORE=PORT"), ("io0=abc", "not a port number"), ("io0=70000", "ports are 0 to 65535"),
    ("io7=1", "no core named 'io7'"), ("io1=3335", "io1 has no app loaded"),
])
def test_bad_port_specs_are_user_errors(machine, spec, message):
    with pytest.raises(UserError, match=message):
        parse_ports(parse("--rt0", "x.elf", "--gdb-port", spec), machine)


def test_a_debug_session_lifts_the_default_time_limit_but_for_wins():
    assert parse("--rt0", "x", "--gdb").duration == DEBUG_DURATION
    assert parse("--rt0", "x", "--gdb-port", "io0=0").duration == DEBUG_DURATION
    assert parse("--rt0", "x", "--gdb", "--for", "2s").duration == "2s"
    assert parse("--rt0", "x", "--for", "2s", "--gdb").duration == "2s"
    assert parse("--rt0", "x").duration is None
    args = parse("--rt0", "x", "--gdb", "--gdb-wait", "--gdb-mask-step-irqs")
    assert args.gdb and args.gdb_wait and args.gdb_mask_step_irqs


def _run(*argv: str) -> subprocess.CompletedProcess:
    return subprocess.run([*MT3620, "run", *argv], capture_output=True, text=True,
                          timeout=60)


def test_cli_errors_are_one_line(gdb_target_elf):
    out = _run("--rt0", str(gdb_target_elf), "--gdb-port", "io0=abc")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == "mt3620: error: --gdb-port io0=abc: 'abc' is not a port number"
    out = _run("--rt0", str(gdb_target_elf), "--gdb-port", "a7=3333")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert out.stderr.strip().splitlines()[-1] == ("mt3620: error: --gdb-port: a7 has no app loaded "
                                                   "(give --hl APP.imagepackage)")
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen(1)
        port = taken.getsockname()[1]
        out = _run("--rt0", str(gdb_target_elf), "--gdb-port", f"io0={port}", "--for", "1ms")
    assert out.returncode == 2 and "Traceback" not in out.stderr
    assert f"io0: cannot listen on 127.0.0.1:{port}" in out.stderr


def test_without_a_debugger_the_run_is_unchanged(gdb_target_elf):
    """--gdb without --gdb-wait: nobody attaches, the firmware runs as usual and --until ends the run."""
    out = _run("--rt0", str(gdb_target_elf), "--gdb-port", "io0=0", "--until", "busy")
    assert out.returncode == 0, out.stderr
    assert "gdb_target: busy" in out.stdout and "listening on 127.0.0.1:" in out.stderr


def test_server_binds_loopback_only(machine):
    from mt3620.engine.gdb import GdbServer, GdbServerError
    with pytest.raises(GdbServerError, match="loopback only"):
        GdbServer(machine, {"io0": 0}, host="0.0.0.0")
    server = GdbServer(machine, {"io0": 0})
    try:
        host, port = server.listeners["io0"].getsockname()
        assert host == "127.0.0.1" and port > 0
    finally:
        server.close()
    assert server._hook not in machine.between_windows and machine.cores["io0"].bkpt_handler is None
