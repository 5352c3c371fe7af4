"""Builds the project's own firmware: IO-core RTApps (firmware/<name>/*.c + firmware/common/) into ELF files, and
for the A7 the sysroot libraries (libapplibs.so.0, libgcc_s.so.1) and high-level apps (firmware/hl_<name>/) packed
into application image packages.

The compiler is Zig's clang (`python3 -m ziglang cc`, PyPI `ziglang`, a project dependency) targeting a
Cortex-M4F with the hard-float ABI; Debian's `arm-none-eabi-gcc` is the fallback when ziglang is absent.
There is no C library and no C runtime: the firmware brings its own startup, vector table and helpers, and
the linker script places the vector table (the ELF entry point) at the start of TCM as the Azure Sphere
RTApp samples do.

Builds are deterministic (the same sources give the same bytes: no build IDs, source paths recorded relative
to firmware/) and incremental: an ELF is rebuilt only when the hash of its inputs (every source and header,
the linker script, the compiler's identity and flags) differs from the one recorded next to it.

API: `FIRMWARE` (name -> one-line description), `build(name)`, `build_all(out_dir=None)`,
`firmware_path(name)` (builds on demand), `firmware_package(name)` (the RTApp with its app_manifest.json as a
signed, sideloadable .imagepackage), `ToolchainError`. Command line: `scripts/build_firmware`.
A7 (docs/a7.md): `HL_APPS`, `hl_app_path(name)` (the .imagepackage, built on demand), `build_program(...)` (any
Linux ARM program, static or dynamic), `sysroot_dir()`, `build_sysroot_libs()`, `fetch_musl()`, `check_sysroot()`.
"""
from __future__ import annotations

import argparse
import hashlib
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import tempfile
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass, field
from pathlib import Path

FIRMWARE_DIR = Path(__file__).resolve().parent
DEFAULT_OUT = FIRMWARE_DIR / "build"
COMMON = "common"
DRIVERS = "drivers"

# name -> one-line description, in the order `scripts/build_firmware --list` shows them.
FIRMWARE: dict[str, str] = {
    "demo": "197.6 MHz PLL, banner, LED1 red (GPIO 8) blinking every 500 ms on GPT0's interrupt, button A (GPIO 12)",
    "hello": "polled debug-UART output and a formatter self-check",
    "hello_xip": "hello linked to execute in place from the flash window (0x10000000)",
    "uart_irq": "interrupt-driven UART transmit (ISR loops until IIR = 0x01, refills 16 - TX_OFFSET bytes), RX echo",
    "gpt_timer": "GPT0 in repeat mode: five 100 ms interrupts, measured against free-running GPT2",
    "gpt3": "GPT3 microsecond timer: a busy-wait, then the expire interrupt",
    "blink_button": "GPIO output and input: LED1 follows button A, button changes printed",
    "context_switch": "two threads on PSP switched by SysTick + PendSV, started by SVC, printing in turn",
    "fpu": "enables CPACR; Newton square root, vsqrt, a dot product and divisions printed as integers",
    "busfault": "BusFault enabled in SHCSR; reads unmapped 0x50000000; the handler prints CFSR/BFAR and resumes",
    "busfault_unhandled": "the same read with BusFault disabled: escalates to HardFault, which prints HFSR/CFSR/BFAR",
    "watchdog": "enables the watchdog, kicks it three times, stops; after the reset reads STA and says so",
    "mailbox": "A7 mailbox: echoes raw FIFO entries and intercore messages (shared ring buffers) back",
    "crc32": "benchmark: table-driven CRC32 over a 4 KB buffer, 1024 rounds",
    "irq_storm": "benchmark: 1 kHz SysTick at 197.6 MHz with continuous interrupt-driven UART output",
    "gdb_target": "named functions, a watched global counter, a float computation and a busy loop for GDB",
    "rtos_pingpong": "FreeRTOS-like kernel (BASEPRI, SVC start, idle task): two FP tasks ping-pong through queues",
    "rtos_threadx": "ThreadX-like kernel (PRIMASK, waits inside PendSV): demo_threadx's eight threads",
    "null_tick": "SysTick before the kernel's lists exist: reads and writes through NULL, a call to NULL",
    "tick_uart": "benchmark: 1 kHz SysTick and one UART interrupt per transmitted byte, WFI in between",
    "eint_wake": "sleeps until GPT3's timeout or button A on EINT 12 (level low, POL 1), as MediaTek's LP sample",
    "crc32_qemu": "crc32's CRC kernel built for QEMU's mps2-an386 (Cortex-M4), for scripts/bench; not an RTApp",
    "crc32_qemu_0": "crc32_qemu with no rounds (QEMU's start-up cost, subtracted by scripts/bench)",
    "rtos_pingpong_qemu": "rtos_pingpong's kernel and tasks on QEMU's mps2-an386, exits after 432,000 round trips; "
                          "for scripts/bench, not an RTApp",
    "rtos_pingpong_qemu_1": "rtos_pingpong_qemu stopping after one round trip (QEMU's start-up, subtracted by "
                            "scripts/bench)",
    "i2c_bus": "ISU2 I2C master: NACK probe, LSM6DS3 registers, EEPROM page write + polling, DMA loopback, 3 speeds",
    "i2c_sub": "ISU1 I2C master and ISU2 I2C subordinate on one bus: writes and reads between them",
    "spi_bus": "ISU1 SPI master: LSM6DS3 on a GPIO chip select, SD card on CSB (init, block write/read); ISU3 loopback",
    "displays": "SSD1306 on ISU1 I2C (DMA frame buffer) and SSD1331 on ISU0 SPI (GPIO D/C and reset): test patterns",
    "adc_scan": "ADC one-shot scans through the FIFO, periodic scans into a DMA ring, a channel that does not exist",
    "audio": "MAX98090 codec set up over ISU2 I2C, a tone out of I2S0 through DMA; I2S1 internal loopback checked",
    "gpioif_count": "GPIOIF up/down counter on GPIO 12/13 (group 3) with limit interrupts, printed every 100 ms",
    "uart_dma": "ISU0 UART through the DMA's half-size channels 0 (TX) and 1 (RX), as MediaTek's OS_HAL vff_mode 0",
    "fw_probe": "reads one register of every firewall-guarded block with BusFault enabled; says ok or BusFault",
}


