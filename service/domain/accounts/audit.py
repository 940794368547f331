"""The audit log: every change an organiser account or API token makes to the programme,
its people, its registrations and the accounts, with before and after of what changed.

The web layer says who acts by `set_actor(db, Actor(...))` on the request's database
session; from then on, SQLAlchemy's mapper events write one `AuditEntry` per row inserted,
changed or deleted through the ORM, in the same transaction (rolled back with it). Domain
functions do nothing for it. Changes made without an actor (jobs, the public, the CLI) are
not recorded, and neither are Core bulk statements (they bypass the ORM's events).
"""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import date, datetime
from typing import Any

from sqlalchemy import Connection, event, func, insert, inspect, select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import Mapper, Session, object_session

from service.clock import utc_now  # a listener has no `now` to take: the one clock
from service.db.engine import table_of
from service.db.models import (
    Account,
    AgendaItem,
    AgendaItemSpeaker,
    AuditEntry,
    ConsultationDocument,
    ConsultationProfile,
    ConsultationQuestion,
    ContentTranslation,
    Enrolment,
    Event,
    FeedbackQuestion,
    Organisation,
    Person,
    Registration,
    ScheduledMessage,
    SessionMaterial,
)
from service.db.models import Session as EventSession

ACTOR_KEY = "actor"
_WRITTEN_KEY = "audit_written"  # this transaction's entries, by subject
CREATED, CHANGED, DELETED = "created", "changed", "deleted"
# Bookkeeping that changes with everything and says nothing by itself; and secrets, which
# the log must never hold, not even hashed.
_SKIPPED = frozenset({"updated_at", "created_at", "password_hash"})
SUBJECT_TYPES: dict[type[Any], str] = {
    Event: "event",
    EventSession: "session",
    AgendaItem: "agenda_item",
    SessionMaterial: "session_material",
    AgendaItemSpeaker: "agenda_item_speaker",
    Person: "person",
    Organisation: "organisation",
    Registration: "registration",
    Enrolment: "enrolment",
    Account: "account",
    ConsultationProfile: "consultation_profile",
    ConsultationDocument: "consultation_document",
    ConsultationQuestion: "consultation_question",
    ContentTranslation: "content_translation",
    ScheduledMessage: "scheduled_message",
    FeedbackQuestion: "feedback_question",
}


@dataclass(frozen=True)
class Actor:
    label: str  # "Ana Pérez <ana@example.org>", "API token #3 (Reporting)"
    account_id: int | None = None
    api_token_id: int | None = None


def set_actor(db: AsyncSession | Session, actor: Actor) -> None:
    """From now on, what this session changes is recorded in the audit log as `actor`'s."""
    register_audit_log()
    db.info[ACTOR_KEY] = actor


def actor_of(db: AsyncSession | Session | None) -> Actor | None:
    actor = db.info.get(ACTOR_KEY) if db is not None else None
    return actor if isinstance(actor, Actor) else None


def _plain(value: Any) -> Any:
    """A column value as JSON: instants and days in ISO 8601, enums by value."""
    if isinstance(value, datetime | date):
        return value.isoformat()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, bytes):
        return None
    if isinstance(value, list | tuple):
        return [_plain(v) for v in value]
    return value


def _columns(mapper: Mapper[Any]) -> list[str]:
    return [attr.key for attr in mapper.column_attrs if attr.key not in _SKIPPED]


def _snapshot(mapper: Mapper[Any], target: Any) -> dict[str, Any]:
    return {key: _plain(getattr(target, key)) for key in _columns(mapper)}


def _changes(mapper: Mapper[Any], target: Any) -> tuple[dict[str, Any], dict[str, Any]]:
    state = inspect(target)
    before: dict[str, Any] = {}
    after: dict[str, Any] = {}
    for key in _columns(mapper):
        history = state.attrs[key].history
        if not history.has_changes():
            continue
        old = history.deleted[0] if history.deleted else None
        new = history.added[0] if history.added else getattr(target, key)
        if _plain(old) == _plain(new):
            continue
        before[key], after[key] = _plain(old), _plain(new)
    return before, after


def _event_id(connection: Connection, target: Any) -> int | None:
    """The event a row belongs to, so that an event's log shows it."""
    if isinstance(target, Event):
        return target.id
    if isinstance(target, EventSession | Registration):
        return target.event_id
    if isinstance(target, ConsultationProfile | ConsultationDocument | ConsultationQuestion):
        return target.event_id
    if isinstance(target, ContentTranslation | ScheduledMessage | FeedbackQuestion):
        return target.event_id
    if isinstance(target, AgendaItem | SessionMaterial):
        return connection.scalar(select(EventSession.event_id)
                                 .where(EventSession.id == target.session_id))
    if isinstance(target, AgendaItemSpeaker):
        return connection.scalar(
            select(EventSession.event_id)
            .join(AgendaItem, AgendaItem.session_id == EventSession.id)
            .where(AgendaItem.id == target.agenda_item_id))
    if isinstance(target, Enrolment):
        return connection.scalar(select(Registration.event_id)
                                 .where(Registration.id == target.registration_id))
    return None


