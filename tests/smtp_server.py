"""A pytest plugin with a real SMTP server for tests, and a guard against real ones.

Fixtures:
- `smtp_server`: an aiosmtpd `Controller` on 127.0.0.1 at a free port, recording every
  message. `fail_next(n, reply)` answers the next n messages with `reply` (e.g. a 451 or
  550) at DATA; `refuse_recipient(address, reply)` refuses one address at RCPT;
  `stop()` / `start()` take it down and bring it back on the same port.
  `SmtpTestServer(messages_per_connection=n)` answers the MAIL after the n-th message of a
  connection with "421 ... sent too many times" and closes it, as servers that cap
  messages per connection do. `on_message(callback)` calls `callback(count)` (in the
  server's thread) each time a message is accepted, before the client hears the 250.
- `smtp_settings`: `SmtpSettings` pointing at `smtp_server` (no TLS, no login).
- `smtp_guard` (autouse): any aiosmtplib or smtplib connection to a host other than the
  loopback fails, and the test errors at teardown even if the code swallowed the error.
  A test that means to trigger it empties `smtp_guard.blocked` itself.

Register with `pytest_plugins = ["tests.smtp_server"]` in tests/conftest.py, or `-p
tests.smtp_server` on the command line.
"""

from __future__ import annotations

import email.policy
import smtplib
import threading
from collections.abc import Callable, Iterator
from dataclasses import dataclass
from email.message import EmailMessage
from email.parser import BytesParser
from typing import Any

import aiosmtplib
import pytest
from aiosmtpd.controller import Controller

from service.settings import SmtpSettings
from tests.factories import free_port

LOOPBACK_HOSTS = frozenset({"127.0.0.1", "localhost", "::1"})
SMTP_HOST = "127.0.0.1"


@dataclass(frozen=True)
class ReceivedMessage:
    """One message as the server accepted it: envelope, exact bytes and parsed form."""

    mail_from: str
    rcpt_tos: tuple[str, ...]
    raw: bytes
    message: EmailMessage
    mail_options: tuple[str, ...] = ()  # as given with MAIL FROM, e.g. "SIZE=1234"
    peer: tuple[str, int] | None = None  # the client's end: one per connection

    @property
    def message_id(self) -> str:
        return str(self.message["Message-ID"])


class RecordingHandler:
    """aiosmtpd handler: records accepted messages, answers codes it was told to."""

    def __init__(self) -> None:
        self._lock = threading.Lock()
        self._messages: list[ReceivedMessage] = []
        self._next_replies: list[str] = []
        self._recipient_replies: dict[str, str] = {}
        self.on_message: Callable[[int], None] | None = None

    @property
    def messages(self) -> list[ReceivedMessage]:
        with self._lock:
            return list(self._messages)

    def fail_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        with self._lock:
            self._next_replies.extend([reply] * count)

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        with self._lock:
            self._recipient_replies[address.lower()] = reply

    def clear(self) -> None:
        with self._lock:
            self._messages.clear()
            self._next_replies.clear()
            self._recipient_replies.clear()

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, rcpt_options: list[str]
    ) -> str:
        with self._lock:
            reply = self._recipient_replies.get(address.lower())
        if reply is not None:
            return reply
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self._lock:
            if self._next_replies:
                return self._next_replies.pop(0)
            raw = bytes(envelope.original_content or envelope.content)
            parsed = BytesParser(policy=email.policy.default).parsebytes(raw)
            assert isinstance(parsed, EmailMessage)
            self._messages.append(
                ReceivedMessage(
                    mail_from=envelope.mail_from,
                    rcpt_tos=tuple(envelope.rcpt_tos),
                    raw=raw,
                    message=parsed,
                    mail_options=tuple(envelope.mail_options),
                    peer=tuple(session.peer)[:2],
                )
            )
            count = len(self._messages)
        if self.on_message is not None:
            self.on_message(count)
        return "250 2.0.0 Message accepted for delivery"