@dataclass(frozen=True)
class _Spec:
    src: str                      # folder under firmware/ holding the firmware's own sources
    ld: str = "tcm.ld"            # linker script under the runtime folder (or under src without a runtime)
    defines: tuple[str, ...] = ()
    drivers: tuple[str, ...] = ()  # shared drivers from firmware/drivers/ that this firmware links
    runtime: str | None = COMMON  # the IO-core runtime (firmware/common/); None for a build for another board
    shared: tuple[str, ...] = ()  # files of other folders under firmware/ it compiles (.c) or includes (hashed)


_SPECS: dict[str, _Spec] = {name: _Spec(name) for name in FIRMWARE}
_SPECS["uart_irq"] = _Spec("uart_irq", drivers=("uart_irq.c",))
_SPECS["irq_storm"] = _Spec("irq_storm", drivers=("uart_irq.c",))
_SPECS["blink_button"] = _Spec("blink_button", drivers=("sleep.c",))
_SPECS["watchdog"] = _Spec("watchdog", drivers=("sleep.c",))
_SPECS["hello_xip"] = _Spec("hello", ld="xip.ld")
_SPECS["i2c_bus"] = _Spec("i2c_bus", drivers=("i2c.c",))
_SPECS["i2c_sub"] = _Spec("i2c_sub", drivers=("i2c.c",))
_SPECS["spi_bus"] = _Spec("spi_bus", drivers=("spi.c", "sleep.c"))
_SPECS["displays"] = _Spec("displays", drivers=("i2c.c", "spi.c", "sleep.c"))
_SPECS["adc_scan"] = _Spec("adc_scan", drivers=("adc.c", "dma.c", "sleep.c"))
_SPECS["audio"] = _Spec("audio", drivers=("i2c.c", "i2s.c", "dma.c", "sleep.c"))
_SPECS["gpioif_count"] = _Spec("gpioif_count", drivers=("gpioif.c", "sleep.c"))
_SPECS["uart_dma"] = _Spec("uart_dma")
_SPECS["busfault_unhandled"] = _Spec("busfault", defines=("BUSFAULT_UNHANDLED=1",))
_SPECS["rtos_pingpong"] = _Spec("rtos", defines=("RTOS_PORT_THREADX=0", "RTOS_APP_DEMO=0"))
_SPECS["rtos_threadx"] = _Spec("rtos", defines=("RTOS_PORT_THREADX=1", "RTOS_APP_DEMO=1"))
_SPECS["crc32"] = _Spec("crc32", drivers=("crc32.c",))
_SPECS["crc32_qemu"] = _Spec("crc32_qemu", ld="mps2.ld", drivers=("crc32.c",), runtime=None)
_SPECS["crc32_qemu_0"] = _Spec("crc32_qemu", ld="mps2.ld", drivers=("crc32.c",), runtime=None,
                               defines=("CRC32_ROUNDS=0",))
# The same kernel, port and ping-pong sources as rtos_pingpong, on QEMU's board (firmware/rtos_qemu/: its vector
# table, reset, console and halt; the common runtime's formatter, C helpers and SysTick set-up). 432,000 round trips
# are about one second of the chip's time (432,784 in 1 s on the engine).
_RTOS_QEMU_SHARED = ("rtos/kernel.h", "rtos/kernel.c", "rtos/port.c", "rtos/main.c", "rtos/pingpong_stop.h",
                     "common/rt.h", "common/mt3620.h", "common/fmt.c", "common/libc.c", "common/timer.c",
                     "crc32_qemu/mps2.ld")
PINGPONG_QEMU_ROUND_TRIPS = 432_000
for _name, _trips in (("rtos_pingpong_qemu", PINGPONG_QEMU_ROUND_TRIPS), ("rtos_pingpong_qemu_1", 1)):
    _SPECS[_name] = _Spec("rtos_qemu", ld="../crc32_qemu/mps2.ld", runtime=None, shared=_RTOS_QEMU_SHARED,
                          defines=("RTOS_PORT_THREADX=0", "RTOS_APP_DEMO=0", f"PINGPONG_ROUND_TRIPS={_trips}u"))

# Flags shared by both compilers. -O2 and -g as the brief asks (GDB tests); no libc, no unwind tables,
# one section per function so unused code is dropped; source paths recorded relative to firmware/.
_CFLAGS = ("-std=c11", "-O2", "-g", "-ffreestanding", "-nostdlib", "-fno-common", "-ffunction-sections",
           "-fdata-sections", "-fno-unwind-tables", "-fno-asynchronous-unwind-tables", "-fomit-frame-pointer",
           "-fno-math-errno", "-fno-sanitize=all", "-Wall", "-Wextra", "-Werror")
# The entry point is the vector table (as in the Azure samples); no GNU_STACK size (the stack is StackTop in TCM,
# set by vector word 0); small page alignment keeps the files small and the XIP .text 32-byte aligned.
_LDFLAGS = ("-static", "-Wl,--entry=ExceptionVectorTable", "-Wl,--gc-sections", "-Wl,--build-id=none",
            "-Wl,-z,max-page-size=32", "-Wl,-z,stack-size=0")


class ToolchainError(RuntimeError):
    """The firmware cannot be built (no compiler, a compile error, an unknown name): one readable message."""


