"""Whom a rate limit counts, where its windows start, and how it is configured."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
from litestar.connection import ASGIConnection

from service.domain.rate_limits import window_start
from service.settings import load_settings
from service.web.rate_limit import client_address


def _from(host: str | None) -> ASGIConnection[Any, Any, Any, Any]:
    scope: Any = {"type": "http", "client": (host, 50000) if host is not None else None,
                  "headers": [], "path": "/", "method": "POST"}
    return ASGIConnection(scope)


def test_clients_are_counted_per_address_and_ipv6_per_64_network() -> None:
    hosts = ["192.0.2.7", "2001:db8:1:2:aaaa::1", "2001:db8:1:2:bbbb::9", "2001:db8:1:3::1",
             "::ffff:192.0.2.7", "testclient", None]

    assert [client_address(_from(host)) for host in hosts] == [
        "192.0.2.7", "2001:db8:1:2::/64", "2001:db8:1:2::/64", "2001:db8:1:3::/64",
        "192.0.2.7", "testclient", "unknown",
    ]


def test_windows_start_on_the_same_boundaries_in_every_process() -> None:
    minute = timedelta(minutes=1)
    instants = [datetime(2020, 10, 20, 8, 0, tzinfo=UTC),
                datetime(2020, 10, 20, 8, 0, 59, 999999, tzinfo=UTC),
                datetime(2020, 10, 20, 10, 1, 0, tzinfo=UTC).astimezone()]

    assert [window_start(instant, minute) for instant in instants] == [
        datetime(2020, 10, 20, 8, 0, tzinfo=UTC), datetime(2020, 10, 20, 8, 0, tzinfo=UTC),
        datetime(2020, 10, 20, 10, 1, tzinfo=UTC),
    ]


def test_a_registration_limit_below_one_is_refused_at_start(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.setenv("PROCURA_REGISTRATION_RATE_LIMIT", "0")

    with pytest.raises(ValueError) as refused:
        load_settings(var_dir=tmp_path, secret_key="unit")

    assert str(refused.value) == (
        "PROCURA_REGISTRATION_RATE_LIMIT must be a whole number, at least 1.")
    monkeypatch.setenv("PROCURA_REGISTRATION_RATE_LIMIT", "25")
    assert load_settings(var_dir=tmp_path, secret_key="unit").registration_rate_limit == 25
