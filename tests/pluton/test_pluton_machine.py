"""Pluton inside the machine: every power-on boots through the signed chain, what runs on the cores is what was
measured, only the A7's security-monitor path reaches the mailbox, and ring buffers stay in the caller's RAM."""
import random
import struct
import uuid

import pytest

from mt3620.attestation import verify_evidence
from mt3620.engine.machine import LoadError, Machine
from mt3620.engine.simulation.access import Access, AccessDenied
from mt3620.engine.simulation.clock import PS_PER_SECOND
from mt3620.firmware.boot import release, rom_keys, root_signer
from mt3620.imagepackage import Keystore, SdkTestSigner, TrustedKey, build_application, parse
from mt3620.peripherals.pluton import remoteapi as api
from mt3620.peripherals.pluton.a7_driver import A7_ACCESS, PlutonDriver

TCM = 0x00100000
MAILBOX = 0x31000000
A7_SRAM = 0x80000000


def driver(machine):
    return PlutonDriver(machine.view("a7"), lambda cond, t: machine.run(duration_ps=t, until=cond))


def _movw_movt(reg, imm):
    def enc(op, imm16):
        i, imm4, imm3, imm8 = (imm16 >> 11) & 1, imm16 >> 12, (imm16 >> 8) & 7, imm16 & 0xFF
        return struct.pack("<HH", op | (i << 10) | imm4, (imm3 << 12) | (reg << 8) | imm8)
    return enc(0xF240, imm & 0xFFFF) + enc(0xF2C0, imm >> 16)


