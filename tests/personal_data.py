"""Where does the database still hold a piece of personal data? A scan of every row.

The tables are reflected from the live database (SQLAlchemy's inspector), not taken from
the models, so a table or column added later is scanned without anyone listing it. Every
value that can hold text is searched, case-insensitively: strings (text, varchar, enums),
JSON (as its text, non-ASCII kept), and blobs, both as their bytes and, where a blob is an
email, as its decoded headers and parts (quoted-printable, base64, RFC 2047 words).
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, select
from sqlalchemy.ext.asyncio import AsyncSession


@dataclass(frozen=True)
class Finding:
    """One value that mentions a needle: where it is and which needle."""

    table: str
    column: str
    row: str  # the row's primary key, as text
    needle: str


def _texts_of_blob(value: bytes) -> Iterator[str]:
    yield value.decode("utf-8", errors="replace")
    try:
        message = email.message_from_bytes(value, policy=email.policy.default)
    except Exception:  # not an email: its bytes were searched above
        return
    for name, header in message.items():
        yield f"{name}: {header}"
    for part in message.walk():
        if part.is_multipart():
            continue
        payload = part.get_payload(decode=True)
        if isinstance(payload, bytes):
            yield payload.decode(part.get_content_charset() or "utf-8", errors="replace")


def _texts(value: Any) -> Iterator[str]:
    if value is None or isinstance(value, bool | int | float):
        return
    if isinstance(value, bytes | bytearray | memoryview):
        yield from _texts_of_blob(bytes(value))
    elif isinstance(value, dict | list):
        yield json.dumps(value, ensure_ascii=False)
    else:
        yield str(value)


def _scan(connection: Connection, needles: Sequence[str]) -> list[Finding]:
    metadata = MetaData()
    metadata.reflect(bind=connection)
    lowered = [(needle, needle.lower()) for needle in needles]
    findings = []
    for table in metadata.sorted_tables:
        keys = [column.name for column in table.primary_key.columns]
        for row in connection.execute(select(table)).mappings():
            where = ",".join(str(row[key]) for key in keys)
            for column in table.columns:
                for text in _texts(row[column.name]):
                    low = text.lower()
                    findings += [Finding(table.name, column.name, where, needle)
                                 for needle, wanted in lowered if wanted in low]
    return sorted(set(findings), key=lambda f: (f.table, f.column, f.row, f.needle))


async def find_personal_data(db: AsyncSession, needles: Iterable[str]) -> list[Finding]:
    """Every value in every table of the database that mentions one of `needles`, seen from
    `db`'s transaction (what it has flushed counts)."""
    wanted = [needle for needle in needles if needle]
    connection = await db.connection()
    return await connection.run_sync(lambda sync: _scan(sync, wanted))
