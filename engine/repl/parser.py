"""Parser for the Renode platform description (.repl) subset the MT3620 platform uses.

The same files are loaded by Renode (`machine LoadPlatformDescription`) and by the embedded engine, so the
grammar follows Renode's own (renode/renode src/Renode/PlatformDescription/Syntax/Grammar.cs and PreLexer.cs,
renode-docs source/advanced/platform_description_format.md):

  * entries `[local] name: [Type.Name] [@ registration | @ { reg; reg } | @ none] [as "alias"] [{ attributes }]`;
  * a registration is `bus [point]`, the point being a value: `0x1000`, `<0x1000, +0x100>`, `<begin, end>`
    (end exclusive) or an inline object `new Bus.BusPointRegistration { address: 0x...; cpu: cpuM4_0 }`;
  * attributes `name: value` (`none` unsets, `empty` = the type's default), IRQ connections
    (`-> nvic@4`, `2 -> gic@[5]`, `[0-5] -> nvic@[6-11]`, `irqName -> a@1 | b@2`, `dst#idx@n`, `-> none`),
    and `preinit:` / `init:` / `reset:` blocks (optionally `add`), kept as raw monitor statements;
  * values: strings ("..." with \\" and \\\\ escapes, '''multi-line'''), numbers (decimal, 0x hex, `_` separators,
    optional sign, decimal fractions), booleans (true/True/false/False), ranges, references, enums
    (`A.B` or `.B`), lists, dictionaries and inline objects;
  * `//` comments (at line start or after a space) and `/* */` comments;
  * meaningful indentation: four spaces per level, each level is a brace; inside explicit braces indentation
    and new lines are plain white space and `;` separates elements;
  * `using "file"` entries before any other entry. As in Renode, a path starting with `./` or `../` is relative
    to the including file, an absolute path is taken as is, any other path is searched in a list of prefixes
    (Renode: the Monitor's path prefixes; here: `search_paths`, by default the including file's folder and the
    folder holding the platforms package). Renode has no `$ORIGIN` inside .repl files; .resc scripts have it.

A malformed file raises `ReplError` whose str() is "file:line:col: message" (1-based line and column).
"""
from __future__ import annotations

import importlib.resources
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable

__all__ = [
    "ReplError", "Registration", "IrqConnection", "Entry", "Platform", "Reference", "EnumValue", "AddressRange",
    "InlineObject", "EMPTY", "parse_text", "load_platform", "model_for", "default_platform_path", "shim_path",
    "BUILTIN_NAMES", "PYTHON_PERIPHERAL",
]

Location = tuple  # (file, line, column)

# Variables that exist in every Renode machine before a description is loaded.
BUILTIN_NAMES = frozenset({"sysbus"})
PYTHON_PERIPHERAL = "Python.PythonPeripheral"
MODEL_HEADER = re.compile(r"^#\s*mt3620-model:\s*([A-Za-z_][\w.]*:[A-Za-z_]\w*)\s*$")


class ReplError(Exception):
    """A malformed platform description: carries the file, 1-based line and column."""

    def __init__(self, file: str | Path, line: int, column: int, message: str) -> None:
        self.file, self.line, self.column, self.message = str(file), line, column, message
        super().__init__(f"{self.file}:{line}:{column}: {message}")


# ---- values -------------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Reference:
    """A value naming another variable (`nvic: nvic0`)."""
    name: str

    def __str__(self) -> str:
        return self.name


@dataclass(frozen=True)
class EnumValue:
    """An enum-like identifier: `Foo.Bar.Baz` or the shorthand `.Baz` (parts = ("Baz",))."""
    parts: tuple[str, ...]

    @property
    def name(self) -> str:
        return self.parts[-1]

    def __str__(self) -> str:
        return ".".join(self.parts) if len(self.parts) > 1 else "." + self.parts[0]


@dataclass(frozen=True)
class AddressRange:
    """`<begin, end>` (end exclusive) or `<begin, +size>`."""
    start: int
    end: int

    @property
    def size(self) -> int:
        return self.end - self.start


@dataclass(frozen=True)
class InlineObject:
    """`new Type { attributes }`: attributes as a plain dict (IRQ attributes are not allowed inside)."""
    type: str
    attributes: dict = field(default_factory=dict, hash=False)


class _Empty:
    """The `empty` keyword: the type's default value (0, null, first enum member)."""
    _instance = None

    def __new__(cls) -> "_Empty":
        if cls._instance is None:
            cls._instance = super().__new__(cls)
        return cls._instance

    def __repr__(self) -> str:
        return "EMPTY"


EMPTY = _Empty()
_NONE = object()  # the `none` keyword inside one entry, before merging


# ---- data model ---------------------------------------------------------------------------------------------
@dataclass(frozen=True)
class Registration:
    """Where an entry is registered. `cpu` is set for per-CPU registrations (BusPointRegistration with `cpu`).

    `address`/`size` are None when the form does not give them (`@ sysbus` for CPUs, `@ sysbus 0x...` has no
    size: the size then comes from the entry's `size` attribute or the model). `point` keeps the raw
    registration point value for forms the engine does not interpret."""
    bus: str
    address: int | None = None
    size: int | None = None
    cpu: str | None = None
    point: Any = field(default=None, compare=False)
    location: Location | None = field(default=None, compare=False)