class SmtpTestServer:
    """A real SMTP server in a thread; stop and start it to simulate an outage."""

    def __init__(self, *, messages_per_connection: int | None = None) -> None:
        self.host = SMTP_HOST
        self.port = free_port()
        self.handler = RecordingHandler()
        self.messages_per_connection = messages_per_connection
        self._controller: Controller | None = None

    @property
    def is_running(self) -> bool:
        return self._controller is not None

    @property
    def messages(self) -> list[ReceivedMessage]:
        return self.handler.messages

    def fail_next(self, count: int, reply: str = "451 4.3.0 Try again later") -> None:
        self.handler.fail_next(count, reply)

    def refuse_recipient(self, address: str, reply: str = "550 5.1.1 No such user") -> None:
        self.handler.refuse_recipient(address, reply)

    def on_message(self, callback: Callable[[int], None] | None) -> None:
        self.handler.on_message = callback

    def start(self) -> None:
        if self._controller is not None:
            return
        limits: dict[str, Any] = {}
        if self.messages_per_connection is not None:
            # aiosmtpd's own per-connection command budget: 421 and close once spent.
            limits["command_call_limit"] = {"MAIL": self.messages_per_connection, "*": 10_000}
        # A stopped Controller has closed its loop: each start needs a new one.
        controller = Controller(
            self.handler, hostname=self.host, port=self.port, server_hostname="smtp.test",
            **limits,
        )
        controller.start()
        self._controller = controller

    def stop(self) -> None:
        """Close the listener and every open connection (clients see them drop)."""
        if self._controller is not None:
            self._controller.stop()
            self._controller = None

    def smtp_settings(self, *, connections: int = 4, timeout_seconds: float = 30.0) -> SmtpSettings:
        # The service's own default. This server is a thread of the test process, and on two
        # busy cores it has taken over 5 s to answer: a client that gives up after the
        # server took the message sends it again, which only tests about that should see.
        return SmtpSettings(
            host=self.host,
            port=self.port,
            username=None,
            password=None,
            security="none",
            timeout_seconds=timeout_seconds,
            connections=connections,
        )


@pytest.fixture
def smtp_server() -> Iterator[SmtpTestServer]:
    server = SmtpTestServer()
    server.start()
    try:
        yield server
    finally:
        server.stop()


@pytest.fixture
def smtp_settings(smtp_server: SmtpTestServer) -> SmtpSettings:
    return smtp_server.smtp_settings()


class RealSmtpConnectionBlockedError(RuntimeError):
    """A test tried to reach a mail server that is not on this machine."""


@dataclass
class SmtpGuard:
    blocked: list[str]


@pytest.fixture(autouse=True)
def smtp_guard(monkeypatch: pytest.MonkeyPatch) -> Iterator[SmtpGuard]:
    guard = SmtpGuard(blocked=[])
    original_async_connect = aiosmtplib.SMTP.connect
    original_sync_connect = smtplib.SMTP.connect

    def check(host: object) -> None:
        if str(host) not in LOOPBACK_HOSTS:
            guard.blocked.append(str(host))
            raise RealSmtpConnectionBlockedError(f"tests must not connect to SMTP host {host}")

    async def guarded_async_connect(self: aiosmtplib.SMTP, *args: Any, **kwargs: Any) -> Any:
        check(kwargs.get("hostname") or self.hostname or "localhost")
        return await original_async_connect(self, *args, **kwargs)

    def guarded_sync_connect(
        self: smtplib.SMTP, host: str = "localhost", *args: Any, **kwargs: Any
    ) -> Any:
        check(host)
        return original_sync_connect(self, host, *args, **kwargs)

    monkeypatch.setattr(aiosmtplib.SMTP, "connect", guarded_async_connect)
    monkeypatch.setattr(smtplib.SMTP, "connect", guarded_sync_connect)
    yield guard
    if guard.blocked:
        pytest.fail(f"attempted connections to real SMTP hosts: {guard.blocked}")
