"""Settings: where links point when no public address is configured."""

from __future__ import annotations

from pathlib import Path

import pytest

from service.settings import base_url_for, load_settings


def _public_base_url(monkeypatch: pytest.MonkeyPatch, tmp_path: Path, **env: str) -> str:
    for name in ("PROCURA_PUBLIC_BASE_URL", "HOST", "PORT"):
        monkeypatch.delenv(name, raising=False)
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    return load_settings(secret_key="test", var_dir=tmp_path).public_base_url


def test_links_follow_host_and_port_when_no_public_address_is_configured(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    assert [
        _public_base_url(monkeypatch, tmp_path),
        _public_base_url(monkeypatch, tmp_path, PORT="8101"),
        _public_base_url(monkeypatch, tmp_path, HOST="192.0.2.7", PORT="8101"),
        _public_base_url(monkeypatch, tmp_path, HOST="0.0.0.0", PORT="8101"),  # noqa: S104
        _public_base_url(monkeypatch, tmp_path, HOST="::1", PORT="8101"),
        _public_base_url(monkeypatch, tmp_path, PORT="8101",
                         PROCURA_PUBLIC_BASE_URL="https://events.example.org/"),
    ] == [
        "http://127.0.0.1:8000",
        "http://127.0.0.1:8101",
        "http://192.0.2.7:8101",
        "http://127.0.0.1:8101",
        "http://[::1]:8101",
        "https://events.example.org",
    ]


def test_base_url_for_an_address_to_browse_to() -> None:
    assert [base_url_for("localhost", 9000), base_url_for("::", 9000)] == [
        "http://localhost:9000", "http://127.0.0.1:9000"]
