"""Engines and transactions: the only place that knows how to open the database.

SQLite (the embedded default) gets WAL, foreign keys and a single pooled connection, so
writers queue in Python instead of fighting over SQLite's one write lock. PostgreSQL is the
production and multi-instance backend.
"""

from __future__ import annotations

import time
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any, cast

from sqlalchemy import (
    ColumnElement,
    Table,
    any_,
    bindparam,
    event,
    exc,
    func,
    insert,
    select,
    true,
)
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import (
    AsyncEngine,
    AsyncSession,
    async_sessionmaker,
    create_async_engine,
)
from sqlalchemy.orm import QueryableAttribute
from sqlalchemy.sql.selectable import TableValuedAlias


def _sqlite_path(url: str) -> Path | None:
    if not url.startswith("sqlite") or ":memory:" in url:
        return None
    return Path(url.split(":///", 1)[1].split("?", 1)[0])


def _unicode_lower(value: str | None) -> str | None:
    return value.lower() if isinstance(value, str) else value


# A pooled PostgreSQL connection is checked (a ping: three round trips) before it is used
# only when it has been idle this long. One returned a moment ago was alive then; a burst of
# short transactions would otherwise pay a ping each (HikariCP skips its check the same way,
# within 500 ms of the last use).
PING_AFTER_IDLE_SECONDS = 1.0
_RETURNED_AT = "procura_returned_at"


def _ping_when_idle(engine: AsyncEngine, idle_seconds: float,
                    clock: Callable[[], float]) -> None:
    """Check a connection at checkout if it was idle for `idle_seconds` or more; one that
    fails the check is replaced by a new connection (the pool's own retry)."""
    pool_events = engine.sync_engine

    @event.listens_for(pool_events, "connect")
    @event.listens_for(pool_events, "checkin")
    def _mark_returned(_dbapi_connection: Any, record: Any) -> None:
        record.info[_RETURNED_AT] = clock()

    @event.listens_for(pool_events, "checkout")
    def _check_if_idle(dbapi_connection: Any, record: Any, _proxy: Any) -> None:
        returned_at = record.info.get(_RETURNED_AT)
        if returned_at is not None and clock() - returned_at < idle_seconds:
            return
        try:
            dbapi_connection.ping()
        except Exception as error:
            raise exc.DisconnectionError(f"the pooled connection is gone: {error}") from error


def create_engine(database_url: str, *, ping_after_idle: float = PING_AFTER_IDLE_SECONDS,
                  clock: Callable[[], float] = time.monotonic, **options: Any) -> AsyncEngine:
    # SQL errors must not carry bound values into logs: they hold emails and private links.
    options.setdefault("hide_parameters", True)
    if database_url.startswith("sqlite"):
        path = _sqlite_path(database_url)
        if path is not None:
            path.parent.mkdir(parents=True, exist_ok=True)
        options.setdefault("pool_size", 1)
        options.setdefault("max_overflow", 0)
        options.setdefault("pool_timeout", 120)
        engine = create_async_engine(database_url, **options)

        @event.listens_for(engine.sync_engine, "connect")
        def _sqlite_pragmas(dbapi_connection: Any, _record: Any) -> None:
            cursor = dbapi_connection.cursor()
            cursor.execute("PRAGMA journal_mode=WAL")
            cursor.execute("PRAGMA synchronous=NORMAL")
            cursor.execute("PRAGMA foreign_keys=ON")
            cursor.execute("PRAGMA busy_timeout=30000")
            cursor.close()
            # SQLite's lower() folds ASCII only: searches for "élodie" must find "Élodie".
            dbapi_connection.create_function("unicode_lower", 1, _unicode_lower,
                                             deterministic=True)

        return engine
    options.setdefault("pool_size", 10)
    options.setdefault("max_overflow", 10)
    engine = create_async_engine(database_url, **options)
    _ping_when_idle(engine, ping_after_idle, clock)
    return engine


def make_sessionmaker(engine: AsyncEngine) -> async_sessionmaker[AsyncSession]:
    return async_sessionmaker(engine, expire_on_commit=False)


@asynccontextmanager
async def session_scope(
    sessionmaker: async_sessionmaker[AsyncSession],
) -> AsyncIterator[AsyncSession]:
    """One transaction for a job or a CLI command: commit on success, roll back on error."""
    async with sessionmaker() as db, db.begin():
        yield db


def is_postgres(db: AsyncSession) -> bool:
    return db.get_bind().dialect.name == "postgresql"


def _one_of(column: ColumnElement[Any] | QueryableAttribute[Any], name: str | None,
            values: list[Any] | None, *, postgres: bool) -> ColumnElement[bool]:
    if postgres:
        return column == any_(bindparam(name, values, type_=postgresql.ARRAY(column.type)))
    return column.in_(bindparam(name, values, expanding=True))


def one_of_bound(column: ColumnElement[Any], name: str, *, postgres: bool
                 ) -> ColumnElement[bool]:
    """`column IN :name` (a list bound at execution) in a statement whose text is the same
    however many values come: on PostgreSQL `column = ANY(:name)`, one array, so each
    connection prepares it once. An IN list is a statement of its own for every length,
    which the server parses and plans again and asyncpg prepares again (a round trip)."""
    return _one_of(column, name, None, postgres=postgres)


