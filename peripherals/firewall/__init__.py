"""The MT3620's hardware firewalls: per-block ownership by core, programmed by the security monitor at app start.

`blocks.py` (the blocks and their windows), `core.py` (the pure ownership table and refusal log),
`bus_firewall.py` (the register block at 0x30000000 and the per-access check the machine installs)."""
from .blocks import BLOCKS, Block, block
from .bus_firewall import BusFirewall, firewall_of
from .core import FirewallCore, Refusal

__all__ = ["BLOCKS", "Block", "BusFirewall", "FirewallCore", "Refusal", "block", "firewall_of"]
