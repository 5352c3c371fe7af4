"""DNS messages (RFC 1035) for the virtual DNS server: parse a query, build the answer. Pure functions.

The virtual DNS server answers A queries for the names of the network's host table (exact names and "*."
wildcards), NXDOMAIN for other names, an empty NOERROR answer for AAAA (Azure Sphere is IPv4 only), NOTIMP for
other opcodes and FORMERR for what does not parse. Answers carry TTL 0 (the device does not cache: its firewall
learns addresses from each lookup).
"""
from __future__ import annotations

import ipaddress
import struct
from dataclasses import dataclass

TYPE_A, TYPE_AAAA, TYPE_ANY = 1, 28, 255
CLASS_IN = 1
RCODE_OK, RCODE_FORMERR, RCODE_SERVFAIL, RCODE_NXDOMAIN, RCODE_NOTIMP, RCODE_REFUSED = 0, 1, 2, 3, 4, 5


class DnsError(ValueError):
    pass


@dataclass
class Question:
    ident: int
    flags: int
    name: str
    qtype: int
    qclass: int
    raw_question: bytes


def parse_query(data: bytes) -> Question:
    if len(data) < 12:
        raise DnsError("shorter than a DNS header")
    ident, flags, qd, an, ns, ar = struct.unpack_from(">HHHHHH", data)
    if flags & 0x8000:
        raise DnsError("a response, not a query")
    if qd != 1:
        raise DnsError(f"{qd} questions (one expected)")
    labels = []
    at = 12
    while True:
        if at >= len(data):
            raise DnsError("name runs past the message")
        length = data[at]
        if length & 0xC0:
            raise DnsError("compressed name in a question")
        at += 1
        if length == 0:
            break
        label = data[at:at + length]
        if len(label) != length:
            raise DnsError("label runs past the message")
        labels.append(label.decode("ascii", "replace"))
        at += length
    if at + 4 > len(data):
        raise DnsError("question without type and class")
    qtype, qclass = struct.unpack_from(">HH", data, at)
    return Question(ident, flags, ".".join(labels), qtype, qclass, data[12:at + 4])


def build_answer(q: Question, rcode: int, addresses: list[ipaddress.IPv4Address] = (), ttl: int = 0) -> bytes:
    flags = 0x8000 | (q.flags & 0x7900) | 0x0080 | rcode      # QR, opcode+RD copied, RA, rcode
    header = struct.pack(">HHHHHH", q.ident, flags, 1, len(addresses), 0, 0)
    answers = b"".join(struct.pack(">HHHIH", 0xC00C, TYPE_A, CLASS_IN, ttl, 4) + a.packed for a in addresses)
    return header + q.raw_question + answers


def build_query(ident: int, name: str, qtype: int = TYPE_A) -> bytes:
    """A recursive query (for the OS's own lookups and for tests)."""
    labels = b"".join(bytes([len(p)]) + p.encode() for p in name.rstrip(".").split(".") if p) + b"\0"
    return struct.pack(">HHHHHH", ident, 0x0100, 1, 0, 0, 0) + labels + struct.pack(">HH", qtype, CLASS_IN)


def parse_answer(data: bytes) -> tuple[int, list[ipaddress.IPv4Address]]:
    """(rcode, A addresses) of an answer built by build_answer."""
    ident, flags, qd, an, _, _ = struct.unpack_from(">HHHHHH", data)
    at = 12
    for _ in range(qd):
        while data[at]:
            at += 1 + data[at]
        at += 5
    out = []
    for _ in range(an):
        at += 2
        rtype, _, _, length = struct.unpack_from(">HHIH", data, at)
        at += 10
        if rtype == TYPE_A and length == 4:
            out.append(ipaddress.IPv4Address(data[at:at + 4]))
        at += length
    return flags & 0xF, out