@dataclass(frozen=True)
class IrqConnection:
    """One line: output `source` of the entry (None = its default output, an int, or a named output) drives
    input `target_input` of entry `target` (`local_index` is the `#n` of `target#n@input`)."""
    source: int | str | None
    target: str
    target_input: int | str
    location: Location | None = field(default=None, compare=False)
    local_index: int | None = None


@dataclass
class Entry:
    name: str
    type: str | None
    registrations: list[Registration]
    attributes: dict[str, object]
    irqs: list[IrqConnection]
    location: Location
    init: list[str] = field(default_factory=list)
    preinit: list[str] = field(default_factory=list)
    reset: list[str] = field(default_factory=list)
    alias: str | None = None
    local: bool = False
    locations: list[Location] = field(default_factory=list)   # every entry that contributed, in merge order

    def attr(self, name: str, default: Any = None) -> Any:
        value = self.attributes.get(name, default)
        return default if value is EMPTY else value


@dataclass
class Platform:
    entries: dict[str, Entry]
    files: list[Path]
    usings: list[tuple[Path, Location]] = field(default_factory=list)  # (resolved file, location of `using`)

    def __getitem__(self, name: str) -> Entry:
        return self.entries[name]

    def __contains__(self, name: object) -> bool:
        return name in self.entries

    def of_type(self, *types: str) -> list[Entry]:
        return [e for e in self.entries.values() if e.type in types]

    def cpus(self) -> list[Entry]:
        return [e for e in self.entries.values() if e.type and e.type.split(".")[0] == "CPU"]

    def region_size(self, entry: Entry, reg: Registration) -> int | None:
        """Size of a bus registration: explicit, else the entry's `size` attribute, else the model's SIZE."""
        if reg.size is not None:
            return reg.size
        size = entry.attr("size")
        if isinstance(size, int) and not isinstance(size, bool):
            return size
        model = model_for(entry, missing_ok=True)
        if model:
            try:
                cls = _import_model(model)
                size = getattr(cls, "SIZE", None)
                if isinstance(size, int):
                    return size
            except Exception:  # noqa: BLE001 - an unimportable model is reported by platform_check
                return None
        return None

    def bus_view(self, cpu: str | None = None, bus: str = "sysbus") -> list[tuple[int, int | None, Entry, Registration]]:
        """Registrations with an address on `bus` that `cpu` sees (global ones plus its own), sorted by address."""
        out = []
        for entry in self.entries.values():
            for reg in entry.registrations:
                if reg.bus != bus or reg.address is None:
                    continue
                if reg.cpu is not None and reg.cpu != cpu:
                    continue
                out.append((reg.address, self.region_size(entry, reg), entry, reg))
        out.sort(key=lambda x: (x[0], x[2].name))
        return out


# ---- lexer --------------------------------------------------------------------------------------------------
KEYWORDS = frozenset({"using", "new", "as", "preinit", "init", "reset", "local", "true", "True", "false", "False",
                      "none", "empty"})
_IDENT = re.compile(r"[A-Za-z][A-Za-z0-9_]*")
_DOTTED = re.compile(r"[A-Za-z][A-Za-z0-9_]*(?:\.[A-Za-z][A-Za-z0-9_]*)*")
_HEX = re.compile(r"0x([0-9A-Fa-f]+(?:_[0-9A-Fa-f]+)*)")
_DEC = re.compile(r"([0-9]+(?:_[0-9]+)*)(\.[0-9]+)?")
_PUNCT2 = ("->",)
_PUNCT1 = set(":;,@<>{}[]+-|#.")


@dataclass
class Tok:
    kind: str          # ident, number, string, punct, other, eof
    text: str
    value: Any
    line: int
    col: int
    start: int         # offsets into the source text (synthetic tokens: start == end)
    end: int
    synthetic: bool = False


