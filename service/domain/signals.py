"""What happened in the programme and its registrations, announced for what must follow.

The concern packages announce facts ("a session changed", "a place was confirmed") and never
decide who else must hear of them: `service.operations.consequences` subscribes one handler
per fact at start-up. That keeps every consequence of a change in one place and lets the
lower packages stay free of imports back up.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any, TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItem, Event, Registration, Session
from service.domain.snapshots import AgendaItemSnapshot, SessionSnapshot
from service.settings import Settings


@dataclass(frozen=True)
class SessionAdded:
    session: Session
    event: Event


@dataclass(frozen=True)
class SessionChanged:
    session: Session
    event: Event
    before: SessionSnapshot


@dataclass(frozen=True)
class AgendaChanged:
    session: Session
    added: AgendaItem | None = None
    removed: AgendaItemSnapshot | None = None
    moved_from: AgendaItemSnapshot | None = None
    item: AgendaItem | None = None


@dataclass(frozen=True)
class SpeakerDetailsChanged:
    person_id: int | None = None
    organisation_id: int | None = None


@dataclass(frozen=True)
class PlacesAdded:
    event: Event


@dataclass(frozen=True)
class EnrolmentConfirmed:
    registration: Registration
    session: Session


@dataclass(frozen=True)
class RegistrationsPlaced:
    """Registrations of this transaction with confirmed places: (id, event, sessions)."""

    placements: Sequence[tuple[int, Event, Sequence[Session]]]


@dataclass(frozen=True)
class EnrolmentEnded:
    registration: Registration
    session: Session


@dataclass(frozen=True)
class ReminderPolicyChanged:
    event: Event


@dataclass(frozen=True)
class RegistrantRenamed:
    """A registrant changed the name their emails are addressed to."""

    registration: Registration


@dataclass(frozen=True)
class RegistrationWithdrawn:
    """A registrant cancelled, or an organiser declined them: they take no further part."""

    registration: Registration


Signal = (SessionAdded | SessionChanged | AgendaChanged | SpeakerDetailsChanged | PlacesAdded
          | EnrolmentConfirmed | RegistrationsPlaced | EnrolmentEnded | ReminderPolicyChanged
          | RegistrantRenamed | RegistrationWithdrawn)
S = TypeVar("S")
Handler = Callable[[AsyncSession, Any, datetime, Settings], Awaitable[None]]

_handlers: dict[type, Handler] = {}


def subscribe(kind: type[S], handler: Callable[[AsyncSession, S, datetime, Settings],
                                               Awaitable[None]]) -> None:
    """Register the one handler of a kind of fact (a second subscription replaces it)."""
    _handlers[kind] = handler


async def announce(db: AsyncSession, signal: Signal, *, now: datetime,
                   settings: Settings) -> None:
    """Run what follows from `signal`, in the caller's transaction."""
    handler = _handlers.get(type(signal))
    if handler is None:
        # Never silently skip a consequence: a missing subscription is a wiring bug.
        raise RuntimeError(
            f"Nothing follows {type(signal).__name__}: call "
            "service.operations.consequences.wire() at start-up."
        )
    await handler(db, signal, now, settings)
