"""Native accelerators, compiled at first use with the system C compiler and cached per source and Unicorn version.

Only the block-budget hook lives here (block_budget.c). When no compiler is available the engine uses the Python
equivalent in engine/cpu/budget.py: same instruction counts, same determinism, slower.
"""
from __future__ import annotations

import ctypes
import functools
import hashlib
import logging
import os
import shutil
import subprocess
import sysconfig
from pathlib import Path

import unicorn

log = logging.getLogger("mt3620.native")
HERE = Path(__file__).resolve().parent


def _cache_dir() -> Path:
    base = os.environ.get("MT3620_CACHE_DIR") or os.path.join(
        os.environ.get("XDG_CACHE_HOME", os.path.expanduser("~/.cache")), "mt3620")
    return Path(base) / "native"


def _unicorn_paths() -> tuple[Path, Path, Path]:
    root = Path(unicorn.__file__).resolve().parent
    return root / "include", root / "lib", root / "lib" / "libunicorn.so.2"


def build_library(stem: str, sources, headers, what: str, fallback: str) -> Path | None:
    """Compile `sources` into one shared library against the installed Unicorn, cached under a digest of every
    source and header, Unicorn's library and version; returns its path, or None (logged: `what` did not build,
    `fallback` is used instead) when Unicorn's headers, a C compiler or the build itself are missing."""
    include, libdir, lib = _unicorn_paths()
    if not (include / "unicorn" / "unicorn.h").exists() or not lib.exists():
        log.info("%s: Unicorn headers or library missing; using %s", what, fallback)
        return None
    cc = os.environ.get("CC") or shutil.which("cc") or shutil.which("gcc") or shutil.which("clang")
    if not cc:
        log.info("%s: no C compiler; using %s", what, fallback)
        return None
    digest = hashlib.sha256()
    for file in (*sources, *headers):
        digest.update(file.name.encode() + b"\0" + file.read_bytes())
    digest.update(str(lib.stat().st_size).encode() + unicorn.__version__.encode())
    suffix = sysconfig.get_config_var("SHLIB_SUFFIX") or ".so"
    out = _cache_dir() / f"{stem}-{digest.hexdigest()[:16]}{suffix}"
    if out.exists():
        return out
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = out.with_suffix(f".tmp{os.getpid()}")
    include_dirs = sorted({str(include), *(str(h.parent) for h in headers)})
    cmd = [cc, "-O2", "-shared", "-fPIC", "-pthread", *(arg for d in include_dirs for arg in ("-I", d)),
           *(str(f) for f in sources), "-o", str(tmp), str(lib), f"-Wl,-rpath,{libdir}"]
    try:
        subprocess.run(cmd, check=True, capture_output=True, timeout=120)
    except (OSError, subprocess.SubprocessError) as exc:
        detail = getattr(exc, "stderr", b"") or b""
        log.warning("%s did not build (%s); using %s. %s", what, exc, fallback,
                    detail.decode(errors="replace")[:500])
        return None
    os.replace(tmp, out)
    return out


def build_block_budget() -> Path | None:
    """Compile block_budget.c against the installed Unicorn; returns the shared library or None."""
    return build_library("block_budget", [HERE / "block_budget.c"], [HERE / "block_budget.h"],
                         "native budget hook", "the Python hook")


def load_library(path: Path | None, what: str) -> ctypes.CDLL | None:
    """The built library at `path` loaded with the block-budget functions declared (every native library links
    block_budget.c), or None (logged) when it was not built or does not load."""
    if path is None:
        return None
    try:
        lib = ctypes.CDLL(str(path))
    except OSError as exc:
        log.warning("%s did not load: %s", what, exc)
        return None
    lib.budget_install.argtypes = [ctypes.c_void_p, ctypes.c_void_p, ctypes.c_void_p]
    lib.budget_install.restype = ctypes.c_int
    lib.budget_flush_cache.argtypes = [ctypes.c_void_p]
    lib.budget_struct_size.restype = ctypes.c_uint64
    return lib


def native_disabled() -> bool:
    """MT3620_NO_NATIVE=1 makes every core use the Python equivalents."""
    return bool(os.environ.get("MT3620_NO_NATIVE"))


@functools.cache
def block_budget_library() -> ctypes.CDLL | None:
    if native_disabled():
        return None
    return load_library(build_block_budget(), "native budget hook")
