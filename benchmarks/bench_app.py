"""The service's app plus the two baselines the benchmarks compare against, served the same way.

`/bench/ping` is a bare JSON endpoint; `/bench/insert` inserts one row in one transaction
through the same database layer (plugin session, autocommit) as every real handler: the
floor any write must pay.
"""

from __future__ import annotations

import uuid

from litestar import Litestar, get, post
from litestar.params import JSONBody

from service.clock import utc_now
from service.db.models import Organisation, OrganisationKind
from service.web.app import create_app
from service.web.params import DbSession


@get("/bench/ping", sync_to_thread=False)
def ping() -> dict[str, str]:
    return {"status": "ok"}


@post("/bench/insert")
async def insert_one_row(db_session: DbSession, data: JSONBody[dict[str, str]]) -> dict[str, int]:
    now = utc_now()
    row = Organisation(name=f"{data.get('name', 'row')} {uuid.uuid4().hex}",
                       kind=OrganisationKind.OTHER, created_at=now, updated_at=now)
    db_session.add(row)
    await db_session.flush()
    return {"id": row.id}


def make_app() -> Litestar:
    app = create_app()
    app.register(ping)
    app.register(insert_one_row)
    return app