class _Lexer:
    def __init__(self, text: str, file: str) -> None:
        self.src = text.replace("\r\n", "\n").replace("\r", "\n")
        self.file = file
        self.pos = 0
        self.line = 1
        self.line_start = 0

    def error(self, message: str, line: int | None = None, col: int | None = None) -> ReplError:
        return ReplError(self.file, line or self.line, col or (self.pos - self.line_start + 1), message)

    def _newline(self, at: int) -> None:
        self.line += 1
        self.line_start = at + 1

    def tokens(self) -> list[Tok]:
        src, n = self.src, len(self.src)
        out: list[Tok] = []
        depth = 0               # explicit braces, for the comment rules of indent mode
        line_first = True       # next token is the first on its physical line
        while self.pos < n:
            c = src[self.pos]
            if c == "\n":
                self._newline(self.pos)
                self.pos += 1
                line_first = True
                continue
            if c in " \t":
                self.pos += 1
                continue
            col = self.pos - self.line_start + 1
            if c == "/" and self.pos + 1 < n and src[self.pos + 1] == "/" and \
                    (self.pos == self.line_start or src[self.pos - 1] == " "):
                while self.pos < n and src[self.pos] != "\n":
                    self.pos += 1
                continue
            if c == "/" and self.pos + 1 < n and src[self.pos + 1] == "*":
                self._block_comment(depth, line_first)
                continue
            start, line = self.pos, self.line
            tok: Tok
            if c == '"':
                tok = self._string(start, line, col)
            elif src.startswith("'''", self.pos):
                tok = self._multiline_string(start, line, col)
            elif c.isdigit():
                tok = self._number(start, line, col)
            elif c.isalpha():
                m = _DOTTED.match(src, self.pos)
                self.pos = m.end()
                tok = Tok("ident", m.group(), m.group(), line, col, start, self.pos)
            elif src.startswith("->", self.pos):
                self.pos += 2
                tok = Tok("punct", "->", "->", line, col, start, self.pos)
            elif c in _PUNCT1:
                self.pos += 1
                tok = Tok("punct", c, c, line, col, start, self.pos)
                depth += 1 if c == "{" else -1 if c == "}" else 0
            else:
                self.pos += 1
                tok = Tok("other", c, c, line, col, start, self.pos)
            tok.first = line_first  # type: ignore[attr-defined]
            line_first = False
            out.append(tok)
        return out

    def _block_comment(self, depth: int, line_first: bool) -> None:
        src = self.src
        start_line, start_col = self.line, self.pos - self.line_start + 1
        close = src.find("*/", self.pos + 2)
        if close < 0:
            raise self.error("unterminated /* comment", start_line, start_col)
        body = src[self.pos:close]
        newlines = body.count("\n")
        rest_of_line_end = src.find("\n", close + 2)
        rest = src[close + 2: rest_of_line_end if rest_of_line_end >= 0 else len(src)]
        for i, ch in enumerate(body):
            if ch == "\n":
                self._newline(self.pos + i)
        self.pos = close + 2
        if depth == 0 and rest.strip():
            if newlines:
                raise self.error("a multi-line comment in indent mode can only end at the end of a line",
                                 self.line, close - self.line_start + 1)
            if line_first:
                raise self.error("a /* */ comment that starts a line in indent mode must run to the end of the line",
                                 start_line, start_col)

    def _string(self, start: int, line: int, col: int) -> Tok:
        src, n = self.src, len(self.src)
        i = self.pos + 1
        chars = []
        while True:
            if i >= n or src[i] == "\n":
                raise self.error("unterminated string", line, col)
            ch = src[i]
            if ch == "\\":
                nxt = src[i + 1] if i + 1 < n else ""
                if nxt not in ('"', "\\"):
                    raise self.error("invalid escape in string: only \\\" and \\\\ are allowed", line,
                                     i - self.line_start + 1)
                chars.append(nxt)
                i += 2
                continue
            if ch == '"':
                break
            chars.append(ch)
            i += 1
        self.pos = i + 1
        text = "".join(chars)
        return Tok("string", src[start:self.pos], text, line, col, start, self.pos)

    def _multiline_string(self, start: int, line: int, col: int) -> Tok:
        src = self.src
        i = self.pos + 3
        chars = []
        while True:
            close = src.find("'''", i)
            if close < 0:
                raise self.error("unterminated multi-line string", line, col)
            if src[close - 1] == "\\" and not _escaped_backslash(src, close - 1):
                chars.append(src[i:close - 1] + "'''")
                i = close + 3
                continue
            chars.append(src[i:close])
            break
        body_start = self.pos
        self.pos = close + 3
        for k in range(body_start, close):
            if src[k] == "\n":
                self._newline(k)
        return Tok("string", src[start:self.pos], "".join(chars), line, col, start, self.pos)

    def _number(self, start: int, line: int, col: int) -> Tok:
        src = self.src
        m = _HEX.match(src, self.pos)
        if m:
            self.pos = m.end()
            value: int | float = int(m.group(1).replace("_", ""), 16)
        else:
            m = _DEC.match(src, self.pos)
            self.pos = m.end()
            digits = m.group(1).replace("_", "")
            value = float(digits + m.group(2)) if m.group(2) else int(digits)
        if self.pos < len(src) and (src[self.pos].isalnum() or src[self.pos] == "_"):
            # not a number (e.g. a hash inside a Monitor statement): the parser rejects it where a value is due
            m = re.compile(r"[0-9A-Za-z_.]+").match(src, start)
            self.pos = m.end()
            return Tok("badnumber", m.group(), None, line, col, start, self.pos)
        return Tok("number", src[start:self.pos], value, line, col, start, self.pos)


def _escaped_backslash(src: str, i: int) -> bool:
    """True when the backslash at i is itself escaped (preceded by an odd run of backslashes)."""
    k, run = i - 1, 0
    while k >= 0 and src[k] == "\\":
        run += 1
        k -= 1
    return run % 2 == 1


