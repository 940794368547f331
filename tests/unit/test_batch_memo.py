"""A value shared by a batch is made once per scope, per objects and what it depends on."""

from __future__ import annotations

from service.domain.batch_memo import BatchMemo


class Thing:
    pass


def test_a_value_is_made_once_per_scope_objects_and_dependencies() -> None:
    memo: BatchMemo[str] = BatchMemo("test")
    made: list[str] = []

    def make(label: str) -> str:
        made.append(label)
        return label

    first, second = Thing(), Thing()
    outside = memo.get((first,), ("en",), lambda: make("outside"))
    with memo.scope():
        values = [memo.get((first,), ("en",), lambda: make("first en")),
                  memo.get((first,), ("en",), lambda: make("again")),
                  memo.get((first,), ("fr",), lambda: make("first fr")),
                  memo.get((second,), ("en",), lambda: make("second en"))]
    after = memo.get((first,), ("en",), lambda: make("after"))

    assert (outside, values, after) == (
        "outside", ["first en", "first en", "first fr", "second en"], "after")
    assert made == ["outside", "first en", "first fr", "second en", "after"]
