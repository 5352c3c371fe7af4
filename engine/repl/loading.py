"""Loading a platform description: one file and every file it `using`s, merged into one Platform.

Paths follow Renode: a `using` path starting with `./` or `../` is relative to the including file, an absolute
path is taken as is, any other path is searched in a list of prefixes (Renode: the Monitor's path prefixes; here
`search_paths`, by default the including file's folder and the folder holding the platforms package). Merging
follows Renode's `Entry.MergeWith`: later attributes win, a later registration replaces earlier ones, an interrupt
source connected again replaces its earlier connections, `init add` appends.
"""
from __future__ import annotations

import importlib.resources
import re
from pathlib import Path
from typing import Any, Iterable

from .parser import RawEntry, parse_text
from .values import BUILTIN_NAMES, NONE, Entry, IrqConnection, Location, Platform, ReplError


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
    ordered: list[RawEntry] = []
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


def _merge(raw: list[RawEntry]) -> dict[str, Entry]:
    merged: dict[str, Entry] = {}
    irq_by_source: dict[str, dict] = {}
    creators: dict[str, RawEntry] = {}
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
            if value is NONE:
                e.attributes.pop(name, None)
                e.attribute_locations.pop(name, None)
            else:
                e.attributes.pop(name, None)   # keep "last set" order
                e.attributes[name] = value
                e.attribute_locations[name] = loc
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