def _run_blob(machine, core_name, code):
    core = machine.core(core_name)
    entry = TCM + 0x400
    core.view.write(TCM, struct.pack("<I", 0x00130000) + struct.pack("<I", entry | 1) * 127)
    core.view.write(entry, code + struct.pack("<H", 0xE7FE))          # ...; b .
    machine.images[core_name] = object()
    core.reset(TCM)
    return machine.run(duration_ps=PS_PER_SECOND // 1000)


@pytest.mark.parametrize("core_name", ["io0", "io1"])
@pytest.mark.parametrize("write", [False, True])
def test_an_io_core_touching_plutons_mailbox_gets_a_bus_fault(core_name, write):
    """An IO-core app could drive the A7's Pluton mailbox (attest, commit the tenant key, burn manufacturing
    fuses, reset the device): nothing stood between the IO cores and 0x31000000."""
    machine = Machine(stop_on_fault=True)
    mailbox = machine.device("pluton_mbox")
    addr = MAILBOX + (0x40 if write else 0x00)
    op = struct.pack("<H", 0x6001) if write else struct.pack("<H", 0x6801)    # str r1,[r0] / ldr r1,[r0]
    result = _run_blob(machine, core_name, _movw_movt(0, addr) + _movw_movt(1, 0x004E0102) + op)
    assert result.reason == "fault"
    assert result.fault.address == addr and "Bus" in str(result.fault)
    assert mailbox.stats["posted"] == 0


def test_only_secure_privileged_a7_accesses_reach_the_mailbox():
    view = Machine().view("a7")
    assert view.read_u32(MAILBOX, A7_ACCESS) == 0x36200000
    for access in (Access("a7", secure=False, privileged=True), Access("a7", secure=True, privileged=False),
                   Access("io0", secure=True), Access("dma", secure=True)):
        with pytest.raises(AccessDenied):
            view.read_u32(MAILBOX, access)


def _register(machine, table: bytes):
    view = machine.view("a7")
    view.write(A7_SRAM, table, A7_ACCESS)
    view.write_u32(MAILBOX + 0x44, A7_SRAM, A7_ACCESS)
    view.write_u32(MAILBOX + 0x40, api.Word(2, 0, api.SEND_EVENT_BUFFERS, 0).encode(), A7_ACCESS)
    machine.run(duration_ps=PS_PER_SECOND // 100)
    data = view.read_u32(MAILBOX + 0x54, A7_ACCESS)
    view.read_u32(MAILBOX + 0x50, A7_ACCESS)
    return data


@pytest.mark.parametrize("where", [0x31040000,      # the A7 UART's registers: the reply would land there
                                   0x70000000,      # nothing mapped: a BusError escaped Machine.run
                                   0x30000000,      # the firewall block
                                   A7_SRAM + 0x400000 - 16])   # runs off the end of SRAM
def test_ring_buffers_must_lie_in_the_a7s_ram(where):
    machine = Machine()
    uart = machine.device("a7_uart")
    before = uart.snapshot()
    table = bytearray(api.encode_table(4, 4, A7_SRAM))
    entry = api.TABLE_HEADER + 5 * api.TABLE_ENTRY
    table[entry:entry + 8] = struct.pack("<II", where, where)
    assert _register(machine, bytes(table)) == api.E_ADDRESS
    view = machine.view("a7")
    view.write(A7_SRAM + api.TABLE_SIZE, api.encode_message(b""), A7_ACCESS)
    view.write_u32(MAILBOX + 0x40, api.Word(2, 1, api.GET_SECURITY_STATE, 5).encode(), A7_ACCESS)
    result = machine.run(duration_ps=PS_PER_SECOND // 100)
    assert result.reason == "timeout"
    assert view.read_u32(MAILBOX + 0x54, A7_ACCESS) == api.E_INDEX      # no ring registered: nothing served
    assert uart.snapshot() == before                                     # nothing was written elsewhere


def test_protocol_shaped_fuzz_never_raises_out_of_the_machine():
    """Random ring tables and requests through the A7's bus (the attacker's 1,000,000 accesses found 259 crashes;
    here a bounded, seeded sample of the same shape)."""
    rng = random.Random(259)
    machine = Machine()
    view = machine.view("a7")
    interesting = [A7_SRAM, A7_SRAM + 0x3FF000, 0x31000000, 0x31040000, 0x70000000, 0x90000000, 0x20100000, 0,
                   0xFFFFF800]
    for _ in range(150):
        m4, a7 = rng.randrange(0, 5), rng.randrange(0, 5)
        table = bytearray(api.encode_table(m4, a7, A7_SRAM)) if m4 + a7 else bytearray(api.TABLE_SIZE)
        for i in range(m4 + a7):
            if rng.random() < 0.3:
                addr = rng.choice(interesting) + rng.randrange(0, 0x800, 4)
                struct.pack_into("<I", table, api.TABLE_HEADER + i * api.TABLE_ENTRY, addr & 0xFFFFFFFF)
        _register(machine, bytes(table))
        for _ in range(3):
            index = rng.randrange(0, 10)
            view.write(A7_SRAM + api.TABLE_SIZE + index * api.BUFFER_SIZE,
                       struct.pack("<HH", rng.randrange(0, 2100), 0) + rng.randbytes(8), A7_ACCESS)
            word = api.Word(2, rng.randrange(0, 4), rng.choice(sorted(api.COMMAND_NAMES)), index).encode()
            view.write_u32(MAILBOX + 0x40, word, A7_ACCESS)
        result = machine.run(duration_ps=PS_PER_SECOND // 20)
        assert result.reason in ("timeout", "stopped")
        while view.read_u32(MAILBOX + 0x58, A7_ACCESS):
            view.read_u32(MAILBOX + 0x50, A7_ACCESS)


def test_every_power_on_boots_the_signed_chain_and_attests_it():
    machine = Machine(device_seed=b"boot-every-time")
    assert machine.booted and machine.boot_result.booted
    expected = release().measurements()
    assert machine.pluton.measurements == expected
    evidence = verify_evidence(driver(machine).process_attestation(b"\x07" * 32), machine.pluton.device_id)
    assert list(evidence.measurements) == expected
    assert [m.image_type for m in evidence.measurements] == [1, 2, 4, 5, 6, 7, 8]
    assert machine.pluton.keystore.keys == rom_keys()


def test_what_runs_on_an_io_core_is_what_was_measured(firmware, tmp_path):
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "app").write_bytes(firmware("hello").read_bytes())
    (root / "app_manifest.json").write_text('{"Name":"hello","ComponentId":"%s","EntryPoint":"/bin/app",'
                                            '"ApplicationType":"RealTimeCapable"}' % uuid.UUID(int=42))
    package = build_application(root, root_signer(), security_version=3)
    path = tmp_path / "hello.imagepackage"
    path.write_bytes(package)
    machine = Machine()
    machine.load("io0", path)
    machine.load("io1", firmware("hello"))                  # a bare ELF: measured as such
    measured = machine.pluton.measurements
    assert len(measured) == 9
    app, elf = measured[7], measured[8]
    assert (app.image_id, app.security_version) == (parse(package).image_id, 3)
    assert app.sha256 == __import__("hashlib").sha256(package[:-64]).digest()
    assert (elf.image_id.int, elf.component_id.int, elf.security_version) == (0, 0, 0)
    assert elf.sha256 == __import__("hashlib").sha256(firmware("hello").read_bytes()).digest()
    assert machine.run(duration_ps=PS_PER_SECOND, pattern="hello: done").reason == "condition"
    evidence = verify_evidence(driver(machine).process_attestation(b"\x01" * 32), machine.pluton.device_id)
    assert list(evidence.measurements) == measured


def test_a_device_whose_chain_does_not_verify_runs_nothing(tmp_path, firmware):
    efuse = tmp_path / "dev.efuse.json"
    Machine(efuse_path=efuse)                                # provisions fuses and flash
    flash = tmp_path / "dev.efuse.flash"
    for slot in ("primary", "backup"):
        kernel = flash / slot / "07.img"
        data = bytearray(kernel.read_bytes())
        data[3] ^= 0x20
        kernel.write_bytes(bytes(data))
    machine = Machine(efuse_path=efuse)
    assert not machine.booted and "NormalWorldKernel" in machine.boot_result.reason
    with pytest.raises(LoadError, match="not-booted"):
        machine.load("io0", firmware("hello"))
    assert machine.pluton.measurements == []


def test_the_a7_launcher_api_admits_measures_and_commits(tmp_path):
    """The API the A7's launcher calls for a high-level app: admit (verify + measure), commit, release."""
    root = tmp_path / "approot"
    (root / "bin").mkdir(parents=True)
    (root / "bin" / "app").write_bytes(b"\x7fELF" + b"\0" * 60)
    component = uuid.UUID(int=77)
    (root / "app_manifest.json").write_text('{"Name":"hl","ComponentId":"%s","EntryPoint":"/bin/app"}' % component)
    trusted = Keystore([TrustedKey(SdkTestSigner().public_key, {SdkTestSigner().thumbprint}, "sdk")])
    v2 = build_application(root, SdkTestSigner(), security_version=2)
    machine = Machine(efuse_path=tmp_path / "efuse.json")
    admitted = machine.admit_application(v2, f"a7:{component}", trusted=trusted)
    assert admitted.verified and admitted.package.filesystem().read("/bin/app").startswith(b"\x7fELF")
    assert machine.pluton.measurements[-1] == admitted.measurement
    assert machine.commit_application(admitted)
    machine.release_application(f"a7:{component}")
    assert len(machine.pluton.measurements) == 7
    again = Machine(efuse_path=tmp_path / "efuse.json")      # the counter persists with the device
    v1 = build_application(root, SdkTestSigner(), security_version=1)
    with pytest.raises(ValueError, match="svn-rollback|below its counter"):
        again.admit_application(v1, f"a7:{component}", trusted=trusted)
