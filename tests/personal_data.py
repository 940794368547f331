"""Where does the database hold a piece of personal data? Scans of every row of every table.

The tables are reflected from the live database (SQLAlchemy's inspector), not taken from
the models, so a table or column added later is scanned without anyone listing it. Every
value that can hold text is searched, case-insensitively: strings (text, varchar, enums),
JSON (as its text, non-ASCII kept), and blobs, both as their bytes and, where a blob is an
email, as its decoded headers and parts (quoted-printable, base64, RFC 2047 words).

Two uses, one reading of the database:
- `find_personal_data`: every value that still mentions a name or an address (the erasure
  and retention tests: the answer must be empty);
- `rows_about`: every row that mentions an address, then every row that refers to one of
  those by a foreign key, and so on until nothing more is found (the oracle of the export
  test: it knows no table or column of the product).
"""

from __future__ import annotations

import email
import email.policy
import json
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Connection, MetaData, Table, select
from sqlalchemy.ext.asyncio import AsyncSession

RowKey = tuple[str, Any]  # (table, primary key: the value, or a tuple when composite)


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


def _tables(connection: Connection) -> list[Table]:
    """Every table of the live database, parents before children."""
    metadata = MetaData()
    metadata.reflect(bind=connection)
    return [table for table in metadata.sorted_tables if table.name != "alembic_version"]


def _rows(connection: Connection, table: Table) -> list[dict[str, Any]]:
    return [dict(row) for row in connection.execute(select(table)).mappings()]


def _key(table: Table, row: dict[str, Any]) -> Any:
    columns = [column.name for column in table.primary_key.columns]
    return row[columns[0]] if len(columns) == 1 else tuple(row[c] for c in columns)


def _scan(connection: Connection, needles: Sequence[str]) -> list[Finding]:
    lowered = [(needle, needle.lower()) for needle in needles]
    findings = []
    for table in _tables(connection):
        keys = [column.name for column in table.primary_key.columns]
        for row in _rows(connection, table):
            where = ",".join(str(row[key]) for key in keys)
            for column in table.columns:
                for text in _texts(row[column.name]):
                    low = text.lower()
                    findings += [Finding(table.name, column.name, where, needle)
                                 for needle, wanted in lowered if wanted in low]
    return sorted(set(findings), key=lambda f: (f.table, f.column, f.row, f.needle))


def _follow(connection: Connection, address: str) -> set[RowKey]:
    tables = {table.name: table for table in _tables(connection)}
    rows = {name: _rows(connection, table) for name, table in tables.items()}
    wanted = address.lower()
    found: dict[str, list[dict[str, Any]]] = {
        name: [row for row in table_rows
               if any(wanted in text.lower() for value in row.values() for text in _texts(value))]
        for name, table_rows in rows.items()}
    foreign_keys = [(name, fk) for name, table in tables.items()
                    for fk in table.foreign_key_constraints]
    added = True
    while added:
        added = False
        for name, fk in foreign_keys:
            parent = fk.referred_table.name
            if not found.get(parent):
                continue
            pairs = [(element.parent.name, element.column.name) for element in fk.elements]
            targets = {tuple(row[p] for _, p in pairs) for row in found[parent]}
            have = {_key(tables[name], row) for row in found[name]}
            for row in rows[name]:
                if (tuple(row[c] for c, _ in pairs) in targets
                        and _key(tables[name], row) not in have):
                    found[name].append(row)
                    have.add(_key(tables[name], row))
                    added = True
    return {(name, _key(tables[name], row)) for name, table_rows in found.items()
            for row in table_rows}


async def find_personal_data(db: AsyncSession, needles: Iterable[str]) -> list[Finding]:
    """Every value in every table of the database that mentions one of `needles`, seen from
    `db`'s transaction (what it has flushed counts)."""
    wanted = [needle for needle in needles if needle]
    connection = await db.connection()
    return await connection.run_sync(lambda sync: _scan(sync, wanted))


async def rows_about(db: AsyncSession, address: str) -> set[RowKey]:
    """Every row that mentions `address` or refers (through foreign keys) to one that does."""
    connection = await db.connection()
    return await connection.run_sync(lambda sync: _follow(sync, address))
