"""Parser of the Renode platform description (.repl) format: tokens to raw entries of one file.

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
Resolving `using` and merging entries is loading.py's job.
"""
from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .lexer import KEYWORDS, Tok, apply_indentation, Lexer
from .values import (EMPTY, NONE, AddressRange, EnumValue, InlineObject, Location, Reference, Registration,
                     ReplError)


@dataclass
class RawIrq:
    sources: list            # list of source ends (None / int / str); one per connection group
    dests: list              # list of (target, local_index, [inputs]) ; target None means `none`
    location: Location


@dataclass
class RawEntry:
    name: str
    type: str | None
    registrations: list[Registration] | None      # None: not given; [] : `@ none`
    alias: str | None
    attributes: list[tuple[str, Any, Location]]
    irqs: list[RawIrq]
    sections: list[tuple[str, bool, list[str], Location]]   # (kind, add, statements, location)
    local: bool
    location: Location


@dataclass
class RawUsing:
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
    def description(self) -> tuple[list[RawUsing], list[RawEntry]]:
        usings: list[RawUsing] = []
        while self.is_kw("using"):
            t = self.tok
            self.i += 1
            if self.tok.kind != "string":
                raise self.expected("a quoted file name after 'using'")
            usings.append(RawUsing(self.tok.value, self.loc(t)))
            self.i += 1
            if self.is_kw("prefixed"):
                raise self.error("'using ... prefixed' is not supported by this parser")
            while self.is_punct(";"):
                self.i += 1
        entries: list[RawEntry] = []
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

    def entry(self) -> RawEntry:
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
        return RawEntry(name, type_name, registrations, alias, attrs, irqs, sections, local, self.loc(start))

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
                value: Any = NONE
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

    def irq_attribute(self) -> RawIrq:
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
            return RawIrq(sources, [(None, None, [])], self.loc(start))
        dests = [self.irq_destination(multi, len(sources))]
        while self.is_punct("|"):
            self.i += 1
            dests.append(self.irq_destination(multi, len(sources)))
        return RawIrq(sources, dests, self.loc(start))

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
            if value is not NONE:
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


def parse_text(text: str, file: str | Path = "<string>") -> tuple[list[RawUsing], list[RawEntry]]:
    """Parse one file's text (no `using` resolution, no merging): (usings, raw entries)."""
    lexer = Lexer(text, str(file))
    tokens = apply_indentation(lexer.tokens(), lexer)
    return _Parser(tokens, str(file), lexer.src).description()
