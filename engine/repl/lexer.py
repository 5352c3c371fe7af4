"""Lexer of the .repl format: characters to tokens, then Renode's indentation rule (four spaces per level, each
level a brace, outside explicit braces), as renode src/Renode/PlatformDescription/Syntax/PreLexer.cs does.
"""
from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Any

from .values import ReplError

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


class Lexer:
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


def apply_indentation(tokens: list[Tok], lexer: Lexer) -> list[Tok]:
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
