"""The Linux personality's sockets without a network: loopback TCP/UDP between threads, socketpair, options,
time-outs on virtual time, and the errno of each misuse (tests/network/programs/sockets.c)."""
from __future__ import annotations

from net_programs import build, pack


def test_loopback_sockets_behave_like_linux(sysroot, boot):
    dev = boot(hl=pack("sockets", build("sockets")))
    assert dev.wait_for_exit(timeout="10s") == 0
    lines = dev.lines("a7.sockets")
    failures = [line for line in lines if "FAIL" in line]
    assert not failures, "\n".join(lines)
    assert "echo: hello over loopback" in lines and lines[-1] == "done"
    assert any(line.startswith("client 127.0.0.1:32769 -> 127.0.0.1:32768") for line in lines)
    assert "waited 200 ms" in lines