def _apply_indentation(tokens: list[Tok], lexer: _Lexer) -> list[Tok]:
    """Indent mode: a deeper line opens a brace, a shallower one closes braces then separates, an equal one
    separates. Only where no explicit brace is open, as Renode's pre-lexer does."""
    out: list[Tok] = []
    depth = 0
    level = 0
    src = lexer.src
    for i, tok in enumerate(tokens):
        if getattr(tok, "first", False) and depth == 0:
            line_begin = src.rfind("\n", 0, tok.start) + 1
            lead = src[line_begin:tok.start]
            if "\t" in lead:
                raise ReplError(lexer.file, tok.line, lead.index("\t") + 1,
                                "tabs are not allowed in indentation (use multiples of four spaces)")
            if lead.strip():
                # something (a comment) precedes the first token: Renode forbids that in indent mode
                raise ReplError(lexer.file, tok.line, 1, "a line in indent mode cannot start with a comment "
                                "followed by text")
            spaces = len(lead)
            if spaces % 4:
                raise ReplError(lexer.file, tok.line, spaces,
                                f"indentation has to be a multiple of 4 spaces, this one is {spaces}")
            new_level = spaces // 4
            if not out:
                if new_level:
                    raise ReplError(lexer.file, tok.line, 1, "the first line with text cannot be indented")
            else:
                prev = out[-1]
                where = (prev.line, prev.col + len(prev.text))
                if new_level > level:
                    out.extend(_synth("{", where, prev.end) for _ in range(new_level - level))
                else:
                    out.extend(_synth("}", where, prev.end) for _ in range(level - new_level))
                    out.append(_synth(";", where, prev.end))
            level = new_level
        if tok.kind == "punct" and tok.text in "{}":
            depth += 1 if tok.text == "{" else -1
            if depth < 0:
                raise ReplError(lexer.file, tok.line, tok.col, "unbalanced '}'")
        out.append(tok)
    if depth > 0:
        last = out[-1]
        raise ReplError(lexer.file, last.line, last.col + len(last.text), "missing '}' at end of file")
    if out:
        prev = out[-1]
        where = (prev.line, prev.col + len(prev.text))
        out.extend(_synth("}", where, prev.end) for _ in range(level))
    end_line = lexer.line
    out.append(Tok("eof", "end of file", None, end_line, 1, len(src), len(src), True))
    return out


def _synth(text: str, where: tuple[int, int], offset: int) -> Tok:
    return Tok("punct", text, text, where[0], where[1], offset, offset, True)


# ---- parser -------------------------------------------------------------------------------------------------
@dataclass
class _RawIrq:
    sources: list            # list of source ends (None / int / str); one per connection group
    dests: list              # list of (target, local_index, [inputs]) ; target None means `none`
    location: Location


@dataclass
class _RawEntry:
    name: str
    type: str | None
    registrations: list[Registration] | None      # None: not given; [] : `@ none`
    alias: str | None
    attributes: list[tuple[str, Any, Location]]
    irqs: list[_RawIrq]
    sections: list[tuple[str, bool, list[str], Location]]   # (kind, add, statements, location)
    local: bool
    location: Location


@dataclass
class _RawUsing:
    path: str
    location: Location