@dataclass
class Compiler:
    kind: str                     # "zig" or "gcc"
    argv: list[str]               # the command that compiles C for the IO core
    version: str
    flags: list[str] = field(default_factory=list)

    def identity(self) -> str:
        return f"{self.kind} {self.version} {' '.join(self.flags)}"


def _run(argv: list[str], cwd: Path | None = None, timeout: float = 300) -> subprocess.CompletedProcess:
    return subprocess.run(argv, cwd=cwd, capture_output=True, text=True, timeout=timeout)


def _zig() -> Compiler | None:
    if importlib.util.find_spec("ziglang") is None:
        return None
    base = [sys.executable, "-m", "ziglang"]
    try:
        res = _run(base + ["version"], timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    # Cortex-M4F: Zig's cortex_m4 model has no FPU feature by default; +vfp4d16sp is the M4's FPv4-SP.
    flags = ["-target", "thumb-freestanding-eabihf", "-mcpu=cortex_m4+vfp4d16sp"]
    # Zig's own headers (stdint.h, ...) appear in the line tables: record them without the install path.
    locations = importlib.util.find_spec("ziglang").submodule_search_locations or []
    for loc in locations:
        flags.append(f"-ffile-prefix-map={Path(loc).resolve()}=ziglang")
    return Compiler("zig", base + ["cc"], res.stdout.strip(), flags)


def _gcc() -> Compiler | None:
    exe = shutil.which("arm-none-eabi-gcc")
    if not exe:
        return None
    try:
        res = _run([exe, "-dumpversion"], timeout=60)
    except (OSError, subprocess.SubprocessError):
        return None
    if res.returncode != 0:
        return None
    # newlib's uint32_t is `long unsigned int`: the formatter reads 32-bit words either way, so the
    # %u/%x format checks (written against `unsigned int`) are off for this compiler only.
    flags = ["-mcpu=cortex-m4", "-mthumb", "-mfloat-abi=hard", "-mfpu=fpv4-sp-d16", "-Wno-format"]
    return Compiler("gcc", [exe], res.stdout.strip(), flags)


_compiler_cache: dict[str, Compiler] = {}


def find_compiler(prefer: str | None = None) -> Compiler:
    """The compiler to use: `prefer` or $MT3620_FIRMWARE_CC ("zig", "gcc" or "auto"), else zig then gcc."""
    choice = (prefer or os.environ.get("MT3620_FIRMWARE_CC") or "auto").strip().lower()
    if choice not in ("auto", "zig", "gcc"):
        raise ToolchainError(f"unknown firmware compiler {choice!r} (use zig, gcc or auto)")
    if choice in _compiler_cache:
        return _compiler_cache[choice]
    order = {"auto": (_zig, _gcc), "zig": (_zig,), "gcc": (_gcc,)}[choice]
    for probe in order:
        found = probe()
        if found:
            _compiler_cache[choice] = found
            return found
    wanted = {"auto": "no C compiler for the IO-core firmware",
              "zig": "the zig compiler was asked for but PyPI 'ziglang' is not installed or does not run",
              "gcc": "arm-none-eabi-gcc was asked for but is not on PATH"}[choice]
    raise ToolchainError(f"{wanted}: install it with `pip install ziglang` (preferred) or "
                         f"`apt-get install gcc-arm-none-eabi`")


def _check_name(name: str) -> _Spec:
    spec = _SPECS.get(name)
    if spec is None:
        raise ToolchainError(f"unknown firmware {name!r}; known: {', '.join(FIRMWARE)}")
    return spec


def _sources(spec: _Spec, fw: Path) -> tuple[list[str], list[str]]:
    """(C files to compile, every input file) as paths relative to the firmware folder, sorted."""
    c_files, inputs = [], []
    for folder in ((spec.runtime,) if spec.runtime else ()) + (spec.src,):
        d = fw / folder
        if not d.is_dir():
            raise ToolchainError(f"firmware sources missing: {d}")
        for p in sorted(d.iterdir()):
            if p.is_file() and p.suffix in (".c", ".h", ".S", ".ld"):
                rel = f"{folder}/{p.name}"
                inputs.append(rel)
                if p.suffix in (".c", ".S"):
                    c_files.append(rel)
    for rel in spec.shared:
        if not (fw / rel).is_file():
            raise ToolchainError(f"firmware source missing: {fw / rel}")
        inputs.append(rel)
        if rel.endswith((".c", ".S")):
            c_files.append(rel)
    for drv in spec.drivers:
        if not (fw / DRIVERS / drv).is_file():
            raise ToolchainError(f"firmware driver missing: {fw / DRIVERS / drv}")
        c_files.append(f"{DRIVERS}/{drv}")
    if spec.drivers:
        inputs += [f"{DRIVERS}/{p.name}" for p in sorted((fw / DRIVERS).iterdir())
                   if p.is_file() and p.suffix in (".c", ".h")]
    return c_files, inputs


def _command(cc: Compiler, spec: _Spec, c_files: list[str], output: str, fw: Path) -> list[str]:
    argv = list(cc.argv) + cc.flags + list(_CFLAGS)
    # Record source paths relative to firmware/ in the debug info, whatever the checkout's location.
    runtime = [f"-I{spec.runtime}"] if spec.runtime else []
    argv += [f"-ffile-prefix-map={fw}=firmware", f"-fdebug-prefix-map={fw}=firmware",
             *runtime, f"-I{DRIVERS}", f"-I{spec.src}"]
    argv += [f"-D{d}" for d in spec.defines]
    ldflags = list(_LDFLAGS) if spec.runtime else [f for f in _LDFLAGS if "ExceptionVectorTable" not in f]
    argv += [f"-Wl,-T,{spec.runtime or spec.src}/{spec.ld}"] + ldflags + ["-o", output] + c_files
    return argv


def _input_hash(cc: Compiler, inputs: list[str], argv: list[str], fw: Path) -> str:
    h = hashlib.sha256()
    h.update(cc.identity().encode())
    h.update(b"\0".join(a.encode() for a in argv[len(cc.argv):]))
    for rel in inputs:
        h.update(b"\0" + rel.encode() + b"\0")
        h.update((fw / rel).read_bytes())
    return h.hexdigest()


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


class _Lock:
    """An exclusive advisory lock on a file, so concurrent builds (pytest workers) do not collide."""

    def __init__(self, path: Path):
        self.path = path

    def __enter__(self):
        self.fd = os.open(self.path, os.O_CREAT | os.O_RDWR, 0o644)
        try:
            import fcntl
            fcntl.flock(self.fd, fcntl.LOCK_EX)
        except ImportError:  # pragma: no cover - not POSIX
            pass
        return self

    def __exit__(self, *exc):
        os.close(self.fd)


def build(name: str, out_dir: str | os.PathLike | None = None, force: bool = False,
          compiler: str | None = None, src_dir: str | os.PathLike | None = None) -> Path:
    """Builds firmware `name` into out_dir/<name>.elf (default firmware/build/) unless it is up to date.

    `src_dir` replaces the firmware source folder (default: the checkout's firmware/)."""
    spec = _check_name(name)
    fw = Path(src_dir).resolve() if src_dir is not None else FIRMWARE_DIR
    out = Path(out_dir) if out_dir is not None else DEFAULT_OUT
    try:
        out.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        raise ToolchainError(f"cannot create the output folder {out}: {exc.strerror or exc}") from None
    out = out.resolve()
    elf = out / f"{name}.elf"
    stamp = out / f"{name}.elf.stamp"
    cc = find_compiler(compiler)
    c_files, inputs = _sources(spec, fw)
    with _Lock(out / f".{name}.lock"):
        with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out) as tmp:
            tmp_elf = Path(tmp) / f"{name}.elf"
            argv = _command(cc, spec, c_files, str(tmp_elf), fw)
            digest = _input_hash(cc, inputs, _command(cc, spec, c_files, f"{name}.elf", fw), fw)
            if not force and elf.is_file() and stamp.is_file():
                try:
                    recorded = json.loads(stamp.read_text())
                except (OSError, ValueError):
                    recorded = {}
                if recorded.get("inputs") == digest and recorded.get("elf") == _sha256(elf):
                    return elf
            try:
                res = _run(argv, cwd=fw)
            except subprocess.TimeoutExpired:
                raise ToolchainError(f"{name}: the compiler did not finish in 300 s") from None
            except OSError as exc:
                raise ToolchainError(f"{name}: cannot run the compiler: {exc}") from None
            if res.returncode != 0 or not tmp_elf.is_file():
                # No stale output left behind for someone to boot by mistake.
                for stale in (elf, stamp):
                    stale.unlink(missing_ok=True)
                detail = (res.stderr or res.stdout).strip()
                if len(detail) > 4000:
                    detail = detail[:4000] + "\n..."
                raise ToolchainError(f"{name}: build failed ({cc.kind}):\n{detail}")
            os.replace(tmp_elf, elf)
        stamp.write_text(json.dumps({"inputs": digest, "elf": _sha256(elf), "compiler": cc.identity()},
                                    indent=1) + "\n")
    return elf


