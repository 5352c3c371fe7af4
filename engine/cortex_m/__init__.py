"""The ARMv7-M IO cores: a Cortex-M4F on Unicorn with the exception model, NVIC, SCB, SysTick, DWT and ITM in
Python and the instruction budget hook in native code (native/)."""
from .core import CortexM4, GuestFault

__all__ = ["CortexM4", "GuestFault"]
