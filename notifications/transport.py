"""Handing finished messages to a mail server: the only module that talks SMTP.

`SmtpTransport` keeps a few connections open and sends on up to `smtp.connections` of them
at once (a reused connection is about twice as fast as a new one per message). A pooled
connection that turns out to be closed when a message is sent on it (the server dropped it,
or answered 421 "closing channel", as servers capping messages per connection do) is not
the message's failure: the message goes at once on a new connection, instead of waiting
for a retry. A connection left mid-transaction by an error is closed, never reused, so one
bad message cannot spoil the next one. `MaildirTransport` writes each message
into a local Maildir, the default when no SMTP server is configured, so an embedded
installation works offline and its mail can be read with any mail client.

Every failure comes out as `TransientDeliveryError` (try again later: connection trouble,
timeouts, 4xx, our own configuration being refused) or `PermanentDeliveryError` (the server
refused this message or recipient with a 5xx: retrying will not help). This module does
not know about the outbox, retries or the database.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import mailbox
import re
import time
from pathlib import Path
from typing import Protocol

import aiosmtplib

from service.settings import Settings, SmtpSettings

logger = logging.getLogger("procura_events.transport")

# A pooled connection idle for longer than this is checked with NOOP before it is used:
# servers close idle connections, and finding out during MAIL FROM costs a message attempt.
IDLE_PROBE_SECONDS = 10.0


class DeliveryError(Exception):
    """A message was not accepted; `smtp_code` is the server's reply code when it gave one."""

    def __init__(self, detail: str, smtp_code: int | None = None) -> None:
        super().__init__(detail)
        self.detail = detail
        self.smtp_code = smtp_code


class TransientDeliveryError(DeliveryError):
    """Worth another try later."""


class PermanentDeliveryError(DeliveryError):
    """The server refused this message for good."""


class _ChannelClosedError(TransientDeliveryError):
    """The connection was gone or closing (dropped, or a 421): nothing said about the message."""


class MailTransport(Protocol):
    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        """Deliver `raw` to one recipient or raise a `DeliveryError`."""
        ...

    async def close(self) -> None: ...


# Whitespace (any Unicode space) or a control character: never in an envelope address.
_NOT_IN_AN_ADDRESS = re.compile(r"[\s\x00-\x1f]")


def _check_envelope_address(address: str) -> None:
    if not address or "@" not in address or _NOT_IN_AN_ADDRESS.search(address):
        raise PermanentDeliveryError(f"invalid envelope address {address!r}")
    if not address.isascii():
        # Would need SMTPUTF8 end to end; found here, before anything is on the wire.
        raise PermanentDeliveryError(
            f"envelope address {address!r} is not ASCII and cannot be encoded for SMTP")


# Reply code of a server closing the transmission channel (RFC 5321 4.2.3).
_CLOSING_CHANNEL = 421


def _by_code(code: int, detail: str) -> DeliveryError:
    if 500 <= code < 600:
        return PermanentDeliveryError(detail, code)
    return TransientDeliveryError(detail, code)


def classify_smtp_error(error: Exception) -> DeliveryError:
    """Map an aiosmtplib (or socket) error to transient or permanent."""
    if isinstance(error, aiosmtplib.SMTPRecipientsRefused):
        refused = error.recipients[0] if error.recipients else None
        if refused is None:
            return TransientDeliveryError("all recipients refused")
        return _by_code(refused.code, f"{refused.code} {refused.message} ({refused.recipient})")
    if isinstance(error, aiosmtplib.SMTPRecipientRefused):
        return _by_code(error.code, f"{error.code} {error.message} ({error.recipient})")
    if isinstance(
        error,
        aiosmtplib.SMTPAuthenticationError
        | aiosmtplib.SMTPConnectResponseError
        | aiosmtplib.SMTPHeloError,
    ):
        # About our connection or credentials, not this message: fixable, so never final.
        return TransientDeliveryError(f"{error.code} {error.message}", error.code)
    if isinstance(error, aiosmtplib.SMTPResponseException):
        return _by_code(error.code, f"{error.code} {error.message}")
    if isinstance(error, aiosmtplib.SMTPException):
        return TransientDeliveryError(f"{type(error).__name__}: {error.message}")
    if isinstance(error, OSError | TimeoutError):
        return TransientDeliveryError(f"{type(error).__name__}: {error}")
    return TransientDeliveryError(f"unexpected {type(error).__name__}: {error}")


_LINE_ENDS = re.compile(rb"\r\n|\r|\n")


def size_on_the_wire(raw: bytes) -> int:
    """The message's size as DATA transmits it (RFC 1870: every line end a CRLF)."""
    crlf = raw.count(b"\r\n")
    if raw.count(b"\n") == crlf and raw.count(b"\r") == crlf:
        size = len(raw)  # what `build_mime` makes: nothing to rewrite
    else:
        size = len(_LINE_ENDS.sub(b"\r\n", raw))
    return size if raw.endswith((b"\r", b"\n")) else size + 2  # DATA ends it with a CRLF