def build_all(out_dir: str | os.PathLike | None = None, force: bool = False, compiler: str | None = None,
              names: list[str] | None = None, jobs: int = 2,
              src_dir: str | os.PathLike | None = None) -> dict[str, Path]:
    """Builds every firmware (or `names`); returns name -> ELF path, in FIRMWARE order."""
    wanted = list(names) if names else list(FIRMWARE)
    for n in wanted:
        _check_name(n)
    find_compiler(compiler)  # fail once, clearly, before starting workers
    with ThreadPoolExecutor(max_workers=max(1, jobs)) as pool:
        futures = {n: pool.submit(build, n, out_dir, force, compiler, src_dir) for n in wanted}
        errors = [f.exception() for f in futures.values() if f.exception() is not None]
    if errors:
        if len(errors) == 1:
            raise errors[0]
        raise ToolchainError(f"{len(errors)} firmware failed to build:\n" + "\n".join(map(str, errors)))
    return {n: futures[n].result() for n in wanted}


def firmware_path(name: str) -> Path:
    """The ELF of firmware `name` in firmware/build/ (or $MT3620_FIRMWARE_OUT), built first if needed."""
    return build(name, os.environ.get("MT3620_FIRMWARE_OUT") or None)


def rtapp_manifest(name: str) -> Path:
    """The app_manifest.json of RTApp `name`: firmware/<folder>/app_manifest.<name>.json for a variant built from
    another firmware's sources (hello_xip), else firmware/<folder>/app_manifest.json."""
    spec = _check_name(name)
    folder = FIRMWARE_DIR / spec.src
    for candidate in (folder / f"app_manifest.{name}.json", folder / "app_manifest.json"):
        if candidate.is_file():
            return candidate
    raise ToolchainError(f"{name}: no app_manifest.json in {folder}")


