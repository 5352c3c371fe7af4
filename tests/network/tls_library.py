"""The TLS library the network tests' guest program brings with it: Debian's mbed TLS for armhf (libmbedtls-dev,
static libraries and headers), downloaded with apt-get into a private apt state folder under firmware/build/ (the
same way the toolchain fetches musl:armhf) and extracted with dpkg-deb. Debian builds it against glibc with
_FORTIFY_SOURCE: programs/fortify.c provides the few glibc checking entry points it calls, on top of musl."""
from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest

from mt3620.firmware import toolchain

PACKAGE = "libmbedtls-dev"
ROOT = toolchain.DEFAULT_OUT / "thirdparty" / "mbedtls"


def _apt(args: list[str], state: Path, cwd: Path | None = None) -> subprocess.CompletedProcess:
    opts = ["-o", "APT::Architecture=armhf", "-o", "APT::Architectures::=armhf",
            "-o", f"Dir::State={state / 'state'}", "-o", "Dir::State::status=/dev/null",
            "-o", f"Dir::Cache={state / 'cache'}", "-o", f"Dir::Etc::preferencesparts={state / 'prefs'}",
            "-o", "Debug::NoLocking=1", "-qq"]
    return subprocess.run(["apt-get", *opts, *args], cwd=cwd, capture_output=True, text=True, timeout=600)


def mbedtls() -> tuple[Path, list[Path]]:
    """(include folder, [libmbedtls.a, libmbedx509.a, libmbedcrypto.a]), fetched on first use."""
    libdir = ROOT / "usr" / "lib" / "arm-linux-gnueabihf"
    libs = [libdir / f"libmbed{n}.a" for n in ("tls", "x509", "crypto")]
    if all(p.is_file() for p in libs):
        return ROOT / "usr" / "include", libs
    for tool in ("apt-get", "dpkg-deb"):
        if not shutil.which(tool):
            pytest.skip(f"{tool} is missing: cannot fetch Debian's {PACKAGE}:armhf")
    state = toolchain.DEFAULT_OUT / "apt-armhf"
    for sub in ("state/lists/partial", "cache/archives/partial", "prefs", "debs"):
        (state / sub).mkdir(parents=True, exist_ok=True)
    if not list((state / "state" / "lists").glob("*Packages*")):
        res = _apt(["update"], state)
        if res.returncode:
            pytest.skip(f"apt-get update (armhf) failed: {res.stderr.strip()[-300:]}")
    res = _apt(["download", f"{PACKAGE}:armhf"], state, cwd=state / "debs")
    debs = sorted((state / "debs").glob(f"{PACKAGE}_*_armhf.deb"))
    if res.returncode or not debs:
        pytest.skip(f"cannot download {PACKAGE}:armhf: {(res.stderr or res.stdout).strip()[-300:]}")
    shutil.rmtree(ROOT, ignore_errors=True)
    ROOT.mkdir(parents=True)
    res = subprocess.run(["dpkg-deb", "-x", str(debs[-1]), str(ROOT)], capture_output=True, text=True)
    if res.returncode:
        pytest.fail(f"dpkg-deb -x {debs[-1].name}: {res.stderr.strip()}")
    return ROOT / "usr" / "include", libs
