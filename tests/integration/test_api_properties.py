"""Property-based: drive every API operation from the app's own OpenAPI description.

Schemathesis generates requests (valid and invalid) for each operation; no answer may be a
500 and every answer must match the documented schema. Runs on both databases with the
demo programme and an organiser token, so authenticated writes are exercised too.

Generated values stay politely inside their schema, and the schema cannot describe the
values that broke us: a NUL in a path parameter (PostgreSQL refuses it), days and times at
the ends of the calendar (conversions overflow), JSON bodies the decoder chokes on, and the
HTML pages, which are not in the schema at all. So generated cases are pushed to those
edges, and a second test sweeps every route and parameter of the app with them.
"""

from __future__ import annotations

import asyncio
import re
import shutil
from collections.abc import Iterator
from dataclasses import replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import quote

import hypothesis
import pytest
import schemathesis

# Loaded at collection, at a shallow stack: imported lazily inside the test (by
# `schemathesis.openapi.from_dict`), pytest's rewriting of schemathesis' modules once failed
# with CPython 3.11's "SystemError: AST constructor recursion depth mismatch".
import schemathesis.specs.openapi.schemas
from hypothesis import HealthCheck, given
from hypothesis import strategies as st
from litestar import Litestar
from litestar.routes import HTTPRoute
from litestar.testing import TestClient
from schemathesis.checks import not_a_server_error
from schemathesis.specs.openapi.checks import response_schema_conformance

from service.db.engine import create_engine, make_sessionmaker, session_scope
from service.domain.auth import create_api_token
from service.operations.demo import load_demo_programme
from service.settings import Settings, load_settings
from service.web.app import create_app, openapi_document
from tests import databases
from tests.conftest import BACKENDS, TEST_BASE_URL

EXAMPLES_PER_OPERATION = 25
DEMO_SLUGS = (
    "make-ict-fair-webinar-series-2020", "procura-plus-seminar-2027",
    "citymatch-zurich-recycled-concrete", "meet-your-buyer-haarlem-fair-circular-ict",
)
# Operations whose answers are not JSON documents (calendar files, CSV, HTML pages): their
# bodies are not checked against a schema, only their status.
NOT_JSON = (".ics", ".csv")
# Values at the edges, where the service once answered 500.
EDGE_TEXT = ("\x00", "a\x00.ics", "\x1b[31m", "x\x7f", "%", "%00", "..", " ", "é" * 300)
EDGE_DAYS = ("0001-01-01", "9999-12-31", "1899-12-31", "3000-01-01")
EDGE_TIMES = ("0001-01-01T00:00", "9999-12-31T23:59", "0001-01-01T00:00+14:00",
              "9999-12-31T23:59-12:00", "1899-12-31T23:59Z")
EDGE_INTEGERS = ("-1", "0", "2147483648", "9223372036854775808", "1e3")
EDGE_BODIES = (b"[" * 1000 + b"]" * 1000, b'{"a":' * 3000 + b"1" + b"}" * 3000,
               b'{"name": "\xff\xfe"}', b'{"name": "\\ud800"}', b"\x00", b'{"name": "a"')


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


def _parameters(spec: dict[str, Any], path: str, method: str) -> dict[tuple[str, str], Any]:
    """(location, name) -> JSON schema of each parameter an operation documents."""
    operation = spec["paths"][path][method.lower()]
    return {(p["in"], p["name"]): p.get("schema", {}) for p in operation.get("parameters", [])}


def _edges_for(schema: dict[str, Any]) -> tuple[str, ...]:
    kinds = {schema.get("type")} | {option.get("type") for option in schema.get("oneOf", [])}
    if schema.get("format") == "date" or any(
            option.get("format") == "date" for option in schema.get("oneOf", [])):
        return EDGE_DAYS
    if "integer" in kinds:
        return EDGE_INTEGERS
    return EDGE_TEXT


def _push_to_the_edges(case: schemathesis.Case, data: st.DataObject,
                       parameters: dict[tuple[str, str], Any]) -> None:
    """Now and then, replace a generated value by one from the edges."""
    for (location, name), schema in parameters.items():
        if location not in ("path", "query") or not data.draw(st.booleans()):
            continue
        value = data.draw(st.sampled_from(_edges_for(schema)))
        if location == "path" and case.path_parameters is not None:
            case.path_parameters[name] = quote(value, safe="")  # put into the URL as it is
        elif location == "query":
            case.query = {**(case.query or {}), name: value}
    if isinstance(case.body, dict):
        for name in [n for n, v in case.body.items() if n.endswith("_at") and isinstance(v, str)]:
            if data.draw(st.booleans()):
                case.body[name] = data.draw(st.sampled_from(EDGE_TIMES))


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