def build_rtapp_package(name: str, out_dir: str | os.PathLike | None = None, *,
                        manifest: str | os.PathLike | None = None, signer=None) -> Path:
    """RTApp `name` packed as the SDK packs it (`azsphere image-package pack-application`): an application image
    package with app_manifest.json and bin/app (the ELF), signed with the SDK test key (sideloadable on a device
    that holds appDevelopment) -> <out>/<name>.imagepackage. Rebuilt only when the ELF or manifest changed."""
    elf = build(name, out_dir)
    manifest_path = Path(manifest) if manifest is not None else rtapp_manifest(name)
    package = elf.with_suffix(".imagepackage")
    digest = hashlib.sha256(elf.read_bytes() + manifest_path.read_bytes()).hexdigest()
    stamp = package.with_name(package.name + ".stamp")
    if signer is None and package.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return package
    from mt3620.imagepackage import SdkTestSigner, build_application
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=package.parent) as tmp:
        approot = Path(tmp)
        (approot / "bin").mkdir()
        shutil.copyfile(elf, approot / "bin" / "app")
        shutil.copyfile(manifest_path, approot / "app_manifest.json")
        data = build_application(approot, signer or SdkTestSigner(), build_time=0)
    tmp_pkg = package.with_name(f".{package.name}.tmp{os.getpid()}")
    tmp_pkg.write_bytes(data)
    os.replace(tmp_pkg, package)
    if signer is None:
        stamp.write_text(digest + "\n")
    return package


def firmware_package(name: str) -> Path:
    """The signed .imagepackage of RTApp `name` (its ELF and manifest) in firmware/build/ (or
    $MT3620_FIRMWARE_OUT), built first if needed: what the device sideloads."""
    return build_rtapp_package(name, os.environ.get("MT3620_FIRMWARE_OUT") or None)


# ---- the A7: sysroot, libraries and high-level apps ------------------------------------------------------------------
# High-level apps: name -> one-line description. Each is firmware/<name>/ with *.c and app_manifest.json.
HL_APPS: dict[str, str] = {
    "hl_hello": "high-level hello: Log_Debug lines from main and a thread, a sleep, exit status 7",
    "hl_bench": "benchmark: CRC-32 over 4 KB x 1024 on the A7 (or `syscalls N`: N getppid() round trips)",
    "hl_uart_echo": "UART echo on ISU0 at 115200 baud through UART_Open, EventLoop and read/write (Applibs uart)",
    "hl_intercore": "intercore pair with the mailbox RTApp: ping/echo over Application_Connect (rt package: "
                    "rt_package_path('hl_intercore'))",
    "hl_storage": "mutable storage: a boot counter in Storage_OpenMutableFile, the 8 KB SizeKB cap, a package file",
    "hl_blink": "GPIO blink: LED 1 red from an EventLoop timer, button A cycles the period (Applibs gpio, eventloop)",
    "hl_wifi": "WifiConfig/CertStore/Networking tool driven by CmdArgs: add networks, scan, wait until ready, status",
    "hl_net": "network client driven by CmdArgs: resolve names, TCP and UDP request/response, round-trip timing",
}
APPLIBS_DIR = FIRMWARE_DIR / "applibs"
MUSL_PACKAGE = "musl"               # Debian's musl:armhf (1.2.3 in bookworm): the dynamic loader and libc
MUSL_LOADER = "lib/ld-musl-armhf.so.1"
# Hard-float Thumb-2, as the Azure Sphere SDK builds apps and libraries (Zig ignores -mthumb: the Thumb target
# triple is what selects it). libgcc_s's unwinder keeps the A32 target its assembly is written for.
A7_TARGET = ("-target", "thumb-linux-musleabihf", "-mcpu=cortex_a7")
A7_ARM_TARGET = ("-target", "arm-linux-musleabihf", "-mcpu=cortex_a7")
# Unwind tables and -g so crash reports and GDB name frames.
A7_CFLAGS = ("-std=gnu11", "-O2", "-g", "-funwind-tables", "-Wall", "-Wextra", "-Werror",
             "-Wno-unused-parameter")
A7_LDFLAGS = ("-Wl,--build-id=none",)


def sysroot_dir() -> Path:
    """Where the A7's sysroot lives: $MT3620_SYSROOT, else firmware/build/sysroot (git-ignored)."""
    return Path(os.environ.get("MT3620_SYSROOT") or DEFAULT_OUT / "sysroot")


def _zig_a7() -> list[str]:
    find_compiler("zig")     # one clear error when ziglang is missing
    return [sys.executable, "-m", "ziglang"]


def _prefix_maps() -> list[str]:
    """Debug info names sources relative to the tree (firmware/hl_blink/main.c, tests/linux/programs/x.c) and
    records no folder of the machine that built it, so builds are the same bytes everywhere."""
    root = FIRMWARE_DIR.parent
    flags = [f"-ffile-prefix-map={root}/=", "-fdebug-compilation-dir=."]
    spec = importlib.util.find_spec("ziglang")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        flags.append(f"-ffile-prefix-map={Path(loc).resolve()}=ziglang")
    return flags


def _build_cached(output: Path, argv: list[str], inputs: list[Path], what: str, cwd: Path | None = None) -> Path:
    """Run `argv` (which writes `output`) unless the stamp next to `output` matches the inputs' hash."""
    output.parent.mkdir(parents=True, exist_ok=True)
    h = hashlib.sha256()
    h.update(find_compiler("zig").identity().encode())
    h.update(b"\0".join(a.encode() for a in argv))
    for path in sorted(set(inputs)):
        h.update(b"\0" + str(path).encode() + b"\0" + path.read_bytes())
    digest = h.hexdigest()
    stamp = output.with_name(output.name + ".stamp")
    with _Lock(output.with_name(f".{output.name}.lock")):
        if output.is_file() and stamp.is_file():
            try:
                recorded = json.loads(stamp.read_text())
            except (OSError, ValueError):
                recorded = {}
            if recorded.get("inputs") == digest and recorded.get("output") == _sha256(output):
                return output
        tmp = output.with_name(f".{output.name}.tmp{os.getpid()}")
        cmd = [a if a != "{out}" else str(tmp) for a in argv]
        try:
            res = _run(cmd, cwd=cwd, timeout=600)
        except subprocess.TimeoutExpired:
            raise ToolchainError(f"{what}: the compiler did not finish in 600 s") from None
        except OSError as exc:
            raise ToolchainError(f"{what}: cannot run the compiler: {exc}") from None
        if res.returncode != 0 or not tmp.is_file():
            tmp.unlink(missing_ok=True)
            output.unlink(missing_ok=True)
            detail = (res.stderr or res.stdout).strip()
            raise ToolchainError(f"{what}: build failed:\n{detail[:4000]}")
        os.replace(tmp, output)
        stamp.write_text(json.dumps({"inputs": digest, "output": _sha256(output)}, indent=1) + "\n")
    return output


