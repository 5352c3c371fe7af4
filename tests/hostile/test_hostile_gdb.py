"""The A7's GDB server (port 3333 in `mt3620 run --hl --gdb`) fed malformed packets over loopback: seeded
random commands with nonsense numbers (negative, past 32 bits, not hex), bad separators, escapes and binary
payloads, plus raw garbage that breaks the framing. The server answers every packet (an error, an empty reply or
a stop), never logs a Python error, and the machine and the app go on."""
import logging
import random
import socket

import pytest

import gdb_helpers
from a7_guest import Errors
from gdb_helpers import RspClient, ServedMachine

HEX = [b"", b"0", b"1", b"ffffffff", b"100000000", b"ffffffffffffffffffff", b"-1", b"zz", b"7fffffff", b"10",
       b"400000", b"bf000000", b"ffff0000", b"40000000", b"g", b" ", b"8" * 40, b"+1", b"0x10", b"1_0"]
XFER_OBJECTS = [b"features", b"auxv", b"exec-file", b"libraries-svr4", b"threads", b"memory-map", b"siginfo",
                b"nope", b""]
QUERIES = [b"qSupported:", b"qAttached:", b"qThreadExtraInfo,", b"qGetTLSAddr:", b"qL", b"qP", b"qCRC:",
           b"qSearch:memory:", b"QPassSignals:", b"QProgramSignals:", b"QNonStop:", b"qMemTags:", b"qfThreadInfo",
           b"qsThreadInfo", b"qC", b"qOffsets", b"qSymbol:", b"QThreadEvents:", b"QCatchSyscalls:1;"]


def _hex(rng):
    return rng.choice(HEX) if rng.random() < 0.8 else b"%x" % rng.getrandbits(rng.choice([8, 32, 64]))


def _escape(data: bytes) -> bytes:
    return b"".join(bytes([0x7D, c ^ 0x20]) if c in b"#$}*" else bytes([c]) for c in data)


def random_packet(rng: random.Random) -> bytes:
    """One command; resumes are single steps only (a continue would run the app to the end of the test)."""
    sep = rng.choice([b",", b":", b";", b"", b",,"])
    blob = bytes(rng.getrandbits(8) for _ in range(rng.randrange(40)))
    kind = rng.randrange(18)
    packet = [
        lambda: b"m" + _hex(rng) + sep + _hex(rng),
        lambda: b"M" + _hex(rng) + sep + _hex(rng) + b":" + _hex(rng),
        lambda: b"X" + _hex(rng) + sep + _hex(rng) + b":" + blob,
        lambda: b"p" + _hex(rng),
        lambda: b"P" + _hex(rng) + rng.choice([b"=", b""]) + _hex(rng),
        lambda: b"G" + _hex(rng) * rng.randrange(4),
        lambda: rng.choice([b"Z", b"z"]) + rng.choice([b"0", b"1", b"2", b"3", b"4", b"5", b""]) + sep + _hex(rng)
        + sep + _hex(rng) + rng.choice([b"", b";X1,0", b";cmds:0"]),
        lambda: b"H" + rng.choice([b"g", b"c", b"x", b""]) + rng.choice([b"p", b""]) + _hex(rng)
        + rng.choice([b"", b".", b"." + _hex(rng)]),
        lambda: b"T" + rng.choice([b"p", b""]) + _hex(rng) + rng.choice([b"", b"." + _hex(rng)]),
        lambda: b"qXfer:" + rng.choice(XFER_OBJECTS) + b":" + rng.choice([b"read", b"write", b""]) + b":"
        + rng.choice([b"", b"target.xml", b"../x", _hex(rng)]) + b":" + _hex(rng) + sep + _hex(rng),
        lambda: b"vFile:" + rng.choice([b"open", b"pread", b"close", b"fstat", b"readlink", b"setfs", b"unlink",
                                        b"pwrite", b""]) + b":" + sep.join(_hex(rng) for _ in range(4)),
        lambda: b"vFile:open:" + rng.choice([b"2f6c69622f6c642d6d75736c2d61726d68662e736f2e31",
                                             b"2f70726f632f73656c662f6d617073", b"", b"zz", b"2e2e2f2e2e"])
        + b"," + _hex(rng) + b"," + _hex(rng),
        lambda: b"qRcmd," + rng.choice([b"", b"zz", b"68656c70", b"696e666f", blob.hex().encode()]),
        lambda: rng.choice([b"s", b"vCont;s", b"vCont;t", b"vCont;s:", b"vCont;x", b"vCont"]) + _hex(rng),
        lambda: rng.choice(QUERIES) + _hex(rng) + sep + _hex(rng),
        lambda: b"qXfer:siginfo:write::0:" + blob,
        lambda: rng.choice([b"vAttach;", b"vRun;", b"i", b"I", b"r", b"R", b"A", b"b", b"B", b"t", b"!", b"d"])
        + _hex(rng),
        lambda: blob.lstrip(b"kDvc").replace(b"#", b"").replace(b"$", b"").replace(b"}", b"") or b"?",
    ][kind]()
    return _escape(packet)