def _settings(backend_url: str, tmp_path: Path) -> Settings:
    settings = load_settings(
        database_url=backend_url, public_base_url=TEST_BASE_URL, secret_key="properties",
        var_dir=tmp_path / "var", maildir_path=tmp_path / "maildir", run_scheduler=False,
    )
    # Every request comes from one client: lift its registration limit (still counted).
    return replace(settings, registration_rate_limit=1_000_000)


def test_no_operation_answers_500_or_breaks_its_schema(backend_url: str, tmp_path: Path) -> None:
    settings = _settings(backend_url, tmp_path)
    token = asyncio.run(_arrange(settings))
    app: Litestar = create_app(settings)
    spec = openapi_document(app).to_schema()
    schema = schemathesis.openapi.from_dict(spec)
    operations = [result.ok() for result in schema.get_all_operations()]
    checked: list[str] = []

    with TestClient(app=app, base_url=TEST_BASE_URL) as client:
        for operation in operations:
            parameters = _parameters(spec, operation.path, operation.method)
            checks = [not_a_server_error]
            if not operation.path.endswith(NOT_JSON):
                checks.append(response_schema_conformance)

            @hypothesis.settings(
                max_examples=EXAMPLES_PER_OPERATION, deadline=None, database=None,
                suppress_health_check=list(HealthCheck), derandomize=True,
            )
            @given(case=operation.as_strategy(), data=st.data())
            def exercise(case: schemathesis.Case, data: st.DataObject) -> None:
                _aim_at_existing_rows(case)
                _push_to_the_edges(case, data, parameters)  # noqa: B023 (run in this iteration)
                kwargs = case.as_transport_kwargs(
                    base_url=TEST_BASE_URL, headers={"Authorization": f"Bearer {token}"}
                )
                response = client.request(
                    kwargs["method"], kwargs["url"], headers=kwargs.get("headers"),
                    params=kwargs.get("params"), json=kwargs.get("json"),
                    content=kwargs.get("data") if isinstance(kwargs.get("data"), bytes) else None,
                )
                case.validate_response(response, checks=checks)  # noqa: B023 (as above)

            exercise()
            checked.append(f"{operation.method.upper()} {operation.path}")

    assert len(checked) >= 20
    assert "POST /api/organiser/events" in checked
    assert "GET /feeds/events/{name}" in checked


def _example_value(name: str, kind: type) -> str:
    """A plausible value for a path parameter that is not the one under test."""
    if kind is int:
        return "1"
    return {"slug": DEMO_SLUGS[0], "name": "programme.ics"}.get(name, "unknown-token")


def test_edge_values_in_every_parameter_and_body_never_answer_500(
    backend_url: str, tmp_path: Path
) -> None:
    """Every route of the app (pages and feeds too), every parameter, every JSON body."""
    settings = _settings(backend_url, tmp_path)
    token = asyncio.run(_arrange(settings))
    app: Litestar = create_app(settings)
    spec = openapi_document(app).to_schema()
    headers = {"Authorization": f"Bearer {token}", "Content-Type": "application/json"}
    requests: list[tuple[str, str, dict[str, str], bytes | None]] = []
    for route in app.routes:
        if not isinstance(route, HTTPRoute) or route.path.startswith("/static"):
            continue
        methods = sorted(set(route.methods) - {"OPTIONS", "HEAD"})
        for tested, parameter in route.path_parameters.items():
            edges = EDGE_TEXT if parameter.type is str else EDGE_INTEGERS
            for method, value in ((m, v) for m in methods for v in edges):
                path = route.path
                for name, other in route.path_parameters.items():
                    path = path.replace(f"{{{other.full}}}", quote(
                        value if name == tested else _example_value(name, other.type), safe=""))
                requests.append((method, path, {}, None))
    for path, item in spec["paths"].items():
        for method, operation in item.items():
            url = re.sub(r"\{[a-z_]*id\}", "1", path).replace("{slug}", DEMO_SLUGS[0])
            url = url.replace("{name}", "programme.ics").replace("{token}", "unknown-token")
            for (location, name), schema in _parameters(spec, path, method).items():
                if location == "query":
                    requests += [(method.upper(), url, {name: value}, None)
                                 for value in _edges_for(schema)]
            if "requestBody" in operation:
                requests += [(method.upper(), url, {}, body) for body in EDGE_BODIES]

    failures = []
    with TestClient(app=app, base_url=TEST_BASE_URL) as client:
        for method, url, query, body in requests:
            response = client.request(method, url, params=query, content=body, headers=headers)
            if response.status_code >= 500:
                failures.append(f"{method} {url} {query} {body!r:.40}: {response.status_code}")

    assert len(requests) > 500
    assert failures == []
