"""Values made once per batch: what every recipient of a batch of emails shares.

A batch of emails about the same sessions (the composing job's first emails) would make
the same value (a session's invite entry, its view in the body) for every recipient.
Within `memo.scope()` (this task only) `memo.get` makes it once per the objects it comes
from and whatever else it depends on (a language, a flag), then hands out that one value.
Only for objects nobody changes while the batch is composed: the objects are held with
their value (so their ids cannot be reused meanwhile) and all of it ends with the block.
Outside a scope nothing is kept.
"""

from __future__ import annotations

from collections.abc import Callable, Hashable, Iterator
from contextlib import contextmanager
from contextvars import ContextVar
from typing import Generic, TypeVar

V = TypeVar("V")


class BatchMemo(Generic[V]):
    def __init__(self, name: str) -> None:
        self._memo: ContextVar[dict[tuple[Hashable, ...], tuple[tuple[object, ...], V]] | None]
        self._memo = ContextVar(name, default=None)

    @contextmanager
    def scope(self) -> Iterator[None]:
        token = self._memo.set({})
        try:
            yield
        finally:
            self._memo.reset(token)

    def get(self, objects: tuple[object, ...], depends_on: tuple[Hashable, ...],
            make: Callable[[], V]) -> V:
        """The value `make()` gives for `objects` and `depends_on`, made once per scope."""
        memo = self._memo.get()
        if memo is None:
            return make()
        key = (*(id(item) for item in objects), *depends_on)
        held = memo.get(key)
        if held is None or any(a is not b for a, b in zip(held[0], objects, strict=True)):
            held = memo[key] = (objects, make())
        return held[1]