def build_sysroot_libs(sysroot: str | os.PathLike | None = None) -> dict[str, Path]:
    """The project's own shared libraries for the A7, into <sysroot>/usr/lib:
    - libapplibs.so.0 from firmware/applibs/*.c (headers in firmware/applibs/include/applibs/);
    - libgcc_s.so.1: LLVM's libunwind as Zig ships it (the ARM EHABI unwinder, personality routines) and the
      project's 64-bit division and bit counting (firmware/applibs/libgcc_s/), exported under GCC's symbol
      versions (GCC_3.0 ... GCC_3.5) by firmware/applibs/libgcc_s/libgcc_s.map."""
    root = Path(sysroot) if sysroot else sysroot_dir()
    libdir = root / "usr" / "lib"
    zig = _zig_a7()
    maps = _prefix_maps()
    include = APPLIBS_DIR / "include"
    applibs_sources = sorted(APPLIBS_DIR.glob("*.c"))
    headers = sorted(include.rglob("*.h")) + sorted(APPLIBS_DIR.glob("*.h"))    # public and private headers
    applibs = _build_cached(
        libdir / "libapplibs.so.0",
        zig + ["cc", *A7_TARGET, *A7_CFLAGS, *maps, "-fPIC", "-shared", "-Wl,-soname,libapplibs.so.0",
               *A7_LDFLAGS, f"-I{include}", "-o", "{out}", *map(str, applibs_sources)],
        applibs_sources + headers, "libapplibs.so.0")
    unwind = _libunwind_dir()
    gcc_dir = APPLIBS_DIR / "libgcc_s"
    own = sorted(gcc_dir.glob("*.c")) + sorted(gcc_dir.glob("*.S"))
    objects = []
    common = [*A7_ARM_TARGET, "-fPIC", "-O2", "-funwind-tables", *maps, f"-I{unwind / 'include'}",
              "-D_LIBUNWIND_IS_NATIVE_ONLY", "-DNDEBUG"]
    for src in ("Unwind-EHABI.cpp", "libunwind.cpp", "UnwindLevel1.c", "UnwindLevel1-gcc-ext.c",
                "UnwindRegistersRestore.S", "UnwindRegistersSave.S"):
        path = unwind / "src" / src
        if src.endswith(".cpp"):
            argv = zig + ["c++", *common, "-fno-exceptions", "-fno-rtti", "-nostdinc++", "-std=c++17"]
        else:
            argv = zig + ["cc", *common] + (["-std=c99"] if src.endswith(".c") else [])
        out = DEFAULT_OUT / "libgcc_s-objects" / (path.stem + ".o")
        objects.append(_build_cached(out, argv + ["-c", str(path), "-o", "{out}"],
                                     [path] + sorted((unwind / "src").glob("*.h*")), f"libunwind {src}"))
    for path in own:
        out = DEFAULT_OUT / "libgcc_s-objects" / (path.name + ".o")
        objects.append(_build_cached(out, zig + ["cc", *common, "-Wall", "-Werror", "-c", str(path), "-o",
                                                 "{out}"], [path], f"libgcc_s {path.name}"))
    version_script = gcc_dir / "libgcc_s.map"
    gcc_s = _build_cached(
        libdir / "libgcc_s.so.1",
        zig + ["cc", *A7_ARM_TARGET, "-shared", "-Wl,-soname,libgcc_s.so.1", f"-Wl,--version-script={version_script}",
               *A7_LDFLAGS, "-o", "{out}", *map(str, objects)],
        objects + [version_script], "libgcc_s.so.1")
    return {"libapplibs.so.0": applibs, "libgcc_s.so.1": gcc_s}


def _libunwind_dir() -> Path:
    spec = importlib.util.find_spec("ziglang")
    for loc in (spec.submodule_search_locations or []) if spec else []:
        candidate = Path(loc) / "lib" / "libunwind"
        if (candidate / "src" / "Unwind-EHABI.cpp").is_file():
            return candidate
    raise ToolchainError("Zig's bundled libunwind sources are missing (PyPI ziglang): reinstall ziglang")


def build_program(output: str | os.PathLike, sources: list[str | os.PathLike], *, static: bool = False,
                  defines: tuple[str, ...] = (), extra: tuple[str, ...] = (), applibs: bool = True) -> Path:
    """Compile C sources into a Linux ARM (A7) program: dynamic (PIE, PT_INTERP /lib/ld-musl-armhf.so.1, NEEDED
    libapplibs.so.0 when `applibs`) or static (musl linked in). Cached by the hash of its inputs."""
    out = Path(output).resolve()
    srcs = [Path(s).resolve() for s in sources]
    for src in srcs:
        if not src.is_file():
            raise ToolchainError(f"source missing: {src}")
    include = APPLIBS_DIR / "include"
    zig = _zig_a7()
    argv = zig + ["cc", *A7_TARGET, *A7_CFLAGS, *_prefix_maps(), f"-I{include}",
                  *[f"-D{d}" for d in defines], *extra]
    inputs = list(srcs) + sorted(include.rglob("*.h"))
    if static:
        argv += ["-static"]
    else:
        argv += ["-fPIE", "-pie", "-dynamic"]
        if applibs:
            lib = build_sysroot_libs()["libapplibs.so.0"]
            argv.append(str(lib))
            inputs.append(lib)
    argv += [*A7_LDFLAGS, "-o", "{out}", *map(str, srcs)]
    return _build_cached(out, argv, inputs, out.name)


