"""Checks of the Renode-side files that cannot be run here: the .resc script and the IronPython 2.7 shims.

`lint_resc(path, platform=None)` reads a Renode Monitor script and reports, with file:line:col:
  * unknown commands: the first word of a line must be a Monitor command, `machine`/`emulation`/`sysbus`/...,
    or a peripheral of the platform (names resolve through `using` prefixes, as in the Monitor);
  * variables used before any definition (`$name=...` or `$name?=...`; `$ORIGIN` always exists);
  * `$ORIGIN/...` paths that do not exist next to the script (errors for platform descriptions and included
    scripts; warnings for images, which may be build outputs not built yet);
  * macros: `runMacro $x` names a macro defined in the script, every triple-quoted block is closed;
  * GDB servers (`machine StartGdbServer PORT ...`, also in comments that document them): unique ports, and the
    CPU named exists in the platform.
`check_py27(source, filename)` reports syntax that IronPython 2.7 does not accept, for code written in the
common subset of Python 2.7 and 3 (the shims run under CPython 3 in tests too): f-strings, annotations, walrus,
nonlocal, async/await, keyword-only and positional-only parameters, `yield from`, `raise ... from`, starred
assignment targets and unpacking in literals or calls beyond one `*args`/`**kwargs`, the `@` operator,
`print` used as a function without `from __future__ import print_function`, numeric literals with `_`,
non-ASCII identifiers, `...` outside subscripts, bytes-and-raw `rb''` prefixes, and `exec`/`print` as names.
"""
from __future__ import annotations

import ast
import io
import re
import tokenize
from dataclasses import dataclass
from pathlib import Path

from mt3620.engine.repl.check import Problem
from mt3620.engine.repl.parser import Platform

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
PATH_COMMANDS = ("LoadPlatformDescription", "include", "i")


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
                is_structural = any(k in code for k in PATH_COMMANDS) or (dm and dm.group(1) == "platform")
                add(ln.number, om.start() + 1,
                    f"{target} does not exist" + ("" if is_structural else " (build it first?)"),
                    "error" if is_structural else "warning")
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


