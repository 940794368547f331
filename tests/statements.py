"""The statements a database session sends, for tests that count them."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from typing import Any

from sqlalchemy import event
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class SentStatement:
    sql: str
    executemany: bool  # a list of rows handed to the driver as one call

    @property
    def verb(self) -> str:
        return self.sql.split(None, 1)[0].upper()


@contextmanager
def recorded_statements(db: AsyncSession) -> Iterator[list[SentStatement]]:
    """Every statement `db`'s engine sends while the block runs, in order."""
    sent: list[SentStatement] = []

    def record(_conn: Any, _cursor: Any, statement: str, _parameters: Any, _context: Any,
               executemany: bool) -> None:
        sent.append(SentStatement(statement, executemany))

    engine = db.get_bind()
    event.listen(engine, "before_cursor_execute", record)
    try:
        yield sent
    finally:
        event.remove(engine, "before_cursor_execute", record)
