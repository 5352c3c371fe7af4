"""Finding and running a real Renode: for the tests, `mt3620 renode-lint --renode` and scripts/bench_renode.

Where: $MT3620_RENODE (a Renode folder holding `renode` and `renode-test`, such as the portable Renode 1.16.1 of
../shared/renode-1.16.1, or the `renode` launcher itself), else renode-1.16.1 in $MT3620_SHARED_DIR or in the
../shared/ folder next to a source checkout, else `renode` on PATH. A Renode built from source (no `Renode` native launcher) needs `mono`.

TMPDIR: at start-up Renode deletes every `$TMPDIR/renode-*` folder whose name is not a live PID, whoever made it.
Every run here gets a private TMPDIR (`private_tmpdir()`), never the shared /tmp.
"""
from __future__ import annotations

import os
import re
import shutil
import subprocess
import tempfile
from dataclasses import dataclass
from pathlib import Path

ENV = "MT3620_RENODE"
REPO_ROOT = Path(__file__).resolve().parents[2]
SHARED_RUNTIME = REPO_ROOT.parent / "shared" / "renode-1.16.1"
ANSI = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")


@dataclass(frozen=True)
class Runtime:
    root: Path                 # the Renode folder (holds output/bin/Release/Renode.exe for a source build)
    renode: Path
    renode_test: Path | None

    @property
    def build_dir(self) -> Path | None:
        """The folder pyrenode3 wants in PYRENODE_BUILD_DIR (a source/mono build), or None."""
        return self.root if (self.root / "output" / "bin" / "Release" / "Renode.exe").is_file() else None

    def version(self, tmpdir: Path | None = None) -> str:
        out = self.monitor(["version"], tmpdir=tmpdir, timeout=120).stdout
        m = re.search(r"Renode, version (\S+)", out)
        return m.group(1) if m else "unknown"

    def env(self, tmpdir: Path | None = None) -> dict[str, str]:
        env = dict(os.environ)
        env["TMPDIR"] = str(tmpdir or private_tmpdir())
        return env

    def monitor(self, commands: list[str], *, tmpdir: Path | None = None, timeout: float = 300,
                cwd: Path | None = None) -> subprocess.CompletedProcess:
        """Run Monitor commands in a headless Renode and quit; stdout has the colour codes removed."""
        script = "; ".join([*commands, "quit"])
        res = subprocess.run([str(self.renode), "--console", "--disable-xwt", "--plain", "-e", script],
                             capture_output=True, text=True, timeout=timeout, env=self.env(tmpdir),
                             cwd=str(cwd) if cwd else None, stdin=subprocess.DEVNULL)
        res.stdout = ANSI.sub("", res.stdout)
        return res


def private_tmpdir() -> Path:
    """A fresh folder for Renode's TMPDIR (its name does not start with `renode-`, so no Renode deletes it)."""
    return Path(tempfile.mkdtemp(prefix="mt3620-renode-tmp-"))


def find() -> Runtime | None:
    """The Renode to use, or None (`absent_reason()` says why in one line)."""
    return _search()[0]


def locate() -> Path | None:
    """The Renode folder the search would use, whether or not mono is there to run it (scripts/setup asks)."""
    runtime, _ = _search(require_mono=False)
    return runtime.root if runtime else None


def absent_reason() -> str:
    return _search()[1]


def _search(require_mono: bool = True) -> tuple[Runtime | None, str]:
    candidates: list[tuple[Path, str]] = []
    given = os.environ.get(ENV)
    if given:
        candidates.append((Path(given), f"${ENV}"))
    shared = os.environ.get("MT3620_SHARED_DIR")
    if shared:
        candidates.append((Path(shared) / "renode-1.16.1", "$MT3620_SHARED_DIR/renode-1.16.1"))
    candidates.append((SHARED_RUNTIME, "../shared/renode-1.16.1"))
    on_path = shutil.which("renode")
    if on_path:
        candidates.append((Path(on_path), "PATH"))
    for place, how in candidates:
        launcher = place if place.is_file() else place / "renode"
        if not launcher.is_file():
            if how != "PATH" and given and how == f"${ENV}":
                return None, f"Renode not found: ${ENV}={given} holds no `renode` launcher"
            continue
        root = launcher.resolve().parent
        if require_mono and (root / "output" / "bin" / "Release" / "Renode.exe").is_file() \
                and shutil.which("mono") is None:
            return None, (f"Renode at {root} ({how}) needs mono, which is not installed "
                          f"(`bash scripts/setup --test` as root installs it)")
        test = root / "renode-test"
        return Runtime(root, launcher, test if test.is_file() else None), ""
    return None, (f"Renode is not installed (set ${ENV} to a Renode folder, or put ../shared/renode-1.16.1 next "
                  f"to the checkout)")


# ---- Renode's own loader as a checker ------------------------------------------------------------------------------
LOADED = "MT3620-LOADED"


@dataclass(frozen=True)
class LoadResult:
    path: Path
    error: str | None         # Renode's message, or None when the file loaded

    @property
    def ok(self) -> bool:
        return self.error is None


def renode_types() -> list[Path]:
    """The project's C# sources Renode compiles before it can load the MT3620 platform files."""
    folder = REPO_ROOT / "peripherals" / "renode"
    return sorted(folder.glob("*.cs"))


def load_with_renode(runtime: Runtime, files: list[Path], *, on_top_of: list[Path] = (),
                     tmpdir: Path | None = None) -> LoadResult:
    """`machine LoadPlatformDescription` of `on_top_of` then `files`, in one fresh machine of a real Renode, after
    compiling the project's types: what Renode itself says of the files (types, constructor parameters,
    properties, registrations, init sections)."""
    commands = [f"include @{p}" for p in renode_types()] + ['mach create "check"']
    commands += [f"machine LoadPlatformDescription @{p}" for p in [*on_top_of, *files]]
    commands += [f'echo "{LOADED}"']
    res = runtime.monitor(commands, tmpdir=tmpdir, timeout=300)
    out = res.stdout + ANSI.sub("", res.stderr)
    if any(line.strip() == LOADED for line in out.splitlines()) and "There was an error executing command" not in out:
        return LoadResult(Path(files[-1]), None)
    i = out.find("There was an error executing command")
    if i < 0:
        i = out.find("Fatal error:")        # Renode 1.16.1 dies on some mistakes (an unknown enum value)
    detail = out[i:] if i >= 0 else out[-3000:]
    lines = [ln for ln in detail.splitlines() if ln.strip() and not ln.startswith(("  Parameter ", "  at "))
             and "[INFO]" not in ln and not ln.startswith("(")]
    return LoadResult(Path(files[-1]), "\n".join(lines[:40]) or "Renode stopped without a message")


def arm_cpu_type_available(runtime: Runtime, cpu_type: str, tmpdir: Path | None = None) -> bool:
    """Whether this Renode's ARMv7A accepts `cpu_type` (MT3620Bridge.cs probes a throw-away CPU)."""
    res = runtime.monitor([f"include @{p}" for p in renode_types()] + [f'emulation MT3620HasCpuType "{cpu_type}"'],
                          tmpdir=tmpdir, timeout=300)
    answers = [line.strip() for line in res.stdout.splitlines() if line.strip() in ("True", "False")]
    return answers[-1:] == ["True"]


if __name__ == "__main__":      # `python -m mt3620.engine.renode.runtime`: the Renode folder, or nothing
    folder = locate()
    print(folder if folder else "")
