"""Organiser API: an event's reminders, scheduled, sent, failed and skipped.

Read-only (organiser and viewer tokens): parse, one domain call, present.
"""

from __future__ import annotations

from typing import Annotated

from litestar import Controller, get
from litestar.params import QueryParameter
from msgspec import Struct

from service.clock import utc_now
from service.domain import programme, reminders
from service.domain.times import iso_utc
from service.web import schemas
from service.web.auth import BEARER_SCHEME, require_organiser
from service.web.params import DbSession, IdParam
from service.web.presenters import time_out


class ReminderOut(Struct):
    """One reminder to one registrant; `state` says where it is, `note` why when it matters."""

    id: int
    session_id: int
    session_title: str
    registration_id: int
    registrant_name: str
    registrant_email: str
    offset_minutes: int
    due_at: schemas.TimeOut
    # scheduled (also when composed ahead, until its due time), sending, sent, failed,
    # skipped (also when its email expired unsent: the session had already started), cancelled
    state: str
    processed_at: str | None
    delivered_at: str | None
    note: str | None


class ReminderCounts(Struct):
    scheduled: int
    sending: int
    sent: int
    failed: int
    skipped: int
    cancelled: int


class EventRemindersOut(Struct):
    event_id: int
    offsets_minutes: list[int]  # the policy in force, largest first
    is_default_policy: bool
    counts: ReminderCounts
    reminders: list[ReminderOut]


class RemindersController(Controller):
    path = "/api/organiser"
    guards = [require_organiser]
    security = [BEARER_SCHEME]
    tags = ["organiser"]

    @get("/events/{event_id:int}/reminders")
    async def list_event_reminders(
        self, db_session: DbSession, event_id: IdParam,
        states: Annotated[
            list[str] | None,
            QueryParameter(name="state", description="scheduled, sending, sent, failed, "
                           "skipped or cancelled; repeat to combine"),
        ] = None,
    ) -> EventRemindersOut:
        """Pending reminders with their due times, and what became of the others."""
        overview = await reminders.list_reminders_for_event(
            db_session, event_id, now=utc_now(), states=states or ()
        )
        event = await programme.get_event(db_session, event_id)
        return EventRemindersOut(
            event_id=event.id,
            offsets_minutes=list(reminders.reminder_offsets(event)),
            is_default_policy=event.reminder_offsets_minutes is None,
            counts=ReminderCounts(**overview.counts),
            reminders=[
                ReminderOut(
                    id=view.id,
                    session_id=view.session_id,
                    session_title=view.session_title,
                    registration_id=view.registration_id,
                    registrant_name=view.registrant_name,
                    registrant_email=view.registrant_email,
                    offset_minutes=view.offset_minutes,
                    due_at=time_out(view.due_at, event.timezone),
                    state=view.state,
                    processed_at=iso_utc(view.processed_at) if view.processed_at else None,
                    delivered_at=iso_utc(view.delivered_at) if view.delivered_at else None,
                    note=view.note,
                )
                for view in overview.reminders
            ],
        )


ROUTE_HANDLERS = [RemindersController]