def build_hl_app(name: str, out_dir: str | os.PathLike | None = None) -> Path:
    """firmware/<name>/ -> <out>/<name>.elf and the signed application package <out>/<name>.imagepackage
    (ASXipFS with app_manifest.json and bin/app, signed with the SDK test key like `azsphere image-package
    pack-application`)."""
    if name not in HL_APPS:
        raise ToolchainError(f"unknown high-level app {name!r}; known: {', '.join(HL_APPS)}")
    src = FIRMWARE_DIR / name
    out = Path(out_dir) if out_dir else DEFAULT_OUT
    elf = build_program(out / f"{name}.elf", sorted(src.glob("*.c")))
    manifest = src / "app_manifest.json"
    package = out / f"{name}.imagepackage"
    # Resource files (anything in the app's folder but its sources and manifests) go into the package's root, as
    # azsphere_target_add_image_package(... RESOURCE_FILES ...) puts them.
    resources = sorted(p for p in src.iterdir() if p.is_file() and p.suffix not in (".c", ".h")
                       and p.name not in ("app_manifest.json", "rtapp_manifest.json"))
    digest = hashlib.sha256(elf.read_bytes() + manifest.read_bytes() +
                            b"".join(p.name.encode() + p.read_bytes() for p in resources)).hexdigest()
    stamp = package.with_name(package.name + ".stamp")
    if package.is_file() and stamp.is_file() and stamp.read_text().strip() == digest:
        return package
    from mt3620.imagepackage import SdkTestSigner, build_application
    with tempfile.TemporaryDirectory(prefix=f".{name}-", dir=out) as tmp:
        approot = Path(tmp)
        (approot / "bin").mkdir()
        shutil.copyfile(elf, approot / "bin" / "app")
        os.chmod(approot / "bin" / "app", 0o755)
        shutil.copyfile(manifest, approot / "app_manifest.json")
        for resource in resources:
            shutil.copyfile(resource, approot / resource.name)
        data = build_application(approot, SdkTestSigner(), build_time=0)
    tmp_pkg = package.with_name(f".{package.name}.tmp{os.getpid()}")
    tmp_pkg.write_bytes(data)
    os.replace(tmp_pkg, package)
    stamp.write_text(digest + "\n")
    return package


# The RTApp partner of a high-level app: its firmware (an IO-core ELF of FIRMWARE) and, in firmware/<app>/, the
# manifest rtapp_manifest.json (ApplicationType RealTimeCapable, AllowedApplicationConnections).
RT_PARTNERS: dict[str, str] = {"hl_intercore": "mailbox"}


def build_rt_package(app: str, out_dir: str | os.PathLike | None = None) -> Path:
    """The real-time partner of high-level app `app`, packed as <out>/<app>_rtapp.imagepackage (its firmware ELF as
    bin/app with firmware/<app>/rtapp_manifest.json, signed with the SDK test key)."""
    if app not in RT_PARTNERS:
        raise ToolchainError(f"high-level app {app!r} has no real-time partner; known: {', '.join(RT_PARTNERS)}")
    out = Path(out_dir) if out_dir else DEFAULT_OUT
    elf = build(RT_PARTNERS[app], out_dir)
    manifest = FIRMWARE_DIR / app / "rtapp_manifest.json"
    package = out / f"{app}_rtapp.imagepackage"
    from mt3620.imagepackage import SdkTestSigner, build_application
    with tempfile.TemporaryDirectory(prefix=f".{app}-rt-", dir=out) as tmp:
        approot = Path(tmp)
        (approot / "bin").mkdir()
        shutil.copyfile(elf, approot / "bin" / "app")
        shutil.copyfile(manifest, approot / "app_manifest.json")
        data = build_application(approot, SdkTestSigner(), build_time=0)
    tmp_pkg = package.with_name(f".{package.name}.tmp{os.getpid()}")
    tmp_pkg.write_bytes(data)
    os.replace(tmp_pkg, package)
    return package


def rt_package_path(app: str) -> Path:
    """The .imagepackage of the RTApp partner of high-level app `app`, built if needed."""
    return build_rt_package(app, os.environ.get("MT3620_FIRMWARE_OUT") or None)


def hl_app_path(name: str) -> Path:
    """The .imagepackage of high-level app `name` in firmware/build/ (or $MT3620_FIRMWARE_OUT), built if needed."""
    return build_hl_app(name, os.environ.get("MT3620_FIRMWARE_OUT") or None)


def check_sysroot(sysroot: str | os.PathLike | None = None) -> Path:
    """The sysroot if it can run dynamically linked apps; ToolchainError with one line saying how to get it."""
    root = Path(sysroot) if sysroot else sysroot_dir()
    loader = root / MUSL_LOADER
    if not loader.exists():
        raise ToolchainError(f"the A7 sysroot has no musl dynamic loader ({loader}): run `scripts/build_firmware "
                             f"--sysroot` (downloads Debian's musl:armhf) or `bash scripts/setup`")
    for lib in ("libapplibs.so.0", "libgcc_s.so.1"):
        if not (root / "usr" / "lib" / lib).is_file():
            raise ToolchainError(f"the A7 sysroot has no {lib}: run `scripts/build_firmware --sysroot`")
    return root