class _Parser:
    def __init__(self, tokens: list[Tok], file: str, src: str) -> None:
        self.toks = tokens
        self.i = 0
        self.file = file
        self.src = src

    # -- helpers
    @property
    def tok(self) -> Tok:
        return self.toks[self.i]

    def peek(self, k: int = 1) -> Tok:
        return self.toks[min(self.i + k, len(self.toks) - 1)]

    def loc(self, tok: Tok | None = None) -> Location:
        tok = tok or self.tok
        return (self.file, tok.line, tok.col)

    def error(self, message: str, tok: Tok | None = None) -> ReplError:
        tok = tok or self.tok
        return ReplError(self.file, tok.line, tok.col, message)

    def expected(self, what: str) -> ReplError:
        t = self.tok
        if t.kind == "badnumber":
            return self.error(f"malformed number {t.text!r}")
        found = "end of file" if t.kind == "eof" else ("end of line" if t.synthetic else repr(t.text))
        return self.error(f"expected {what}, found {found}")

    def is_punct(self, text: str, tok: Tok | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "punct" and tok.text == text

    def is_kw(self, word: str, tok: Tok | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "ident" and tok.text == word

    def is_ident(self, tok: Tok | None = None) -> bool:
        tok = tok or self.tok
        return tok.kind == "ident" and "." not in tok.text and tok.text not in KEYWORDS

    def take_punct(self, text: str, what: str | None = None) -> Tok:
        if not self.is_punct(text):
            raise self.expected(what or repr(text))
        t = self.tok
        self.i += 1
        return t

    def take_ident(self, what: str) -> Tok:
        if not self.is_ident():
            if self.tok.kind == "ident" and self.tok.text in KEYWORDS:
                raise self.error(f"expected {what}, found keyword {self.tok.text!r}")
            raise self.expected(what)
        t = self.tok
        self.i += 1
        return t

    # -- description
    def description(self) -> tuple[list[_RawUsing], list[_RawEntry]]:
        usings: list[_RawUsing] = []
        while self.is_kw("using"):
            t = self.tok
            self.i += 1
            if self.tok.kind != "string":
                raise self.expected("a quoted file name after 'using'")
            usings.append(_RawUsing(self.tok.value, self.loc(t)))
            self.i += 1
            if self.is_kw("prefixed"):
                raise self.error("'using ... prefixed' is not supported by this parser")
            while self.is_punct(";"):
                self.i += 1
        entries: list[_RawEntry] = []
        if self.tok.kind != "eof":
            entries.append(self.entry())
            while self.is_punct(";"):
                self.i += 1
                if self.is_kw("using"):
                    raise self.error("'using' entries have to come before any other entry")
                entries.append(self.entry())
        if self.tok.kind != "eof":
            if self.is_kw("using"):
                raise self.error("'using' entries have to come before any other entry")
            raise self.expected("';' or a new line between entries")
        return usings, entries

    def entry(self) -> _RawEntry:
        start = self.tok
        local = False
        if self.is_kw("local"):
            local = True
            self.i += 1
        name = self.take_ident("a variable name").text
        self.take_punct(":", "':' after the variable name")
        type_name = None
        if self.tok.kind == "ident" and self.tok.text not in KEYWORDS:
            type_name = self.tok.text
            self.i += 1
        registrations: list[Registration] | None = None
        if self.is_punct("@"):
            self.i += 1
            if self.is_kw("none"):
                self.i += 1
                registrations = []
            elif self.is_punct("{"):
                self.i += 1
                registrations = [self.registration()]
                while self.is_punct(";"):
                    self.i += 1
                    if self.is_punct("}"):
                        break
                    registrations.append(self.registration())
                self.take_punct("}", "'}' closing the registration list")
            else:
                registrations = [self.registration()]
        alias = None
        if self.is_kw("as"):
            self.i += 1
            if self.tok.kind != "string" or self.tok.text.startswith("'''"):
                raise self.expected("a quoted alias after 'as'")
            alias = self.tok.value
            self.i += 1
            if registrations is None:
                raise self.error("an alias needs a registration", start)
        attrs: list = []
        irqs: list = []
        sections: list = []
        if self.is_punct("{"):
            self.attribute_block(attrs, irqs, sections, allow_irq=True)
        if type_name is None and registrations is None and not (attrs or irqs or sections) and alias is None:
            raise self.error(f"entry '{name}' is empty: give a type, a registration or attributes", start)
        return _RawEntry(name, type_name, registrations, alias, attrs, irqs, sections, local, self.loc(start))

    def registration(self) -> Registration:
        t = self.tok
        bus = self.take_ident("a register (bus) name after '@'").text
        point = None
        if self.value_starts():
            point = self.value(allow_dict=False)
        return _make_registration(bus, point, self.loc(t))

    def attribute_block(self, attrs: list, irqs: list, sections: list, allow_irq: bool) -> None:
        self.take_punct("{", "'{'")
        if self.is_punct("}"):
            self.i += 1
            return
        self.attribute(attrs, irqs, sections, allow_irq)
        while self.is_punct(";"):
            self.i += 1
            if self.is_punct("}"):
                break
            self.attribute(attrs, irqs, sections, allow_irq)
        self.take_punct("}", "';', a new line or '}' after an attribute")

    def attribute(self, attrs: list, irqs: list, sections: list, allow_irq: bool) -> None:
        t = self.tok
        if t.kind == "ident" and t.text in ("init", "preinit", "reset") and \
                (self.is_punct(":", self.peek()) or (self.peek().text == "add" and self.is_punct(":", self.peek(2)))):
            self.i += 1
            add = False
            if self.tok.text == "add":
                add = True
                self.i += 1
            self.take_punct(":")
            sections.append((t.text, add, self.statements(t.text), self.loc(t)))
            return
        if self.is_ident() and self.is_punct(":", self.peek()):
            name = t.text
            self.i += 2
            if self.is_kw("none"):
                self.i += 1
                value: Any = _NONE
            elif self.is_kw("empty"):
                self.i += 1
                value = EMPTY
            else:
                if not self.value_starts(allow_dict=True):
                    raise self.expected(f"a value for '{name}'")
                value = self.value(allow_dict=True)
            attrs.append((name, value, self.loc(t)))
            return
        if self.is_punct("->") or self.is_punct("[") or self.tok.kind == "number" or \
                (self.is_ident() and self.is_punct("->", self.peek())):
            if not allow_irq:
                raise self.error("interrupt connections are not allowed in an inline object")
            irqs.append(self.irq_attribute())
            return
        raise self.expected("an attribute ('name: value', an interrupt connection '->' or an init section)")

    def statements(self, kind: str) -> list[str]:
        self.take_punct("{", f"an indented block or '{{' with the {kind} statements")
        out: list[str] = []
        cur: list[Tok] = []
        while True:
            t = self.tok
            if t.kind == "eof":
                raise self.expected(f"'}}' closing the {kind} section")
            if t.kind == "punct" and t.text in (";", "}"):
                if cur:
                    out.append(self.src[cur[0].start:cur[-1].end].strip())
                cur = []
                self.i += 1
                if t.text == "}":
                    if not out:
                        raise self.error(f"empty {kind} section", t)
                    return out
                continue
            if t.kind == "punct" and t.text == "{":
                raise self.error(f"'{{' is not allowed in a {kind} statement")
            cur.append(t)
            self.i += 1

    # -- IRQs
    def irq_end(self, source: bool) -> list:
        """One end: a number, a range `a-b` (expanded, either direction), or (sources only) a name."""
        t = self.tok
        if t.kind == "number":
            if not isinstance(t.value, int):
                raise self.error("an interrupt number must be an integer")
            self.i += 1
            if self.is_punct("-") and self.peek().kind == "number":
                self.i += 1
                end = self.tok
                if not isinstance(end.value, int):
                    raise self.error("an interrupt number must be an integer")
                self.i += 1
                if end.value == t.value:
                    raise self.error(f"a range needs a number other than {t.value} after '-'", end)
                step = 1 if end.value > t.value else -1
                return list(range(t.value, end.value + step, step))
            return [t.value]
        if source and self.is_ident():
            self.i += 1
            return [t.text]
        raise self.expected("an interrupt number" + (" or name" if source else ""))

    def irq_ends(self, source: bool) -> list:
        self.take_punct("[")
        out = list(self.irq_end(source))
        while self.is_punct(","):
            self.i += 1
            out.extend(self.irq_end(source))
        self.take_punct("]", "',' or ']' in the interrupt list")
        return out

    def irq_attribute(self) -> _RawIrq:
        start = self.tok
        multi = False
        if self.is_punct("->"):
            sources: list = [None]
        elif self.is_punct("["):
            multi = True
            sources = self.irq_ends(True)
        else:
            sources = self.irq_end(True)
            if len(sources) > 1:
                multi = True
        self.take_punct("->", "'->'")
        if self.is_kw("none"):
            self.i += 1
            return _RawIrq(sources, [(None, None, [])], self.loc(start))
        dests = [self.irq_destination(multi, len(sources))]
        while self.is_punct("|"):
            self.i += 1
            dests.append(self.irq_destination(multi, len(sources)))
        return _RawIrq(sources, dests, self.loc(start))

    def irq_destination(self, multi: bool, arity: int) -> tuple:
        t = self.tok
        target = self.take_ident("a destination peripheral").text
        local = None
        if self.is_punct("#"):
            self.i += 1
            if self.tok.kind != "number" or not isinstance(self.tok.value, int):
                raise self.expected("a local receiver index after '#'")
            local = self.tok.value
            self.i += 1
        self.take_punct("@", "'@' after the destination peripheral")
        if self.is_punct("["):
            inputs = self.irq_ends(False)
        else:
            if multi:
                raise self.expected("'[' with as many destination numbers as sources")
            inputs = self.irq_end(False)
        if len(inputs) != arity:
            raise self.error(f"{arity} interrupt source(s) but {len(inputs)} destination(s) for {target}", t)
        return (target, local, inputs)

    # -- values
    def value_starts(self, allow_dict: bool = False) -> bool:
        t = self.tok
        if t.kind in ("string", "number"):
            return True
        if t.kind == "punct":
            if t.text in ("<", "[", ".") or (t.text == "-" and self.peek().kind == "number"):
                return True
            return allow_dict and t.text == "{"
        if t.kind == "ident":
            return t.text not in KEYWORDS or t.text in ("true", "True", "false", "False", "new")
        return False

    def value(self, allow_dict: bool = True) -> Any:
        t = self.tok
        if t.kind == "string":
            self.i += 1
            return t.value
        if t.kind == "number":
            self.i += 1
            return t.value
        if self.is_punct("-") and self.peek().kind == "number":
            self.i += 1
            v = self.tok.value
            self.i += 1
            return -v
        if self.is_punct("<"):
            return self.range_value()
        if self.is_punct("["):
            return self.list_value()
        if self.is_punct(".") and self.peek().kind == "ident" and "." not in self.peek().text:
            self.i += 2
            return EnumValue((self.toks[self.i - 1].text,))
        if self.is_punct("{"):
            if not allow_dict:
                raise self.error("a dictionary is not allowed here")
            return self.dict_value()
        if t.kind == "ident":
            if t.text in ("true", "True"):
                self.i += 1
                return True
            if t.text in ("false", "False"):
                self.i += 1
                return False
            if t.text == "new":
                return self.inline_object()
            if t.text in KEYWORDS:
                raise self.error(f"keyword {t.text!r} is not a value")
            self.i += 1
            if "." in t.text:
                return EnumValue(tuple(t.text.split(".")))
            return Reference(t.text)
        raise self.expected("a value")

    def range_value(self) -> AddressRange:
        self.take_punct("<")
        start_tok = self.tok
        begin = self.unsigned("the start of the range")
        self.take_punct(",", "',' in the range")
        plus = False
        if self.is_punct("+"):
            plus = True
            self.i += 1
        second = self.unsigned("the end (or +size) of the range")
        end = begin + second if plus else second
        if end < begin:
            raise self.error("the end of a range cannot be below its start", start_tok)
        self.take_punct(">", "'>' closing the range")
        return AddressRange(begin, end)

    def unsigned(self, what: str) -> int:
        t = self.tok
        if t.kind != "number" or not isinstance(t.value, int):
            raise self.expected(what)
        self.i += 1
        return t.value

    def list_value(self) -> list:
        self.take_punct("[")
        out: list = []
        if self.is_punct("]"):
            self.i += 1
            return out
        while True:
            if self.is_kw("empty"):
                self.i += 1
                out.append(EMPTY)
            else:
                out.append(self.value())
            if self.is_punct(","):
                self.i += 1
                if self.is_punct("]"):
                    break
                continue
            break
        self.take_punct("]", "',' or ']' in the list")
        return out

    def dict_value(self) -> dict:
        self.take_punct("{")
        out: dict = {}
        while not self.is_punct("}"):
            key_tok = self.tok
            key = self.value(allow_dict=False)
            if isinstance(key, list) or isinstance(key, InlineObject):
                raise self.error("a dictionary key must be a simple value", key_tok)
            self.take_punct(":", "':' after the dictionary key")
            out[key] = self.value()
            if self.is_punct(";"):
                self.i += 1
                continue
            break
        self.take_punct("}", "';' or '}' in the dictionary")
        return out

    def inline_object(self) -> InlineObject:
        self.i += 1  # new
        t = self.tok
        if t.kind != "ident" or t.text in KEYWORDS:
            raise self.expected("a type name after 'new'")
        self.i += 1
        attrs: list = []
        if self.is_punct("{"):
            sections: list = []
            self.attribute_block(attrs, [], sections, allow_irq=False)
            if sections:
                raise self.error("init sections are not allowed in an inline object", t)
        values: dict = {}
        for name, value, loc in attrs:
            if name in values:
                raise ReplError(loc[0], loc[1], loc[2], f"'{name}' given twice in one object")
            if value is not _NONE:
                values[name] = value
        return InlineObject(t.text, values)


def _make_registration(bus: str, point: Any, loc: Location) -> Registration:
    if point is None:
        return Registration(bus, location=loc)
    if isinstance(point, bool):
        raise ReplError(loc[0], loc[1], loc[2], "a registration point cannot be a boolean")
    if isinstance(point, int):
        return Registration(bus, point, None, None, point, loc)
    if isinstance(point, AddressRange):
        return Registration(bus, point.start, point.size, None, point, loc)
    if isinstance(point, InlineObject):
        a = point.attributes
        kind = point.type.split(".")[-1]
        cpu = a.get("cpu")
        if cpu is not None and not isinstance(cpu, Reference):
            raise ReplError(loc[0], loc[1], loc[2], f"{point.type}: 'cpu' must name a CPU")
        cpu_name = cpu.name if cpu is not None else None
        address, size = a.get("address"), a.get("size")
        rng = a.get("range")
        if isinstance(rng, AddressRange):
            address, size = rng.start, rng.size
        if kind in ("BusPointRegistration", "BusRangeRegistration", "BusMultiRegistration",
                    "BusParametrizedRegistration"):
            if address is not None and (not isinstance(address, int) or isinstance(address, bool)):
                raise ReplError(loc[0], loc[1], loc[2], f"{point.type}: 'address' must be a number")
            if size is not None and (not isinstance(size, int) or isinstance(size, bool)):
                raise ReplError(loc[0], loc[1], loc[2], f"{point.type}: 'size' must be a number")
            if kind == "BusRangeRegistration" and size is None:
                raise ReplError(loc[0], loc[1], loc[2], f"{point.type} needs a size (or a range)")
            # (`offset`, where in the peripheral a registration starts, stays in `point`; the bus address is as given)
            return Registration(bus, address, size, cpu_name, point, loc)
        return Registration(bus, None, None, cpu_name, point, loc)
    return Registration(bus, None, None, None, point, loc)


# ---- public API ---------------------------------------------------------------------------------------------
def parse_text(text: str, file: str | Path = "<string>") -> tuple[list[_RawUsing], list[_RawEntry]]:
    """Parse one file's text (no `using` resolution, no merging): (usings, raw entries)."""
    lexer = _Lexer(text, str(file))
    tokens = _apply_indentation(lexer.tokens(), lexer)
    return _Parser(tokens, str(file), lexer.src).description()


def default_platform_path() -> Path:
    """platforms/mt3620.repl of the installed (or editable) tree."""
    return Path(str(importlib.resources.files("mt3620.platforms").joinpath("mt3620.repl")))


def _platforms_dir() -> Path | None:
    try:
        return Path(str(importlib.resources.files("mt3620.platforms")))
    except (ModuleNotFoundError, TypeError):
        return None


def resolve_using(argument: str, including_file: Path, search_paths: Iterable[Path]) -> Path | None:
    """Renode's rule: absolute as is; `./` or `../` relative to the including file; else the first prefix that
    holds the file."""
    p = Path(argument)
    if p.is_absolute():
        return p.resolve()
    first = re.split(r"[\\/]", argument, maxsplit=1)[0]
    if first in (".", ".."):
        return (including_file.parent / argument).resolve()
    for prefix in search_paths:
        candidate = (Path(prefix) / argument)
        if candidate.is_file():
            return candidate.resolve()
    return None


def load_platform(path: str | Path, search_paths: Iterable[str | Path] | None = None) -> Platform:
    """Load a .repl file and every file it `using`s, then merge entries of the same variable (later wins).

    Order as in Renode: a file's usings first (recursively, top to bottom), then the file's own entries."""
    path = Path(path)
    if not path.is_file():
        raise ReplError(path, 0, 0, "platform description not found")
    top = path.resolve()
    extra = [Path(p) for p in (search_paths or [])]
    files: list[Path] = []
    usings: list[tuple[Path, Location]] = []
    ordered: list[_RawEntry] = []
    seen: set[Path] = set()

    def visit(file: Path, stack: tuple[Path, ...]) -> None:
        if file in seen:
            return  # a file reached twice through different usings contributes once
        try:
            text = file.read_text(encoding="utf-8")
        except UnicodeDecodeError as exc:
            raise ReplError(file, 1, 1, f"not UTF-8 text: {exc.reason}") from None
        except OSError as exc:
            raise ReplError(file, 0, 0, f"cannot read: {exc.strerror}") from None
        raw_usings, entries = parse_text(text, file)
        seen.add(file)
        files.append(file)
        prefixes = [file.parent, *extra]
        pdir = _platforms_dir()
        if pdir is not None:
            prefixes.append(pdir)
        for u in raw_usings:
            target = resolve_using(u.path, file, prefixes)
            if target is None or not target.is_file():
                raise ReplError(u.location[0], u.location[1], u.location[2], f"using: file not found: {u.path!r}")
            if target in stack or target == file:
                raise ReplError(u.location[0], u.location[1], u.location[2],
                                f"using: cycle through {target.name}")
            usings.append((target, u.location))
            visit(target, stack + (file,))
        ordered.extend(entries)

    visit(top, ())
    return Platform(_merge(ordered), files, usings)


def _merge(raw: list[_RawEntry]) -> dict[str, Entry]:
    merged: dict[str, Entry] = {}
    irq_by_source: dict[str, dict] = {}
    creators: dict[str, _RawEntry] = {}
    for r in raw:
        if r.type is not None:
            if r.name in creators:
                c = creators[r.name].location
                raise ReplError(r.location[0], r.location[1], r.location[2],
                                f"variable '{r.name}' is already declared at {c[0]}:{c[1]}:{c[2]}")
            if r.name in BUILTIN_NAMES:
                raise ReplError(r.location[0], r.location[1], r.location[2],
                                f"'{r.name}' exists in every machine and cannot be declared")
            creators[r.name] = r
        e = merged.get(r.name)
        if e is None:
            e = Entry(r.name, None, [], {}, [], r.location)
            merged[r.name] = e
            irq_by_source[r.name] = {}
        e.locations.append(r.location)
        if r.type is not None:
            e.type = r.type
            e.location = r.location
            e.local = r.local
        if r.registrations is not None:
            e.registrations = list(r.registrations)
            e.alias = r.alias
        names_here: set[str] = set()
        for name, value, loc in r.attributes:
            if name in names_here:
                raise ReplError(loc[0], loc[1], loc[2], f"'{name}' is set twice in one entry")
            names_here.add(name)
            if value is _NONE:
                e.attributes.pop(name, None)
            else:
                e.attributes.pop(name, None)   # keep "last set" order
                e.attributes[name] = value
        kinds_here: set[str] = set()
        for kind, add, lines, loc in r.sections:
            if kind in kinds_here:
                raise ReplError(loc[0], loc[1], loc[2], f"more than one {kind} section in one entry")
            kinds_here.add(kind)
            current: list[str] = getattr(e, kind)
            setattr(e, kind, (current + lines) if add else list(lines))
        sources_here: set = set()
        for irq in r.irqs:
            conns: dict = irq_by_source[r.name]
            for idx, src in enumerate(irq.sources):
                if src in sources_here:
                    raise ReplError(irq.location[0], irq.location[1], irq.location[2],
                                    f"interrupt source {_src_text(src)} is used more than once in one entry")
                sources_here.add(src)
                conns.pop(src, None)
                targets = []
                for target, local, inputs in irq.dests:
                    if target is None:
                        continue  # `-> none`: disconnect
                    targets.append(IrqConnection(src, target, inputs[idx], irq.location, local))
                if targets:
                    conns[src] = targets
    for name, e in merged.items():
        if e.type is None and name not in BUILTIN_NAMES:
            loc = e.location
            raise ReplError(loc[0], loc[1], loc[2], f"variable '{name}' is updated but never declared")
        e.irqs = [c for conns in irq_by_source[name].values() for c in conns]
    return merged


def _src_text(src: Any) -> str:
    return "(default)" if src is None else str(src)


# ---- Python peripherals: shim file -> CPython model ------------------------------------------------------------
def shim_path(entry: Entry) -> Path | None:
    """The file a Python.PythonPeripheral entry names in `filename`, resolved like `using` paths are.

    Renode opens `filename` relative to its working directory; the project's .repl files give it relative to
    the tree root (the folder of mt3620.resc), so this searches the .repl file's folder and its parents."""
    name = entry.attr("filename")
    if not isinstance(name, str):
        return None
    p = Path(name)
    if p.is_absolute():
        return p
    base = Path(entry.location[0]).resolve().parent
    for folder in (base, *base.parents):
        candidate = folder / p
        if candidate.is_file():
            return candidate
    # installed layout: mt3620/platforms/*.repl and mt3620/peripherals/renode/*.py27
    if p.parts and p.parts[0] in ("peripherals", "platforms"):
        root = Path(str(importlib.resources.files("mt3620")))
        candidate = root / p
        if candidate.is_file():
            return candidate
    return None


def model_for(entry: Entry, missing_ok: bool = False) -> str | None:
    """For a Python.PythonPeripheral entry: "module:Class" from the `# mt3620-model: module:Class` header line of
    its shim file. None for other entries. Raises ReplError when the shim is missing or has no header (unless
    missing_ok)."""
    if entry.type != PYTHON_PERIPHERAL:
        return None
    loc = entry.location
    shim = shim_path(entry)
    if shim is None:
        if missing_ok:
            return None
        raise ReplError(loc[0], loc[1], loc[2],
                        f"{entry.name}: shim file {entry.attr('filename')!r} not found")
    try:
        with open(shim, encoding="utf-8") as fh:
            for _, line in zip(range(40), fh):
                m = MODEL_HEADER.match(line.strip())
                if m:
                    return m.group(1)
    except OSError as exc:
        if missing_ok:
            return None
        raise ReplError(loc[0], loc[1], loc[2], f"{entry.name}: cannot read shim {shim}: {exc.strerror}") from None
    if missing_ok:
        return None
    raise ReplError(loc[0], loc[1], loc[2], f"{entry.name}: shim {shim} has no '# mt3620-model: module:Class' line")


def _import_model(spec: str) -> type:
    import importlib
    module, _, cls = spec.partition(":")
    return getattr(importlib.import_module(module), cls)


def import_model(spec: str) -> type:
    """Import "module:Class" (raises ImportError/AttributeError)."""
    return _import_model(spec)
