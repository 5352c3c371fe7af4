"""Renode platform descriptions (.repl): the format both engines read (docs/renode.md, "The parser API").

Layers, each importing only the ones above it:
  values.py   values and the data model (Entry, Platform, ...), ReplError;
  lexer.py    characters to tokens, Renode's indentation rule;
  parser.py   tokens to the raw entries of one file;
  loading.py  `using` resolution and merging into one Platform.
What a platform means to the project (its models, the split between what Renode loads and what only the project's
engines read) is not here: mt3620.engine.machine.models (which model serves an entry, for both engines) and
mt3620.engine.renode.platform_check (the project's rules, `mt3620 renode-lint`).
"""
from .loading import default_platform_path, load_platform, resolve_using
from .parser import parse_text
from .values import (BUILTIN_NAMES, EMPTY, AddressRange, Entry, EnumValue, InlineObject, IrqConnection, Platform,
                     Reference, Registration, ReplError)

__all__ = [
    "ReplError", "Registration", "IrqConnection", "Entry", "Platform", "Reference", "EnumValue", "AddressRange",
    "InlineObject", "EMPTY", "BUILTIN_NAMES", "parse_text", "load_platform", "resolve_using",
    "default_platform_path",
]
