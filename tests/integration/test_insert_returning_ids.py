"""A batch of rows goes in with one INSERT, and each row gets its own id back."""

from __future__ import annotations

from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.engine import insert_returning_ids, is_postgres, table_of
from service.db.models import Organisation, OrganisationKind
from tests.statements import recorded_statements

NOW = datetime(2026, 10, 1, 9, 0, tzinfo=UTC)


async def test_one_statement_and_each_row_its_own_id(db: AsyncSession) -> None:
    rows = [{"name": f"City of Example {n:02d}", "kind": OrganisationKind.PUBLIC_AUTHORITY,
             "created_at": NOW, "updated_at": NOW} for n in (7, 3, 12, 1, 9)]
    with recorded_statements(db) as statements:
        async with db.begin():
            ids = await insert_returning_ids(db, table_of(Organisation), rows, key=("name",))
    async with db.begin():
        names = dict((await db.execute(
            select(Organisation.id, Organisation.name).where(Organisation.id.in_(ids)))).all())

    assert len([s for s in statements if s.verb == "INSERT"]) == 1
    assert [names[row_id] for row_id in ids] == [row["name"] for row in rows]
    assert await insert_returning_ids(db, table_of(Organisation), [], key=("name",)) == []


async def test_on_postgresql_any_number_of_rows_goes_in_one_statement_text(
    db: AsyncSession,
) -> None:
    """A batch of registrations has whatever size the moment gives it: one text for all
    sizes, so the server does not parse and plan it again for each."""
    sent = []
    for names in (["City of Alpha", "City of Beta"], ["City of Gamma", "City of Delta",
                                                       "City of Epsilon"]):
        rows = [{"name": name, "kind": OrganisationKind.PUBLIC_AUTHORITY, "created_at": NOW,
                 "updated_at": NOW} for name in names]
        with recorded_statements(db) as statements:
            async with db.begin():
                ids = await insert_returning_ids(db, table_of(Organisation), rows,
                                                 key=("name",))
        sent.append([s.sql for s in statements if s.verb == "INSERT"])
        async with db.begin():
            stored = dict((await db.execute(select(Organisation.id, Organisation.name)
                                            .where(Organisation.id.in_(ids)))).all())
        assert [stored[row_id] for row_id in ids] == names

    assert [len(inserts) for inserts in sent] == [1, 1]
    if is_postgres(db):
        assert sent[0] == sent[1]
