"""What the live database holds about one email address, found by reading every row.

The oracle of the export test: it knows no table or column of the product. It reflects every
table of the database as it is (SQLAlchemy's inspector), reads every row, takes each row in
which any value (text, JSON, bytes) mentions the address, then every row that refers to one
of those by a foreign key, and so on until nothing more is found.
"""

from __future__ import annotations

import json
from typing import Any

from sqlalchemy import Connection, MetaData, Table, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession

RowKey = tuple[str, Any]  # (table, primary key: the value, or a tuple when composite)


def _text_of(value: Any) -> str:
    if value is None:
        return ""
    if isinstance(value, bytes | bytearray | memoryview):
        return bytes(value).decode("latin-1")
    if isinstance(value, dict | list):
        return json.dumps(value, ensure_ascii=False)
    return str(value)


def _scan(connection: Connection, address: str) -> set[RowKey]:
    inspector = inspect(connection)
    metadata = MetaData()
    tables = {name: Table(name, metadata, autoload_with=connection)
              for name in inspector.get_table_names() if name != "alembic_version"}
    rows: dict[str, list[dict[str, Any]]] = {
        name: [dict(r._mapping) for r in connection.execute(select(table))]
        for name, table in tables.items()}
    primary = {name: [c.name for c in table.primary_key.columns]
               for name, table in tables.items()}

    def key(name: str, row: dict[str, Any]) -> RowKey:
        columns = primary[name]
        return (name, row[columns[0]] if len(columns) == 1 else
                tuple(row[c] for c in columns))

    wanted = address.lower()
    found: dict[str, list[dict[str, Any]]] = {name: [] for name in tables}
    for name, table_rows in rows.items():
        for row in table_rows:
            if any(wanted in _text_of(value).lower() for value in row.values()):
                found[name].append(row)
    foreign_keys = [(name, fk) for name, table in tables.items()
                    for fk in table.foreign_key_constraints]
    while True:
        added = False
        for name, fk in foreign_keys:
            parent = fk.referred_table.name
            if not found[parent]:
                continue
            pairs = [(element.parent.name, element.column.name) for element in fk.elements]
            targets = {tuple(row[p] for _, p in pairs) for row in found[parent]}
            have = {key(name, row) for row in found[name]}
            for row in rows[name]:
                if tuple(row[c] for c, _ in pairs) in targets and key(name, row) not in have:
                    found[name].append(row)
                    have.add(key(name, row))
                    added = True
        if not added:
            break
    return {key(name, row) for name, table_rows in found.items() for row in table_rows}


async def rows_about(db: AsyncSession, address: str) -> set[RowKey]:
    """Every row that mentions `address` or refers (through foreign keys) to one that does."""
    connection = await db.connection()
    return await connection.run_sync(lambda sync: _scan(sync, address))