async def _mail_transaction(
    client: aiosmtplib.SMTP, raw: bytes, sender: str, recipient: str
) -> None:
    """MAIL, RCPT and DATA for one recipient, as `client.sendmail` sends them. Not sendmail
    itself: to declare SIZE it rewrites the line ends of the whole message (which DATA does
    again), and it parses both addresses once more than MAIL and RCPT do; that was a
    quarter of the client's work per message. A refusal is followed by RSET, as there."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()  # a server without ESMTP: no SIZE either
    options = [f"SIZE={size_on_the_wire(raw)}"] if client.supports_extension("size") else []
    try:
        await client.mail(sender, options=options)
        await client.rcpt(recipient)
        await client.data(raw)
    except aiosmtplib.SMTPResponseException:
        # The envelope is reset so the connection can carry the next message.
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()
        raise


class SmtpTransport:
    """A small pool of SMTP connections; one message per `send`, one recipient each."""

    def __init__(self, smtp: SmtpSettings, *, local_hostname: str | None = None) -> None:
        if not smtp.host:
            raise ValueError("SMTP host is not configured")
        if smtp.security not in {"none", "starttls", "tls"}:
            raise ValueError(f"unknown SMTP security {smtp.security!r}")
        self._smtp = smtp
        self._local_hostname = local_hostname
        self._slots = asyncio.Semaphore(max(1, smtp.connections))
        self._idle: list[tuple[aiosmtplib.SMTP, float]] = []
        self._closed = False

    def _new_client(self) -> aiosmtplib.SMTP:
        smtp = self._smtp
        return aiosmtplib.SMTP(
            hostname=smtp.host,
            port=smtp.port,
            username=smtp.username,
            password=smtp.password,
            local_hostname=self._local_hostname,
            timeout=smtp.timeout_seconds,
            use_tls=smtp.security == "tls",
            start_tls=smtp.security == "starttls",
        )

    async def _checkout(self) -> tuple[aiosmtplib.SMTP, bool]:
        """A connection to send on, and whether it was reused from the pool."""
        while self._idle:
            client, idle_since = self._idle.pop()
            if not client.is_connected:
                continue
            if time.monotonic() - idle_since > IDLE_PROBE_SECONDS:
                try:
                    await client.noop()
                except (aiosmtplib.SMTPException, OSError, TimeoutError):
                    client.close()
                    continue
            return client, True
        return await self._connect(), False

    async def _connect(self) -> aiosmtplib.SMTP:
        client = self._new_client()
        try:
            await client.connect()
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            client.close()
            raise classify_smtp_error(error) from error
        return client

    def _checkin(self, client: aiosmtplib.SMTP) -> None:
        if client.is_connected and not self._closed:
            self._idle.append((client, time.monotonic()))
        else:
            client.close()

    async def _send_on(
        self, client: aiosmtplib.SMTP, raw: bytes, sender: str, recipient: str
    ) -> None:
        """One mail transaction on `client`, which is then pooled again or closed."""
        reusable = False
        try:
            await _mail_transaction(client, raw, sender, recipient)
            reusable = True
        except ValueError as error:  # an address aiosmtplib refuses to put on the wire
            # Possibly halfway through the envelope (MAIL sent, RCPT not): not reusable.
            raise PermanentDeliveryError(f"rejected by client: {error}") from error
        except aiosmtplib.SMTPResponseException as error:
            if error.code == _CLOSING_CHANNEL:
                raise _ChannelClosedError(f"{error.code} {error.message}", error.code) from error
            # The server answered (and RSET followed): the connection is reusable.
            reusable = True
            raise classify_smtp_error(error) from error
        except (aiosmtplib.SMTPServerDisconnected, ConnectionError) as error:
            raise _ChannelClosedError(f"{type(error).__name__}: {error}") from error
        except (aiosmtplib.SMTPException, OSError, TimeoutError) as error:
            raise classify_smtp_error(error) from error
        finally:
            # Anything else (a timeout mid-DATA, a cancellation) leaves the connection in
            # an unknown state: close it rather than reuse it.
            if reusable:
                self._checkin(client)
            else:
                client.close()

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        _check_envelope_address(sender)
        _check_envelope_address(recipient)
        if self._closed:
            raise TransientDeliveryError("transport is closed")
        async with self._slots:
            client, reused = await self._checkout()
            try:
                await self._send_on(client, raw, sender, recipient)
            except _ChannelClosedError as closed:
                if not reused:
                    raise
                # The pooled connection was closed under us, not the message refused: send
                # it now on a new connection rather than after a retry's backoff.
                logger.info("Pooled SMTP connection was closed (%s); using a new one",
                            closed.detail)
                await self._send_on(await self._connect(), raw, sender, recipient)

    async def close(self) -> None:
        self._closed = True
        idle, self._idle = self._idle, []
        for client, _ in idle:
            try:
                await client.quit()
            except (aiosmtplib.SMTPException, OSError, TimeoutError):
                client.close()


class MaildirTransport:
    """Writes each message to a Maildir, as a local delivery agent would."""

    def __init__(self, path: Path) -> None:
        self.path = path

    def _write(self, raw: bytes, sender: str, recipient: str) -> None:
        box = mailbox.Maildir(self.path, create=True)
        # Maildir files use the local line end; the envelope goes where an MDA puts it.
        trace = f"Return-Path: <{sender}>\nDelivered-To: {recipient}\n".encode()
        box.add(trace + raw.replace(b"\r\n", b"\n"))

    async def send(self, raw: bytes, sender: str, recipient: str) -> None:
        _check_envelope_address(sender)
        _check_envelope_address(recipient)
        try:
            await asyncio.to_thread(self._write, raw, sender, recipient)
        except OSError as error:
            raise TransientDeliveryError(f"cannot write to {self.path}: {error}") from error

    async def close(self) -> None:
        return None


def make_transport(settings: Settings) -> MailTransport:
    """SMTP when a server is configured, else the local Maildir."""
    if settings.smtp.is_configured:
        return SmtpTransport(settings.smtp)
    return MaildirTransport(settings.maildir_path)
