"""Typed links between blocks, declared by the model and given in the platform description.

A model declares what it needs from other blocks in its class body, typed by a small Protocol
(mt3620.engine.simulation.protocols):

    class Gpt(Peripheral):
        hclk = Link(ClockSource, doc="the core's bus clock; GPT4 counts it")
    class Mt3620Uart(Peripheral):
        dma = Link(DmaChannelHost, many=True, bind="_serve_dma")

and the platform names the other entry (`hclk: io0_rgu`, `dma: [io0_dma, io1_dma]`). Whoever builds the models
(the embedded machine, the Renode bridge, a test) resolves the names to objects and calls `model.link(name,
*targets)`, or passes them to the constructor (`Gpt(hclk=rgu)`). A target that does not satisfy the protocol, a
link the class does not declare or a link given twice is a `LinkError` saying which. `bind` names a method called
with each target once it is linked (checked when the class is defined).

`Shared(type, factory)` declares an attribute that names an object shared by several blocks rather than a block
(both ends of a mailbox share one `MailboxChannel`): a string in the platform, resolved before the model is built
through the builder's registry of shared objects, made once by `factory(name, attributes)` and type-checked.
"""
from __future__ import annotations

from typing import Any, Callable

from .registers import Declaration


class LinkError(ValueError):
    """A link or shared object that cannot be resolved or does not fit; the message names the block and link."""


class Link(Declaration):
    """A typed reference to another block (see the module docstring). On an instance: the linked object (None while
    unlinked), or a tuple of them with `many`."""

    def __init__(self, protocol: type, *, many: bool = False, bind: str | None = None, doc: str = "") -> None:
        self.protocol, self.many, self.bind, self.doc = protocol, many, bind, doc

    def __get__(self, obj: Any, owner: type | None = None) -> Any:
        if obj is None:
            return self
        return obj.__dict__.get(self.name, () if self.many else None)

    def __set__(self, obj: Any, value: Any) -> None:
        raise AttributeError(f"{type(obj).__name__}.{self.name} is a link: use link({self.name!r}, ...)")

    def check(self, cls: type) -> None:
        if self.bind is not None:
            self._method(cls, self.bind, "bind method")

    def connect(self, obj: Any, targets: tuple) -> None:
        owner = f"{getattr(obj, 'name', type(obj).__name__)}.{self.name}"
        if self.name in obj.__dict__:
            raise LinkError(f"{owner} is already linked")
        if not targets or (len(targets) > 1 and not self.many):
            raise LinkError(f"{owner} takes {'one or more blocks' if self.many else 'one block'}, "
                            f"not {len(targets)}")
        for target in targets:
            if not isinstance(target, self.protocol):
                raise LinkError(f"{owner} needs a {self.protocol.__name__}; {getattr(target, 'name', target)!s} "
                                f"({type(target).__name__}) is not one")
        obj.__dict__[self.name] = tuple(targets) if self.many else targets[0]
        if self.bind is not None:
            for target in targets:
                getattr(obj, self.bind)(target)


class Shared(Declaration):
    """An attribute naming an object several blocks share (see the module docstring)."""

    def __init__(self, kind: type, factory: Callable[[str, dict], Any], doc: str = "") -> None:
        self.kind, self.factory, self.doc = kind, factory, doc

    def resolve(self, key: str, registry: dict[str, Any], attributes: dict) -> Any:
        if key not in registry:
            registry[key] = self.factory(key, attributes)
        obj = registry[key]
        if not isinstance(obj, self.kind):
            raise LinkError(f"{self.name}: the shared object {key!r} is a {type(obj).__name__}, not a "
                            f"{self.kind.__name__}")
        return obj


def declared(cls: type, kind: type) -> dict[str, Any]:
    """The declarations of one kind (`Link`, `Shared`, `Timer`) in a class and its bases, by attribute name."""
    out: dict[str, Any] = {}
    for base in reversed(cls.__mro__):
        for name, value in vars(base).items():
            if isinstance(value, kind):
                out[name] = value
    return out
