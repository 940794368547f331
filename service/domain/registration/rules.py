"""The rules of the registration window: whether an event takes registrations now, and
which of its sessions a registration may cover.

`closed_reason` is the one answer to "is registration open?": the domain refuses with it
(`check_open`, a ConflictError naming the field) and the pages show it. Pure functions of
the event as loaded and `now`: nothing here reads the database.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime

from service.db.models import Event, EventStatus, RegistrationStatus, Session, SessionStatus
from service.domain.errors import ConflictError, InvalidInputError
from service.i18n import N_
from service.i18n import gettext as _

# Statuses that hold or wait for a place; the others have left.
ACTIVE_STATUSES = (
    RegistrationStatus.PENDING,
    RegistrationStatus.CONFIRMED,
    RegistrationStatus.WAITING,
)

# "This registration is cancelled.": one whole sentence per status, so that each language
# can say it in its own words (the status's English value is no word of theirs).
_IS_STATUS: dict[RegistrationStatus, tuple[str, str]] = {
    RegistrationStatus.DECLINED: (
        N_("This registration is declined."),
        N_("This registration is declined: there is nothing to change.")),
    RegistrationStatus.CANCELLED: (
        N_("This registration is cancelled."),
        N_("This registration is cancelled: there is nothing to change.")),
    RegistrationStatus.UNCONFIRMED: (
        N_("This registration is unconfirmed."),
        N_("This registration is unconfirmed: there is nothing to change.")),
}


def status_refusal(status: RegistrationStatus, *, nothing_to_change: bool = False) -> str:
    """Why a registration that has left (or never counted) cannot change, in the language
    in force."""
    sentences = _IS_STATUS.get(status)
    if sentences is not None:
        return _(sentences[1] if nothing_to_change else sentences[0])
    if nothing_to_change:
        return _("This registration is %(status)s: there is nothing to change.") % {
            "status": status}
    return _("This registration is %(status)s.") % {"status": status}


@dataclass(frozen=True)
class ClosedReason:
    """Why an event takes no registration now: a sentence, and the field that decides it."""

    message: str
    field: str


def scheduled_sessions(event: Event) -> list[Session]:
    return [s for s in event.sessions if s.status == SessionStatus.SCHEDULED]


def closed_reason(event: Event, now: datetime, *, as_published: bool = False
                  ) -> ClosedReason | None:
    """Why registering for `event` is not possible at `now`; None when it is. A draft
    `as_published` is read as visitors will see it once published (a preview)."""
    if event.status == EventStatus.CANCELLED:
        return ClosedReason(_("This event is cancelled."), "status")
    if event.status != EventStatus.PUBLISHED and not as_published:
        return ClosedReason(_("This event is not open for registration."), "status")
    if not event.sessions:
        return ClosedReason(_("The programme is not finished yet: registration opens soon."),
                            "sessions")
    if not any(s.ends_at > now for s in scheduled_sessions(event)):
        return ClosedReason(_("This event is over: registration is closed."),
                            "registration_closes_at")
    if event.registration_opens_at is not None and now < event.registration_opens_at:
        return ClosedReason(_("Registration has not opened yet."), "registration_opens_at")
    if event.registration_closes_at is not None and now >= event.registration_closes_at:
        return ClosedReason(_("Registration is closed."), "registration_closes_at")
    return None


def check_open(event: Event, now: datetime) -> None:
    """Refuse (ConflictError naming the field) unless the event takes registrations now."""
    reason = closed_reason(event, now)
    if reason is not None:
        raise ConflictError(reason.message, reason.field)


def check_open_to_organisers(event: Event, now: datetime) -> None:
    """Like `check_open`, but the registration window does not bind organisers registering
    someone: only a cancelled, unpublished, empty or finished event refuses them."""
    reason = closed_reason(event, now)
    window = ("registration_opens_at", "registration_closes_at")
    if reason is None or (reason.field in window
                          and any(s.ends_at > now for s in scheduled_sessions(event))):
        return
    raise ConflictError(reason.message, reason.field)


def chosen_sessions(event: Event, session_ids: Sequence[int] | None, now: datetime,
                    ) -> list[Session]:
    """The sessions a registration covers: every coming one, or the valid chosen ones."""
    if session_ids is None:
        return [s for s in scheduled_sessions(event) if s.ends_at > now]
    if not event.allows_session_choice:
        raise InvalidInputError(
            _("This event is booked as a whole: leave out session_ids."), "session_ids"
        )
    by_id = {s.id: s for s in event.sessions}
    chosen = []
    for index, session_id in enumerate(session_ids):
        session = by_id.get(session_id)
        if session is None:
            raise InvalidInputError(_("No session %(session_id)s in this event.")
                                        % {"session_id": session_id},
                                    f"session_ids[{index}]")
        if session.status != SessionStatus.SCHEDULED:
            raise InvalidInputError(_("The session %(title)r is cancelled.") % {"title": session.title},
                                    f"session_ids[{index}]")
        if session.ends_at <= now:
            raise InvalidInputError(_("The session %(title)r is over.") % {"title": session.title},
                                    f"session_ids[{index}]")
        chosen.append(session)
    if not chosen:
        raise InvalidInputError(_("Choose at least one session."), "session_ids")
    return sorted(chosen, key=lambda s: (s.starts_at, s.id))