def fetch_musl(sysroot: str | os.PathLike | None = None, log=print) -> Path:
    """Put Debian's musl:armhf (loader + libc) into <sysroot>/lib. Uses an installed musl:armhf when the host has
    one (dpkg multiarch, /lib/ld-musl-armhf.so.1), else downloads the package with apt-get into a private apt state
    folder (no root needed, the host's apt sources) and extracts it with dpkg-deb."""
    root = Path(sysroot) if sysroot else sysroot_dir()
    libdir = root / "lib"
    target = libdir / "arm-linux-musleabihf" / "libc.so"
    if target.is_file() and (root / MUSL_LOADER).is_symlink():
        return root
    host_libc = Path("/lib/arm-linux-musleabihf/libc.so")
    (libdir / "arm-linux-musleabihf").mkdir(parents=True, exist_ok=True)
    if host_libc.is_file():
        shutil.copyfile(host_libc, target)
        log(f"sysroot: musl from the host's musl:armhf ({host_libc})")
    else:
        for tool in ("apt-get", "dpkg-deb"):
            if not shutil.which(tool):
                raise ToolchainError(f"cannot fetch musl:armhf: {tool} is missing (install Debian's musl:armhf and "
                                     f"copy /lib/arm-linux-musleabihf/libc.so to {target})")
        state = DEFAULT_OUT / "apt-armhf"
        for sub in ("state/lists/partial", "cache/archives/partial", "prefs", "debs"):
            (state / sub).mkdir(parents=True, exist_ok=True)
        opts = ["-o", "APT::Architecture=armhf", "-o", "APT::Architectures::=armhf",
                "-o", f"Dir::State={state / 'state'}", "-o", "Dir::State::status=/dev/null",
                "-o", f"Dir::Cache={state / 'cache'}", "-o", f"Dir::Etc::preferencesparts={state / 'prefs'}",
                "-o", "Debug::NoLocking=1", "-qq"]
        log("sysroot: downloading Debian's musl:armhf with apt-get (private state folder)")
        for argv, cwd in ((["apt-get", *opts, "update"], None),
                          (["apt-get", *opts, "download", f"{MUSL_PACKAGE}:armhf"], state / "debs")):
            res = _run(argv, cwd=cwd, timeout=600)
            if res.returncode != 0:
                raise ToolchainError(f"cannot fetch musl:armhf ({' '.join(argv[:1] + argv[-2:])}): "
                                     f"{(res.stderr or res.stdout).strip()[-500:]}")
        debs = sorted((state / "debs").glob("musl_*_armhf.deb"))
        if not debs:
            raise ToolchainError("cannot fetch musl:armhf: apt-get download gave no package")
        extract = state / "extract"
        shutil.rmtree(extract, ignore_errors=True)
        res = _run(["dpkg-deb", "-x", str(debs[-1]), str(extract)])
        if res.returncode != 0:
            raise ToolchainError(f"dpkg-deb -x {debs[-1].name} failed: {res.stderr.strip()}")
        shutil.copyfile(extract / "lib" / "arm-linux-musleabihf" / "libc.so", target)
        log(f"sysroot: musl from {debs[-1].name}")
    loader = root / MUSL_LOADER
    if loader.is_symlink() or loader.exists():
        loader.unlink()
    loader.symlink_to("arm-linux-musleabihf/libc.so")
    return root


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_firmware", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="firmware to build (default: all)")
    parser.add_argument("-o", "--out", help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("-f", "--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--cc", choices=("auto", "zig", "gcc"), help="compiler (default: $MT3620_FIRMWARE_CC or auto)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel builds (default 2)")
    parser.add_argument("--list", action="store_true", help="list the firmware and exit")
    parser.add_argument("--sysroot", action="store_true",
                        help="also fetch Debian's musl:armhf into the A7 sysroot (the dynamic loader apps need)")
    args = parser.parse_args(argv)
    if args.list:
        width = max(map(len, list(FIRMWARE) + list(HL_APPS)))
        for name, desc in {**FIRMWARE, **HL_APPS}.items():
            print(f"{name:<{width}}  {desc}")
        return 0
    hl_names = [n for n in args.names if n in HL_APPS]
    args.names = [n for n in args.names if n not in HL_APPS]
    want_io = bool(args.names) or not hl_names
    try:
        if args.sysroot:
            fetch_musl()
        if not args.names and not hl_names or hl_names:
            libs = build_sysroot_libs()
            for lib, path in libs.items():
                print(f"{lib:<20} {'ready':<10} {path}")
            for name in (hl_names or list(HL_APPS)):
                path = build_hl_app(name, args.out)
                print(f"{name:<20} {'ready':<10} {path} ({path.stat().st_size} bytes)")
    except ToolchainError as exc:
        print(f"build_firmware: error: {exc}", file=sys.stderr)
        return 2
    if not want_io:
        return 0
    try:
        cc = find_compiler(args.cc)
        out = Path(args.out) if args.out else DEFAULT_OUT
        before = {n: (out / f"{n}.elf").stat().st_mtime_ns if (out / f"{n}.elf").is_file() else None
                  for n in (args.names or FIRMWARE)}
        built = build_all(args.out, force=args.force, compiler=args.cc, names=args.names or None,
                          jobs=args.jobs)
    except ToolchainError as exc:
        print(f"build_firmware: error: {exc}", file=sys.stderr)
        return 2
    except OSError as exc:
        print(f"build_firmware: error: {exc}", file=sys.stderr)
        return 2
    try:
        packages = {name: build_rtapp_package(name, args.out) for name in built if _SPECS[name].runtime is not None}
    except (ToolchainError, OSError, ValueError) as exc:
        print(f"build_firmware: error: packing the RTApps: {exc}", file=sys.stderr)
        return 2
    for name, path in built.items():
        state = "up to date" if before.get(name) == path.stat().st_mtime_ns else "built"
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        print(f"{name:<20} {state:<10} {shown} ({path.stat().st_size} bytes)")
    print(f"build_firmware: {len(built)} firmware with {cc.kind} {cc.version}; {len(packages)} sideloadable "
          f"packages (<name>.imagepackage: the ELF and its app_manifest.json, signed with the SDK test key)")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
