"""Sessions as calendar entries, without a database: summaries, agendas, SEQUENCE, UIDs.

Events and sessions are plain (unsaved) model objects.
"""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import pytest

from notifications.message import make_message_id
from service.domain.ical import session_uid
from service.settings import Settings, derive_uid_domain, load_settings


def make_settings(base_url: str = "https://events.procura.example.org", **extra: object
                  ) -> Settings:
    return load_settings(public_base_url=base_url, secret_key="test", var_dir=Path("/nonexistent"),
                         **extra)


# --- UIDs unique across installations --------------------------------------------------------


@pytest.mark.parametrize(
    ("base_url", "domain"),
    [
        # An installation on the scheme's own port keeps the UIDs it always had.
        ("https://events.procura.example.org", "events.procura.example.org"),
        ("https://events.procura.example.org:443/", "events.procura.example.org"),
        ("http://Events.Procura.Example.org:80", "events.procura.example.org"),
        # Two installations on one host differ by their port.
        ("http://127.0.0.1:8000", "127.0.0.1:8000"),
        ("http://127.0.0.1:8001", "127.0.0.1:8001"),
        ("https://events.example.org:8443/procura", "events.example.org:8443"),
        ("http://[::1]:8000", "[::1]:8000"),
    ],
)
def test_the_uid_domain_comes_from_the_public_address_with_its_port(
    base_url: str, domain: str
) -> None:
    settings = make_settings(base_url)

    assert (derive_uid_domain(base_url), settings.uid_domain) == (domain, domain)
    assert session_uid(7, settings.uid_domain) == f"session-7@{domain}"


def test_two_instances_on_one_host_give_different_uids() -> None:
    first, second = make_settings("http://127.0.0.1:8000"), make_settings("http://127.0.0.1:8001")

    assert session_uid(1, first.uid_domain) != session_uid(1, second.uid_domain)


def test_a_configured_uid_domain_wins_and_is_checked(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("PROCURA_UID_DOMAIN", "events.procura.eu")
    configured = make_settings("http://127.0.0.1:8000")
    monkeypatch.setenv("PROCURA_UID_DOMAIN", "evil.example\r\nATTENDEE:mailto:x@y")

    with pytest.raises(ValueError, match="PROCURA_UID_DOMAIN"):
        make_settings()
    assert configured.uid_domain == "events.procura.eu"
    assert session_uid(1, configured.uid_domain) == "session-1@events.procura.eu"
    for bad in ("", "a b", "x@y", "host:port", "-leading.example"):
        with pytest.raises(ValueError, match="PROCURA_UID_DOMAIN"):
            replace(configured, configured_uid_domain=bad)


def test_message_ids_use_the_host_alone() -> None:
    """A port is not allowed in a Message-ID's right-hand side (they are random anyway)."""
    settings = make_settings("http://127.0.0.1:8000")

    assert make_message_id(settings).endswith("@127.0.0.1>")
