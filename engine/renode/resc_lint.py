"""The project's linter for Renode Monitor scripts (.resc): what Renode would only find when a line runs.

Renode itself checks a script by running it (tests/renode runs mt3620.resc in the real Renode of ../shared/);
this linter reads it without Renode and reports, with file:line:col:
  * unknown commands: the first word of a line must be a Monitor command, `machine`/`emulation`/`sysbus`/...,
    or a peripheral of the platform (names resolve through `using` prefixes, as in the Monitor);
  * variables used before any definition (`$name=...` or `$name?=...`; `$ORIGIN` always exists);
  * `$ORIGIN/...` paths that do not exist next to the script (errors, except for images: ELF and image
    packages may be build outputs not built yet, warnings);
  * macros: `runMacro $x` names a macro defined in the script, every triple-quoted block is closed;
  * GDB servers (`machine StartGdbServer PORT ...`, also in comments that document them): unique ports, and the
    CPU named exists in the platform.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from pathlib import Path

from mt3620.engine.renode.platform_check import Problem
from mt3620.engine.repl import Platform

# Monitor commands (renode-infrastructure src/Emulator/Main/UserInterface/Commands, renode
# src/Renode/UserInterface/Commands) and the objects a script addresses directly.
MONITOR_COMMANDS = {
    "allowPrivates", "analyzers", "autoSave", "createPlatform", "displayImage", "execute", "help", "?", "include",
    "i", "lastLog", "log", "logLevel", "logFile", "mach", "path", "networkLogger", "numbersMode", "pause", "p",
    "peripherals", "python", "py", "quit", "q", "require", "resd", "reverseExecMode", "set", "setAndRevertAfter",
    "showAnalyzer", "sa", "start", "s", "string", "tags", "time", "using", "verboseMode", "version", "watch",
    "macro", "runMacro", "echo", "emulation", "machine", "connector", "host", "monitor", "clear", "commands",
}
GDB_PORT_RE = re.compile(r"^\s*(?:#\s*)?machine\s+StartGdbServer\s+(\d+)(?:\s+(\S+))?(?:\s+(\S+))?")
VAR_DEF_RE = re.compile(r"^\s*\$([A-Za-z_][A-Za-z0-9_.]*)\s*(\?=|=)\s*(.*)$")
VAR_USE_RE = re.compile(r"\$([A-Za-z_][A-Za-z0-9_.]*[A-Za-z0-9_])")
ORIGIN_PATH_RE = re.compile(r"@?\$ORIGIN(/[^\s\"']*)")
BUILTIN_VARIABLES = {"ORIGIN", "CWD"}
IMAGE_SUFFIXES = (".elf", ".out", ".bin", ".imagepackage")


@dataclass
class _Line:
    number: int
    text: str
    in_macro: bool


def lint_resc(path: str | Path, platform: Platform | None = None) -> list[Problem]:
    path = Path(path)
    problems: list[Problem] = []

    def add(line: int, col: int, msg: str, kind: str = "error") -> None:
        problems.append(Problem((str(path), line, col), msg, kind))

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as exc:
        return [Problem((str(path), 0, 0), f"cannot read: {exc}")]
    raw = text.splitlines()
    lines: list[_Line] = []
    macros: dict[str, int] = {}
    set_vars: dict[str, int] = {}
    i = 0
    while i < len(raw):
        t = raw[i]
        stripped = t.strip()
        n = i + 1
        m = re.match(r'^\s*(macro|set)\s+([A-Za-z_][A-Za-z0-9_.]*)\s*(.*)$', t)
        if m and m.group(1) == "set":
            # `set NAME value` or `set NAME` + a triple-quoted block: defines $NAME (like macro, not run)
            set_vars[m.group(2)] = n
            rest = m.group(3).strip()
            if rest == "" or rest == '"""':
                j = i + 1
                if rest != '"""':
                    while j < len(raw) and not raw[j].strip():
                        j += 1
                    if j < len(raw) and raw[j].strip() == '"""':
                        j += 1
                    else:
                        i += 1
                        continue
                close = next((k for k in range(j, len(raw)) if '"""' in raw[k]), None)
                if close is None:
                    add(n, 1, 'unclosed """ block')
                    close = len(raw)
                i = close + 1
            else:
                i += 1
            continue
        if m:
            m = re.match(r'^\s*macro\s+([A-Za-z_][A-Za-z0-9_.]*)\s*(.*)$', t)
            macros[m.group(1)] = n
            rest = m.group(2).strip()
            if rest and rest != '"""':
                lines.append(_Line(n, " " * (len(t) - len(t.lstrip())) + rest.strip('"'), True))  # inline body
                i += 1
                continue
            j = i + 1
            if rest != '"""':
                while j < len(raw) and not raw[j].strip():
                    j += 1
                if j >= len(raw) or raw[j].strip() != '"""':
                    add(n, 1, f"macro {m.group(1)}: its body must start with a line holding only \"\"\"")
                    i = j
                    continue
                j += 1
            close = next((k for k in range(j, len(raw)) if raw[k].strip().endswith('"""')), None)
            if close is None:
                add(j, 1, 'unclosed """ block')
                close = len(raw)
            for k in range(j, close):
                lines.append(_Line(k + 1, raw[k], True))
            i = close + 1
            continue
        if stripped.count('"""') % 2 == 1 and not stripped.startswith("#"):
            # a command with a triple-quoted argument (python """...""", $x = """..."""): not linted inside
            close = next((k for k in range(i + 1, len(raw)) if '"""' in raw[k]), None)
            if close is None:
                add(n, t.index('"""') + 1, 'unclosed """ block')
                close = len(raw)
            if stripped != '"""':
                lines.append(_Line(n, t[:t.index('"""')], False))
            # a line holding only the quotes is the argument of the command on the line before (`python`)
            i = close + 1
            continue
        lines.append(_Line(n, t, False))
        i += 1

    # variables: definitions anywhere count for macro bodies (they run later); top level needs them earlier
    all_defs = {m.group(1): ln.number for ln in lines if (m := VAR_DEF_RE.match(ln.text)) and not ln.in_macro}
    defined: set[str] = set(BUILTIN_VARIABLES) | set(macros) | set(set_vars)
    prefixes: list[str] = []
    names = set(platform.entries) if platform else set()
    cpus = {e.name for e in platform.cpus()} if platform else set()
    gdb_ports: dict[int, tuple[int, bool]] = {}

    # a script that includes others or runs Python may get variables from them: unknown ones are then warnings
    opaque = any(re.match(r"^\s*(include|i|python|py)\b", ln.text) for ln in lines)
    for ln in lines:
        t = ln.text
        stripped = t.strip()
        gm = GDB_PORT_RE.match(t)
        if gm:
            port = int(gm.group(1))
            commented = stripped.startswith("#")
            if port in gdb_ports:
                first, first_commented = gdb_ports[port]
                add(ln.number, t.index(gm.group(1)) + 1, f"GDB port {port} is already used on line {first}",
                    "warning" if (commented or first_commented) else "error")
            else:
                gdb_ports[port] = (ln.number, commented)
            if not 0 < port < 65536:
                add(ln.number, t.index(gm.group(1)) + 1, f"GDB port {port} is out of range")
            cpu_arg = gm.group(3)
            if cpu_arg and platform is not None and cpu_arg not in cpus:
                add(ln.number, t.index(cpu_arg) + 1, f"StartGdbServer names {cpu_arg!r}, not a CPU of the platform")
        if not stripped or stripped.startswith("#") or stripped.startswith(":"):
            continue
        code = _strip_comment(t)
        dm = VAR_DEF_RE.match(code)
        uses_text = dm.group(3) if dm else code
        for um in VAR_USE_RE.finditer(uses_text):
            var = um.group(1)
            known = var in defined or (ln.in_macro and var in all_defs)
            if not known:
                col = (code.index(uses_text) if dm else 0) + um.start() + 1
                if opaque:
                    add(ln.number, col, f"variable ${var} is not defined in this script (an included script or "
                                        f"Python code may define it)", "warning")
                else:
                    add(ln.number, col, f"variable ${var} is used before it is defined")
        for om in ORIGIN_PATH_RE.finditer(code):
            target = path.parent / om.group(1).lstrip("/")
            if not target.exists():
                is_image = target.suffix in IMAGE_SUFFIXES
                add(ln.number, om.start() + 1,
                    f"{target} does not exist" + (" (build it first?)" if is_image else ""),
                    "warning" if is_image else "error")
        if dm:
            defined.add(dm.group(1))
            continue
        words = code.split()
        first = words[0]
        col = len(code) - len(code.lstrip()) + 1
        if first == "runMacro":
            if len(words) < 2 or not words[1].startswith("$"):
                add(ln.number, col, "runMacro needs a $macro")
            elif words[1][1:] not in macros:
                add(ln.number, code.index(words[1]) + 1, f"no macro named {words[1][1:]!r} in this script")
            continue
        if first == "using":
            if len(words) >= 2:
                prefixes.append(words[1].rstrip(".") + ".")
            continue
        if first in MONITOR_COMMANDS or first.startswith("$"):
            continue
        if platform is not None and _resolves(first, names, prefixes):
            continue
        if platform is None and re.match(r"^[A-Za-z_][A-Za-z0-9_.]*$", first):
            continue  # without the platform a peripheral name cannot be told from a typo
        add(ln.number, col, f"unknown command or peripheral {first!r}")
    return problems


def _strip_comment(line: str) -> str:
    out, quote = [], None
    for ch in line:
        if quote:
            if ch == quote:
                quote = None
        elif ch in "\"'":
            quote = ch
        elif ch == "#":
            break
        out.append(ch)
    return "".join(out).rstrip()


def _resolves(word: str, names: set[str], prefixes: list[str]) -> bool:
    base = word.split(".")
    candidates = [word] + [p + word for p in prefixes]
    for c in candidates:
        parts = c.split(".")
        if parts[0] == "sysbus":
            parts = parts[1:]
        if not parts or parts[0] in names or parts[0] == "sysbus":
            return True
    return base[0] in names
