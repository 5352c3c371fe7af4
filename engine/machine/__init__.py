"""The emulated chip assembled from a platform description: cores, memories and models on one virtual clock,
the ELF loader for RTApps, and the factory that instantiates a model for a platform entry."""
from .loader import LoadedImage, LoadError
from .machine import Machine, MachineError, RunResult

__all__ = ["LoadedImage", "LoadError", "Machine", "MachineError", "RunResult"]
