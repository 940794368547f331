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
from aiosmtplib.email import quote_address

from notifications.message import PLAIN_ADDRESS
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
_LINE_STARTING_WITH_A_DOT = re.compile(rb"(?m)^\.")


def normalized_for_data(raw: bytes) -> bytes:
    """The message as DATA transmits it (RFC 5321 2.3.8): every line end a CRLF, and a
    CRLF at the end. What `build_mime` makes already is: then only counted, not rewritten
    (a rewrite of a 13 KB message costs more than the rest of the client's work on it)."""
    crlf = raw.count(b"\r\n")
    if raw.count(b"\n") != crlf or raw.count(b"\r") != crlf:
        raw = _LINE_ENDS.sub(b"\r\n", raw)
    return raw if raw.endswith(b"\r\n") else raw + b"\r\n"


def data_payload(normalized: bytes) -> bytes:
    """What follows the DATA command: dots at line starts doubled (RFC 5321 4.5.2), then the
    end-of-data line."""
    if normalized.startswith(b".") or b"\n." in normalized:
        normalized = _LINE_STARTING_WITH_A_DOT.sub(b"..", normalized)
    return normalized + b".\r\n"


def _envelope_address(address: str) -> bytes:
    """A plain address (dot-atom, ASCII domain: what the outbox holds) goes on the MAIL and
    RCPT lines as it is; anything else is quoted by aiosmtplib's own parser."""
    if PLAIN_ADDRESS.fullmatch(address):
        return b"<" + address.encode("ascii") + b">"
    return quote_address(address).encode("ascii")


async def _mail_transaction(
    client: aiosmtplib.SMTP, raw: bytes, sender: str, recipient: str
) -> None:
    """MAIL, RCPT and DATA for one recipient: what `client.sendmail` sends, with less work
    per message. sendmail rewrites the line ends of the whole message to count its SIZE,
    DATA rewrites them again and then searches it for dots, and both addresses are parsed
    twice: together more than half of the client's CPU per message. Here a message already
    in transmission form is only counted, and an address as the outbox holds it is not
    parsed. Refusals raise aiosmtplib's own errors, and are followed by RSET, as there."""
    if client.is_ehlo_or_helo_needed:
        try:
            await client.ehlo()
        except aiosmtplib.SMTPHeloError:
            await client.helo()  # a server without ESMTP: no SIZE either
    normalized = normalized_for_data(raw)
    mail = [b"MAIL", b"FROM:" + _envelope_address(sender)]
    if client.supports_extension("size"):
        mail.append(b"SIZE=%d" % len(normalized))
    try:
        response = await client.execute_command(*mail)
        if response.code != aiosmtplib.SMTPStatus.completed:
            raise aiosmtplib.SMTPSenderRefused(response.code, response.message, sender)
        response = await client.execute_command(b"RCPT", b"TO:" + _envelope_address(recipient))
        if response.code not in {aiosmtplib.SMTPStatus.completed,
                                 aiosmtplib.SMTPStatus.will_forward}:
            raise aiosmtplib.SMTPRecipientRefused(response.code, response.message, recipient)
        response = await client.execute_command(b"DATA")
        if response.code != aiosmtplib.SMTPStatus.start_input:
            raise aiosmtplib.SMTPDataError(response.code, response.message)
        await _send_data(client, data_payload(normalized))
    except aiosmtplib.SMTPResponseException:
        # The envelope is reset so the connection can carry the next message.
        with contextlib.suppress(ConnectionError, aiosmtplib.SMTPResponseException):
            await client.rset()
        raise


async def _send_data(client: aiosmtplib.SMTP, payload: bytes) -> None:
    """The message after a 354, and the server's verdict on it."""
    protocol = client.protocol
    if protocol is None:
        raise aiosmtplib.SMTPServerDisconnected("Connection lost")
    try:
        protocol.write(payload)
        response = await protocol.read_response(timeout=client.timeout)
    except (aiosmtplib.SMTPServerDisconnected, aiosmtplib.SMTPTimeoutError):
        client.close()  # half a message on the wire: never reused
        raise
    if response.code != aiosmtplib.SMTPStatus.completed:
        raise aiosmtplib.SMTPDataError(response.code, response.message)


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
        # Each folder is made here if missing (private, as `mailbox` makes them: they hold
        # people's emails). `Maildir(create=True)` makes them only when the box's own folder
        # is missing, so two first sends at once (a thread each), or a box left half-made,
        # failed and waited for a retry.
        self.path.mkdir(mode=0o700, parents=True, exist_ok=True)
        for folder in ("tmp", "new", "cur"):
            (self.path / folder).mkdir(mode=0o700, exist_ok=True)
        box = mailbox.Maildir(self.path, create=False)
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
