"""Builds the project's own IO-core firmware (firmware/<name>/*.c + firmware/common/) into ELF files.

The compiler is Zig's clang (`python3 -m ziglang cc`, PyPI `ziglang`, a project dependency) targeting a
Cortex-M4F with the hard-float ABI; Debian's `arm-none-eabi-gcc` is the fallback when ziglang is absent.
There is no C library and no C runtime: the firmware brings its own startup, vector table and helpers, and
the linker script places the vector table (the ELF entry point) at the start of TCM as the Azure Sphere
RTApp samples do.

Builds are deterministic (the same sources give the same bytes: no build IDs, source paths recorded relative
to firmware/) and incremental: an ELF is rebuilt only when the hash of its inputs (every source and header,
the linker script, the compiler's identity and flags) differs from the one recorded next to it.

API: `FIRMWARE` (name -> one-line description), `build(name)`, `build_all(out_dir=None)`,
`firmware_path(name)` (builds on demand), `ToolchainError`. Command line: `scripts/build_firmware`.
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
}


@dataclass(frozen=True)
class _Spec:
    src: str                      # folder under firmware/ holding the firmware's own sources
    ld: str = "tcm.ld"            # linker script under firmware/common/
    defines: tuple[str, ...] = ()
    drivers: tuple[str, ...] = ()  # shared drivers from firmware/drivers/ that this firmware links


_SPECS: dict[str, _Spec] = {name: _Spec(name) for name in FIRMWARE}
_SPECS["uart_irq"] = _Spec("uart_irq", drivers=("uart_irq.c",))
_SPECS["irq_storm"] = _Spec("irq_storm", drivers=("uart_irq.c",))
_SPECS["blink_button"] = _Spec("blink_button", drivers=("sleep.c",))
_SPECS["watchdog"] = _Spec("watchdog", drivers=("sleep.c",))
_SPECS["hello_xip"] = _Spec("hello", ld="xip.ld")
_SPECS["busfault_unhandled"] = _Spec("busfault", defines=("BUSFAULT_UNHANDLED=1",))

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
    for folder in (COMMON, spec.src):
        d = fw / folder
        if not d.is_dir():
            raise ToolchainError(f"firmware sources missing: {d}")
        for p in sorted(d.iterdir()):
            if p.is_file() and p.suffix in (".c", ".h", ".S", ".ld"):
                rel = f"{folder}/{p.name}"
                inputs.append(rel)
                if p.suffix in (".c", ".S"):
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
    argv += [f"-ffile-prefix-map={fw}=firmware", f"-fdebug-prefix-map={fw}=firmware",
             f"-I{COMMON}", f"-I{DRIVERS}", f"-I{spec.src}"]
    argv += [f"-D{d}" for d in spec.defines]
    argv += [f"-Wl,-T,{COMMON}/{spec.ld}"] + list(_LDFLAGS) + ["-o", output] + c_files
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


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="build_firmware", description=__doc__.split("\n\n")[0])
    parser.add_argument("names", nargs="*", metavar="NAME", help="firmware to build (default: all)")
    parser.add_argument("-o", "--out", help=f"output folder (default: {DEFAULT_OUT})")
    parser.add_argument("-f", "--force", action="store_true", help="rebuild even when up to date")
    parser.add_argument("--cc", choices=("auto", "zig", "gcc"), help="compiler (default: $MT3620_FIRMWARE_CC or auto)")
    parser.add_argument("-j", "--jobs", type=int, default=2, help="parallel builds (default 2)")
    parser.add_argument("--list", action="store_true", help="list the firmware and exit")
    args = parser.parse_args(argv)
    if args.list:
        width = max(map(len, FIRMWARE))
        for name, desc in FIRMWARE.items():
            print(f"{name:<{width}}  {desc}")
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
    for name, path in built.items():
        state = "up to date" if before.get(name) == path.stat().st_mtime_ns else "built"
        try:
            shown = path.relative_to(Path.cwd())
        except ValueError:
            shown = path
        print(f"{name:<20} {state:<10} {shown} ({path.stat().st_size} bytes)")
    print(f"build_firmware: {len(built)} firmware with {cc.kind} {cc.version}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
