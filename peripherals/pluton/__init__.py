"""Pluton security subsystem: pure core (e-fuses, keys, engines, secure boot, measurements, counters, remote API,
glitch model) and the A7 mailbox register facade at 0x31000000."""
from .bootflash import BootFlash
from .core import PlutonCore, make_device
from .counters import CounterError, MonotonicCounters
from .efuse import EfuseBank, EfuseError
from .glitch import Glitch, GlitchError, Glitches, parse_glitch
from .mailbox import PlutonMailbox
from .secureboot import BootResult, BootStage, SecureBoot, TrustedKeystore

__all__ = ["BootFlash", "BootResult", "BootStage", "CounterError", "EfuseBank", "EfuseError", "Glitch", "GlitchError",
           "Glitches", "MonotonicCounters", "PlutonCore", "PlutonMailbox", "SecureBoot", "TrustedKeystore",
           "make_device", "parse_glitch"]
