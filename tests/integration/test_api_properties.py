"""Property-based: drive every API operation from the app's own OpenAPI description.

Schemathesis generates requests (valid and invalid) for each operation; no answer may be a
500 and every answer must match the documented schema. Runs on both databases with the
demo programme and an organiser token, so authenticated writes are exercised too.
"""

from __future__ import annotations

import asyncio
import shutil
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import hypothesis
import pytest
import schemathesis
from hypothesis import HealthCheck, given
from litestar import Litestar
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.domain.auth import create_api_token
from service.operations.demo import load_demo_programme
from service.settings import Settings, load_settings
from service.web.app import create_app
from tests import databases
from tests.conftest import BACKENDS, TEST_BASE_URL

EXAMPLES_PER_OPERATION = 25
DEMO_SLUGS = (
    "make-ict-fair-webinar-series-2020", "procura-plus-seminar-2027",
    "citymatch-zurich-recycled-concrete", "meet-your-buyer-haarlem-fair-circular-ict",
)
# Operations whose answers are not JSON documents (calendar files, CSV, HTML pages).
NOT_JSON = (".ics", ".csv")


async def _arrange(settings: Settings) -> str:
    engine = create_engine(settings.database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            now = datetime.now(UTC)
            await load_demo_programme(db, now=now, settings=settings)
            issued = await create_api_token(db, name="schemathesis", role="organiser", now=now)
            return issued.secret
    finally:
        await engine.dispose()


def _aim_at_existing_rows(case: schemathesis.Case) -> None:
    """Random ids almost never exist: fold most of them onto the demo programme's rows."""
    for name, value in (case.path_parameters or {}).items():
        if isinstance(value, int) and value % 4 != 0:
            case.path_parameters[name] = value % 15 + 1
        elif name == "slug" and isinstance(value, str) and len(value) % 3 != 0:
            case.path_parameters[name] = DEMO_SLUGS[len(value) % len(DEMO_SLUGS)]


@pytest.fixture(params=BACKENDS)
def backend_url(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[str]:
    if request.param == "sqlite":
        path = tmp_path / "procura.db"
        shutil.copyfile(request.getfixturevalue("sqlite_template"), path)
        yield f"sqlite+aiosqlite:///{path}"
        return
    server: databases.PostgresServer = request.getfixturevalue("postgres_server")
    name = asyncio.run(databases.create_database(server))
    try:
        yield server.url_for(name)
    finally:
        asyncio.run(databases.drop_database(server, name))


def test_no_operation_answers_500_or_breaks_its_schema(backend_url: str, tmp_path: Path) -> None:
    settings = load_settings(
        database_url=backend_url, public_base_url=TEST_BASE_URL, secret_key="properties",
        var_dir=tmp_path / "var", maildir_path=tmp_path / "maildir", run_scheduler=False,
    )
    token = asyncio.run(_arrange(settings))
    app: Litestar = create_app(settings)
    schema = schemathesis.openapi.from_dict(app.openapi_schema.to_schema())
    operations = [result.ok() for result in schema.get_all_operations()]
    checked: list[str] = []

    with TestClient(app=app, base_url=TEST_BASE_URL) as client:
        for operation in operations:
            if operation.path.endswith(NOT_JSON):
                continue

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), derandomize=True,
            )
            @given(case=operation.as_strategy())
            def exercise(case: schemathesis.Case) -> None:
                _aim_at_existing_rows(case)
                kwargs = case.as_transport_kwargs(
                    base_url=TEST_BASE_URL, headers={"Authorization": f"Bearer {token}"}
                )
                response = client.request(
                    kwargs["method"], kwargs["url"], headers=kwargs.get("headers"),
                    params=kwargs.get("params"), json=kwargs.get("json"),
                    content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes) else None,
                )
                case.validate_response(
                    response, checks=[not_a_server_error, response_schema_conformance]
                )

            exercise()
            checked.append(f"{operation.method.upper()} {operation.path}")

    assert len(checked) >= 20
    assert "POST /api/organiser/events" in checked