@pytest.fixture
def served(hostile_package, monkeypatch):
    monkeypatch.setattr(gdb_helpers, "SOCKET_TIMEOUT", 10.0)
    errors = Errors()
    logger = logging.getLogger("mt3620")
    logger.addHandler(errors)
    machines = []

    def make():
        sm = ServedMachine({"a7": hostile_package("signals")}, duration="1s", debug=["a7"])
        machines.append(sm)
        return sm
    yield make, errors
    for sm in machines:
        sm.stop()
    logger.removeHandler(errors)


def command(c: RspClient, packet: bytes) -> bytes:
    reply = c.command(packet)
    while reply[:1] == b"O" and reply != b"OK":       # qRcmd console output, then its result
        reply = c.packet()
    return reply


@pytest.mark.parametrize("seed", range(6))
def test_random_packets(served, seed):
    make, errors = served
    sm = make()
    rng = random.Random(seed)
    c = RspClient(sm.ports["a7"], ack=False)
    for _ in range(150):
        packet = random_packet(rng)
        reply = command(c, packet)
        assert isinstance(reply, bytes)
        assert not errors.records, f"after {packet!r}:\n{errors.text()}"
    assert command(c, b"?")[:1] in (b"S", b"T")            # still halted, still answering
    c.close()
    assert sm.error is None


@pytest.mark.parametrize("packet", [b"s-1", b"s100000000", b"s+400000", b"m-1,4", b"m0x400000,4", b"Z0,-4,2",
                                    b"vFile:pread:-1,10,0"])
def test_numbers_that_are_not_32_bit_hex_are_malformed(served, packet):
    """`s-1` and `s100000000` reached the register write (OverflowError logged with a traceback, E16); "-1",
    "+1", "0x10" were taken as numbers by int(text, 16). Now each is a malformed packet (E01)."""
    make, errors = served
    c = RspClient(make().ports["a7"], ack=False)
    reply = command(c, packet)
    assert reply.startswith(b"E") or reply.startswith(b"F-1"), reply
    assert not errors.records, errors.text()
    assert command(c, b"Hc-1") == b"OK"                     # -1 is still "all threads"


def test_garbage_framing_then_a_good_packet(served):
    make, errors = served
    sm = make()
    rng = random.Random(7)
    c = RspClient(sm.ports["a7"], ack=True)
    garbage = [b"$", b"#", b"}", b"$m0,4#zz", b"$?#00", b"\x03", b"$" + b"a" * 70000, b"+-+-", b"$}#", b"$}",
               bytes(rng.getrandbits(8) for _ in range(4000))]
    for chunk in garbage:
        c.raw(chunk)
    c.raw(b"#00$?#3f")                        # close whatever packet is open, then a well-formed `?`
    while not (b"$S" in c.buf or b"$T" in c.buf):
        c._fill()                             # acks, naks and error replies first; the stop reply comes
    c.close()
    assert not errors.records, errors.text()
    assert sm.error is None
