"""Pluton security subsystem: pure core (e-fuses, keys, engines, secure boot, attestation, remote API) and the
A7 mailbox register facade at 0x31000000."""
from .core import Faults, PlutonCore, make_device
from .efuse import EfuseBank, EfuseError
from .mailbox import PlutonMailbox
from .secureboot import BootResult, BootStage, SecureBoot, TrustedKeystore

__all__ = ["BootResult", "BootStage", "EfuseBank", "EfuseError", "Faults", "PlutonCore", "PlutonMailbox",
           "SecureBoot", "TrustedKeystore", "make_device"]