# ---- Python 2.7 syntax ------------------------------------------------------------------------------------------
def check_py27(source: str, filename: str = "<shim>") -> list[Problem]:
    problems: list[Problem] = []

    def add(node_or_pos, msg: str) -> None:
        if isinstance(node_or_pos, tuple):
            line, col = node_or_pos
        else:
            line, col = getattr(node_or_pos, "lineno", 0), getattr(node_or_pos, "col_offset", -1) + 1
        problems.append(Problem((filename, line, col), f"not Python 2.7: {msg}"))

    try:
        tree = ast.parse(source, filename=filename)
    except SyntaxError as exc:
        return [Problem((filename, exc.lineno or 0, exc.offset or 0), f"syntax error: {exc.msg}")]

    # tokens: numeric literals with '_', string prefixes, non-ASCII names, print_function import
    try:
        tokens = list(tokenize.generate_tokens(io.StringIO(source).readline))
    except (tokenize.TokenError, SyntaxError) as exc:
        return [Problem((filename, 0, 0), f"tokenize error: {exc}")]
    for tok in tokens:
        if tok.type == tokenize.NUMBER and "_" in tok.string:
            add(tok.start[0:1] + (tok.start[1] + 1,), f"numeric literal with '_' ({tok.string})")
        elif tok.type == tokenize.STRING:
            prefix = re.match(r"^[A-Za-z]*", tok.string).group().lower()
            if "f" in prefix:
                add((tok.start[0], tok.start[1] + 1), "f-string")
            elif "b" in prefix and "r" in prefix and prefix.index("r") < prefix.index("b"):
                add((tok.start[0], tok.start[1] + 1), f"string prefix {prefix!r}")
        elif tok.type == tokenize.NAME and not tok.string.isascii():
            add((tok.start[0], tok.start[1] + 1), f"non-ASCII identifier {tok.string!r}")
    print_function = any(isinstance(n, ast.ImportFrom) and n.module == "__future__" and
                         any(a.name == "print_function" for a in n.names) for n in ast.walk(tree))

    subscript_ellipsis = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.Subscript):
            for sub in ast.walk(node.slice):
                if isinstance(sub, ast.Constant) and sub.value is Ellipsis:
                    subscript_ellipsis.add(id(sub))

    for node in ast.walk(tree):
        if isinstance(node, ast.JoinedStr):
            add(node, "f-string")
        elif isinstance(node, ast.AnnAssign):
            add(node, "variable annotation")
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda)):
            if isinstance(node, ast.AsyncFunctionDef):
                add(node, "async def")
            a = node.args
            if a.posonlyargs:
                add(node, "positional-only parameters")
            if a.kwonlyargs:
                add(node, "keyword-only parameters")
            for arg in a.posonlyargs + a.args + a.kwonlyargs + [x for x in (a.vararg, a.kwarg) if x]:
                if arg.annotation is not None:
                    add(arg, "parameter annotation")
            if not isinstance(node, ast.Lambda) and node.returns is not None:
                add(node, "return annotation")
        elif isinstance(node, ast.NamedExpr):
            add(node, "assignment expression (:=)")
        elif isinstance(node, ast.Nonlocal):
            add(node, "nonlocal")
        elif isinstance(node, (ast.Await, ast.AsyncFor, ast.AsyncWith)):
            add(node, "async/await")
        elif isinstance(node, ast.YieldFrom):
            add(node, "yield from")
        elif isinstance(node, ast.Raise) and node.cause is not None:
            add(node, "raise ... from")
        elif isinstance(node, ast.BinOp) and isinstance(node.op, ast.MatMult):
            add(node, "@ operator")
        elif isinstance(node, ast.AugAssign) and isinstance(node.op, ast.MatMult):
            add(node, "@= operator")
        elif isinstance(node, (ast.Assign, ast.For, ast.comprehension)):
            targets = node.targets if isinstance(node, ast.Assign) else [node.target]
            for t in targets:
                for sub in ast.walk(t):
                    if isinstance(sub, ast.Starred):
                        add(sub, "starred assignment target")
        elif isinstance(node, (ast.List, ast.Tuple, ast.Set)) and isinstance(node.ctx if hasattr(node, "ctx") else ast.Load(), ast.Load):
            if any(isinstance(e, ast.Starred) for e in node.elts):
                add(node, "unpacking in a literal")
        elif isinstance(node, ast.Dict):
            if any(k is None for k in node.keys):
                add(node, "** unpacking in a dict literal")
        elif isinstance(node, ast.Call):
            stars = [a for a in node.args if isinstance(a, ast.Starred)]
            if len(stars) > 1 or (stars and node.args[-1] is not stars[0]):
                add(node, "more than one *args or positional arguments after *args")
            kw_unpack = [k for k in node.keywords if k.arg is None]
            if len(kw_unpack) > 1 or (kw_unpack and node.keywords[-1] is not kw_unpack[0]):
                add(node, "more than one **kwargs or keywords after **kwargs")
            if isinstance(node.func, ast.Name) and node.func.id == "print" and not print_function:
                if len(node.args) != 1 or node.keywords:
                    add(node, "print() with several arguments or keywords needs "
                              "`from __future__ import print_function`")
        elif isinstance(node, ast.Constant) and node.value is Ellipsis and id(node) not in subscript_ellipsis:
            add(node, "... outside a subscript")
        elif isinstance(node, ast.Name) and node.id in ("print", "exec") and isinstance(node.ctx, ast.Store):
            add(node, f"{node.id} is a keyword in Python 2.7")
        elif isinstance(node, ast.Match):
            add(node, "match statement")
        elif isinstance(node, ast.ClassDef) and node.keywords:
            add(node, "class keywords (metaclass=...)")
    if hasattr(ast, "TryStar"):
        for node in ast.walk(tree):
            if isinstance(node, ast.TryStar):
                add(node, "except*")
    unique = {(p.location, p.message): p for p in problems}
    return sorted(unique.values(), key=lambda p: (p.location[1], p.location[2], p.message))


def check_shim_file(path: str | Path) -> list[Problem]:
    path = Path(path)
    try:
        source = path.read_text(encoding="ascii")
    except UnicodeDecodeError:
        return [Problem((str(path), 1, 1), "not ASCII: IronPython 2.7 reads source as ASCII without a coding line")]
    except OSError as exc:
        return [Problem((str(path), 0, 0), f"cannot read: {exc}")]
    return check_py27(source, str(path))
