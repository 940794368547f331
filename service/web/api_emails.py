"""Organiser API: an event's emails (the outbox) and sending failed ones again.

Listing is open to organiser and viewer tokens; sending again needs an organiser token
(the guard refuses a viewer's POST). Parse, one domain call, present.
"""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get, post
from litestar.params import QueryParameter
from msgspec import Struct

from service.clock import utc_now
from service.db.models import OutboxEmail, OutboxStatus
from service.domain import outbox_emails
from service.domain.times import iso_utc
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam


class OutboxEmailOut(Struct):
    """One email and how its delivery went; `last_error` is the latest failure's cause
    (kept once sent, so a late email says why)."""

    id: int
    registration_id: int | None
    to_address: str
    template: str
    subject: str
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: str
    next_attempt_at: str  # when queued or waiting to retry: when it goes (again)
    sent_at: str | None
    expires_at: str | None  # never sent from then on (reminders)


class EmailCounts(Struct):
    composing: int
    queued: int
    sending: int
    retry: int
    sent: int
    failed: int
    withdrawn: int


class EventEmailsOut(Struct):
    event_id: int
    counts: EmailCounts  # every email of the event, whatever the filter
    total: int  # emails matching the filter
    page: int
    page_size: int
    emails: list[OutboxEmailOut]


class ResendOut(Struct):
    event_id: int
    resent: int
    email_ids: list[int]
    # Failed, but past their time to go out (reminders of started sessions): left failed.
    too_late_ids: list[int]


def _iso(instant: datetime | None) -> str | None:
    return iso_utc(instant) if instant is not None else None


def outbox_email_out(email: OutboxEmail) -> OutboxEmailOut:
    return OutboxEmailOut(
        id=email.id, registration_id=email.registration_id, to_address=email.to_address,
        template=email.template, subject=email.subject, status=email.status,
        attempts=email.attempts, last_error=email.last_error,
        created_at=iso_utc(email.created_at), next_attempt_at=iso_utc(email.next_attempt_at),
        sent_at=_iso(email.sent_at), expires_at=_iso(email.expires_at),
    )


class OutboxController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @get("/events/{event_id:int}/emails")
    async def list_event_emails(
        self, db_session: DbSession, event_id: IdParam,
        statuses: Annotated[
            list[str] | None,
            QueryParameter(name="status", description="composing, queued, sending, retry, "
                           "sent, failed or withdrawn; repeat to combine"),
        ] = None,
        page: Annotated[int, QueryParameter(ge=1, le=10_000)] = 1,
        page_size: Annotated[int, QueryParameter(ge=1, le=500)] = 100,
    ) -> EventEmailsOut:
        """The event's emails, oldest first, with how many are in each status."""
        overview = await outbox_emails.list_event_emails(
            db_session, event_id, statuses=statuses or (), page=page, page_size=page_size)
        return EventEmailsOut(
            event_id=event_id,
            counts=EmailCounts(**{str(k): v for k, v in overview.counts.items()}),
            total=overview.total, page=page, page_size=page_size,
            emails=[outbox_email_out(email) for email in overview.emails],
        )

    @post("/emails/{email_id:int}/resend", status_code=200)
    async def resend_email(self, db_session: DbSession, email_id: IdParam) -> OutboxEmailOut:
        """Queue a failed email again (a withdrawn or sent one is refused with 409)."""
        email = await outbox_emails.resend_email(db_session, email_id, now=utc_now())
        return outbox_email_out(email)

    @post("/events/{event_id:int}/emails/resend-failed", status_code=200)
    async def resend_failed(self, db_session: DbSession, event_id: IdParam) -> ResendOut:
        """Queue every failed email of the event again (not those past their time)."""
        report = await outbox_emails.resend_failed_event_emails(db_session, event_id,
                                                               now=utc_now())
        return ResendOut(event_id=event_id, resent=len(report.resent),
                         email_ids=report.resent, too_late_ids=report.too_late)


ROUTE_HANDLERS = [OutboxController]