def _record(connection: Connection, target: Any, action: str,
            before: dict[str, Any] | None, after: dict[str, Any] | None) -> None:
    """One entry per row and transaction: a row changed in several flushes of one request
    (times, then the invite SEQUENCE) is one change, with the first before and last after."""
    session = object_session(target)
    actor = actor_of(session)
    if session is None or actor is None:
        return
    subject = (SUBJECT_TYPES[type(target)], getattr(target, "id", None))
    written: dict[tuple[str, int | None], tuple[int, str, dict[str, Any] | None,
                                                dict[str, Any] | None]]
    written = session.info.setdefault(_WRITTEN_KEY, {})
    table = table_of(AuditEntry)
    earlier = written.get(subject)
    if earlier is not None and action == CHANGED and earlier[1] in (CREATED, CHANGED):
        entry_id, first_action, first_before, first_after = earlier
        merged_before = ({**(before or {}), **(first_before or {})}
                         if first_action == CHANGED else None)
        merged_after = {**(first_after or {}), **(after or {})}
        connection.execute(table.update().where(table.c.id == entry_id)
                           .values(before=merged_before, after=merged_after))
        written[subject] = (entry_id, first_action, merged_before, merged_after)
        return
    entry_id = connection.execute(insert(table).values(
        at=utc_now(), account_id=actor.account_id,
        api_token_id=actor.api_token_id, actor_label=actor.label[:300], action=action,
        subject_type=subject[0], subject_id=subject[1],
        event_id=_event_id(connection, target), before=before, after=after,
    ).returning(table.c.id)).scalar_one()
    written[subject] = (entry_id, action, before, after)


async def record_created(db: AsyncSession, target: Any) -> None:
    """A row a Core bulk statement wrote (the ORM's events never saw it), recorded as they
    would have recorded it: as created by this session's actor, if one acts."""
    actor = actor_of(db)
    if actor is None or object_session(target) is not None:  # the ORM's own: recorded
        return
    db.add(AuditEntry(
        at=utc_now(), account_id=actor.account_id, api_token_id=actor.api_token_id,
        actor_label=actor.label[:300], action=CREATED, subject_type=SUBJECT_TYPES[type(target)],
        subject_id=target.id, event_id=getattr(target, "event_id", None), before=None,
        after=_snapshot(inspect(type(target)), target)))
    await db.flush()


def _forget_written(session: Session, *_: Any) -> None:
    session.info.pop(_WRITTEN_KEY, None)


def _after_insert(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _record(connection, target, CREATED, None, _snapshot(mapper, target))


def _after_update(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    if actor_of(object_session(target)) is None:
        return
    before, after = _changes(mapper, target)
    if after:
        _record(connection, target, CHANGED, before, after)


def _after_delete(mapper: Mapper[Any], connection: Connection, target: Any) -> None:
    _record(connection, target, DELETED, _snapshot(mapper, target), None)


_LISTENERS = (("after_insert", _after_insert), ("after_update", _after_update),
              ("after_delete", _after_delete))


def register_audit_log() -> None:
    """Listen to the audited tables' changes (once per process; idempotent)."""
    for name in ("after_commit", "after_rollback"):
        if not event.contains(Session, name, _forget_written):
            event.listen(Session, name, _forget_written)
    for model in SUBJECT_TYPES:
        for name, listener in _LISTENERS:
            if not event.contains(model, name, listener):
                event.listen(model, name, listener)


@dataclass(frozen=True)
class AuditPage:
    entries: list[AuditEntry]  # newest first
    total: int
    page: int
    page_size: int

    @property
    def pages(self) -> int:
        return max(1, -(-self.total // self.page_size))


async def list_audit_entries(
    db: AsyncSession, *, event_id: int | None = None, account_id: int | None = None,
    page: int = 1, page_size: int = 50,
) -> AuditPage:
    """One page of an event's log, or of what one account did; newest first."""
    conditions = []
    if event_id is not None:
        conditions.append(AuditEntry.event_id == event_id)
    if account_id is not None:
        conditions.append(AuditEntry.account_id == account_id)
    total = await db.scalar(select(func.count(AuditEntry.id)).where(*conditions)) or 0
    entries = list(await db.scalars(
        select(AuditEntry).where(*conditions).order_by(AuditEntry.id.desc())
        .offset((max(page, 1) - 1) * page_size).limit(page_size)))
    return AuditPage(entries=entries, total=total, page=max(page, 1), page_size=page_size)


EXPORTED = "exported"


async def record_export(
    db: AsyncSession, actor: Actor, *, what: str, rows: int, now: datetime,
    event_id: int | None = None, details: dict[str, Any] | None = None,
) -> AuditEntry:
    """Record that personal data left the service: who, when, what and how many rows.

    `details` must not hold the personal data itself (a person's export names them by a
    keyed hash of their address, so that erasing them leaves nothing readable here)."""
    entry = AuditEntry(
        at=now, account_id=actor.account_id, api_token_id=actor.api_token_id,
        actor_label=actor.label[:300], action=EXPORTED, subject_type=what, subject_id=None,
        event_id=event_id, before=None, after={"rows": rows, **(details or {})})
    db.add(entry)
    await db.flush()
    return entry