def one_of(db: AsyncSession, column: ColumnElement[Any] | QueryableAttribute[Any],
           values: Sequence[Any]) -> ColumnElement[bool]:
    """`column IN values`, as `one_of_bound`: one statement text whatever their number."""
    return _one_of(column, None, list(values), postgres=is_postgres(db))


def table_of(model: type[Any]) -> Table:
    """A mapped class's table, for Core statements (no ORM bookkeeping on hot paths)."""
    return cast(Table, model.__table__)


def insert_unless_exists(db: AsyncSession, target: Any, unique_columns: Sequence[Any]) -> Any:
    """An INSERT that adds nothing where a row with the same unique key exists.

    A concurrent transaction may insert the same key at the same moment: ON CONFLICT DO
    NOTHING settles that inside the database without an error, which on PostgreSQL would
    otherwise abort the caller's whole transaction.
    """
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(target).on_conflict_do_nothing(index_elements=unique_columns)
    if dialect == "sqlite":
        return sqlite.insert(target).on_conflict_do_nothing(index_elements=unique_columns)
    raise NotImplementedError(f"INSERT ... ON CONFLICT is not supported on {dialect}")


def dialect_insert(db: AsyncSession, target: Any) -> Any:
    """This database's own INSERT, for `on_conflict_do_update` (an atomic upsert)."""
    dialect = db.get_bind().dialect.name
    if dialect == "postgresql":
        return postgresql.insert(target)
    if dialect == "sqlite":
        return sqlite.insert(target)
    raise NotImplementedError(f"INSERT ... ON CONFLICT is not supported on {dialect}")


async def insert_returning_ids(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]],
                               key: Sequence[str]) -> list[int]:
    """Insert `rows` (each with the same keys, the columns' names) in one statement; their
    ids in the rows' order, each found by `key` (columns unique among the rows). One
    statement on SQLite too: a RETURNING in the rows' order (`sort_by_parameter_order`) is
    one statement per row there. On PostgreSQL the rows go as one array per column
    (`unnested_rows`): one statement text whatever their number."""
    if not rows:
        return []
    columns = [table.c[name] for name in key]
    if is_postgres(db):
        names, given = _given_rows(table, rows)
        result = await db.execute(insert(table).from_select(names, select(*given.c))
                                  .returning(table.c.id, *columns))
    else:
        result = await db.execute(insert(table).returning(table.c.id, *columns), rows)
    id_of = {tuple(found): row_id for row_id, *found in result.all()}
    return [id_of[tuple(row[name] for name in key)] for row in rows]


def unnested_rows(table: Table, rows: Sequence[dict[str, Any]],
                  columns: dict[str, str]) -> TableValuedAlias:
    """PostgreSQL: `rows` as one table to join in a single statement, one array per column
    (`unnest`), each column named as its key in `columns` and typed as the table's column
    named by its value. asyncpg runs a list of rows as one statement per row, and each pays
    the executor's start: on the outbox (six indexes, four foreign keys) 160 us a row,
    against 17 for the same UPDATE of all the rows at once."""
    arrays = [
        bindparam(f"{key}_array", [row[key] for row in rows],
                  type_=postgresql.ARRAY(table.c[column].type))
        for key, column in columns.items()
    ]
    return func.unnest(*arrays).table_valued(*columns).render_derived(name="given")


def _given_rows(table: Table, rows: Sequence[dict[str, Any]]
                ) -> tuple[list[str], TableValuedAlias]:
    """Rows with the same keys (the columns' names): their names, and the rows unnested."""
    names = list(rows[0])
    return names, unnested_rows(table, rows, {name: name for name in names})


async def insert_rows(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]]) -> None:
    """Insert `rows` (each with the same keys, the columns' names) in one statement on
    PostgreSQL too (`unnested_rows`; the registration desk's CPU per registration 0.30 ->
    0.26 ms, the server's unchanged); SQLite runs the list in-process."""
    if not rows:
        return
    if not is_postgres(db):
        await db.execute(insert(table), rows)
        return
    names, given = _given_rows(table, rows)
    await db.execute(insert(table).from_select(names, select(*given.c)))


async def insert_for_each(db: AsyncSession, table: Table, rows: Sequence[dict[str, Any]],
                          key: str, values: Sequence[Any]) -> None:
    """Insert `rows` (each with the same keys) once for each of `values`, which goes in the
    column `key`. On PostgreSQL one statement joins the rows (one array per column) to the
    values (one array): the database makes the copies, not the driver, which would encode
    every value of every copy. SQLite makes them in-process (`insert_rows`)."""
    if not rows or not values:
        return
    if not is_postgres(db):
        await insert_rows(db, table, [{**row, key: value} for value in values for row in rows])
        return
    names, given = _given_rows(table, rows)
    each = (func.unnest(bindparam(f"{key}_each", list(values),
                                  type_=postgresql.ARRAY(table.c[key].type)))
            .table_valued(key).render_derived(name="each_value"))
    await db.execute(insert(table).from_select(
        [*names, key], select(*given.c, each.c[key]).select_from(given.join(each, true()))))
