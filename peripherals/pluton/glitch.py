"""Fault injection as an attacker applies it: a voltage or clock glitch that skips one check, or corrupts one
e-fuse read, at a chosen point of Pluton's code, on the Nth time that point runs or at a virtual time.

Public background: glitching secure-boot code so that one comparison or one branch is skipped, or one fuse read
returns a wrong value, is the classic attack on boot ROMs; the defence is to check what matters twice on
independent paths, so one glitch is not enough. Which points the emulated Pluton has, their names and the
one-shot trigger rules are emulator-defined (docs/pluton.md "Glitches"):

- every security check in the boot and verification code runs through `Glitches.skip(point)`; an armed "skip"
  glitch for that point makes that one evaluation pass whatever the condition (the check is skipped);
- every e-fuse word read on a security decision goes through `Glitches.fuse_read(word, value)`; an armed
  "corrupt-fuse" glitch for that word returns the value XOR a mask once;
- a glitch fires once: on the `nth` time its point is reached after arming (1 = the next time), or, with
  `at_ps`, the first time its point is reached at or after that virtual time. `fired` records what fired.

The core stays pure: virtual time comes from a `now()` callable the machine provides (0 without a machine).
"""
from __future__ import annotations

from dataclasses import dataclass, field
from typing import Callable

SKIP = "skip"
CORRUPT_FUSE = "corrupt-fuse"
KINDS = (SKIP, CORRUPT_FUSE)

# Every glitchable check point of the emulated Pluton. A check that matters is evaluated twice: the second
# evaluation's point carries "#2" and re-reads or recomputes its inputs (fuses read again, signature verified
# again), so one skipped evaluation is caught by the other.
CHECK_POINTS = (
    "boot.keystore-hash", "boot.keystore-hash#2",         # ROM keystore against its fused hash
    "boot.image-type", "boot.image-type#2",               # the image is of the stage's type
    "boot.signer",                                        # the SG thumbprint names a trusted key
    "boot.signature", "boot.signature#2",                 # ECDSA P-256 over payload || metadata
    "boot.svn-width", "boot.svn-width#2",                 # the security version fits the stage's fuse counter
    "boot.svn", "boot.svn#2",                             # ... and is not below the fused minimum
    "app.signer", "app.signature", "app.signature#2",    # applications: signed by a key the device trusts
    "app.svn", "app.svn#2",                               # ... at or above the component's counter
    "app.capability",                                     # development keys need the appDevelopment capability
    "capability.signature", "capability.device",
    "trng.health",                                        # SP 800-90B health tests on the raw samples
    "mailbox.take",                                       # Pluton takes a posted message (skip = it is lost)
)


class GlitchError(ValueError):
    """A glitch that cannot be armed (unknown kind or point, bad trigger)."""


@dataclass
class Glitch:
    kind: str                      # SKIP or CORRUPT_FUSE
    point: str = ""                # a CHECK_POINTS name (SKIP)
    word: int = -1                 # e-fuse word (CORRUPT_FUSE)
    nth: int | None = 1            # fire on the nth time the point is reached after arming
    at_ps: int | None = None       # or: on the first time the point is reached at or after this virtual time
    xor: int = 0xFFFFFFFF          # CORRUPT_FUSE: bits flipped in the value read
    hits: int = 0
    fired_at_ps: int | None = None

    def __post_init__(self) -> None:
        if self.kind not in KINDS:
            raise GlitchError(f"glitch kind {self.kind!r} is not one of {', '.join(KINDS)}")
        if self.kind == SKIP and self.point not in CHECK_POINTS:
            raise GlitchError(f"no check point named {self.point!r} (points: {', '.join(CHECK_POINTS)})")
        if self.kind == CORRUPT_FUSE and not 0 <= self.word < 32:
            raise GlitchError(f"e-fuse word {self.word} does not exist (0..31)")
        if (self.nth is None) == (self.at_ps is None):
            raise GlitchError("a glitch fires either on the nth time its point is reached or at a virtual time")
        if self.nth is not None and self.nth < 1:
            raise GlitchError("nth counts from 1")
        if not 0 <= self.xor <= 0xFFFFFFFF:
            raise GlitchError("the corruption mask is a 32-bit value")

    @property
    def target(self) -> str:
        return self.point if self.kind == SKIP else f"fuse-word-{self.word}"

    def describe(self) -> str:
        when = f"on hit {self.nth}" if self.nth is not None else f"at or after {self.at_ps} ps"
        what = f"skip {self.point}" if self.kind == SKIP else f"corrupt e-fuse word {self.word} (xor 0x{self.xor:08x})"
        return f"{what} {when}"


def parse_glitch(text: str) -> Glitch:
    """Command-line form: `skip:POINT[@N|@TIMEps]` or `fuse:WORD[^MASK][@N|@TIME]`, e.g. `skip:boot.signature@1`,
    `fuse:16^0xff@2`, `skip:boot.svn@5ms` (a time takes a unit: ps, ns, us, ms, s)."""
    from mt3620.engine.simulation.clock import parse_duration
    kind, _, rest = text.partition(":")
    target, _, when = rest.partition("@")
    nth, at_ps = 1, None
    if when:
        if when.isdigit():
            nth = int(when)
        else:
            try:
                at_ps, nth = parse_duration(when), None
            except ValueError:
                raise GlitchError(f"glitch trigger {when!r} is neither a count nor a virtual time") from None
    if kind == "skip":
        return Glitch(SKIP, point=target, nth=nth, at_ps=at_ps)
    if kind == "fuse":
        word, _, mask = target.partition("^")
        try:
            return Glitch(CORRUPT_FUSE, word=int(word, 0), xor=int(mask, 0) if mask else 0xFFFFFFFF, nth=nth,
                          at_ps=at_ps)
        except ValueError:
            raise GlitchError(f"bad fuse glitch {text!r}: fuse:WORD[^MASK][@WHEN]") from None
    raise GlitchError(f"glitch {text!r}: expected skip:POINT[@WHEN] or fuse:WORD[^MASK][@WHEN]")


@dataclass
class Glitches:
    """The armed glitches of one Pluton and what fired. `now()` gives the virtual time in picoseconds."""
    now: Callable[[], int] = lambda: 0
    armed: list[Glitch] = field(default_factory=list)
    fired: list[Glitch] = field(default_factory=list)

    def arm(self, glitch: Glitch | str) -> Glitch:
        if isinstance(glitch, str):
            glitch = parse_glitch(glitch)
        self.armed.append(glitch)
        return glitch

    def clear(self) -> None:
        self.armed.clear()

    def _fire(self, target: str) -> Glitch | None:
        if not self.armed:
            return None
        now = self.now()
        for glitch in self.armed:
            if glitch.target != target:
                continue
            glitch.hits += 1
            due = glitch.hits == glitch.nth if glitch.nth is not None else now >= glitch.at_ps
            if due:
                glitch.fired_at_ps = now
                self.armed.remove(glitch)
                self.fired.append(glitch)
                return glitch
        return None

    def skip(self, point: str) -> bool:
        """True when a glitch makes this evaluation of the check at `point` pass unchecked."""
        return self._fire(point) is not None

    def fuse_read(self, word: int, value: int) -> int:
        glitch = self._fire(f"fuse-word-{word}")
        return value ^ glitch.xor if glitch is not None else value


__all__ = ["CHECK_POINTS", "CORRUPT_FUSE", "Glitch", "GlitchError", "Glitches", "SKIP", "parse_glitch"]
