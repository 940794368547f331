"""Two records of the same person, or of the same organisation, made one.

An organiser chooses the record to keep and the duplicate; everything that pointed at the
duplicate moves to the kept record, fields the kept record leaves empty are taken from the
duplicate, and the duplicate is deleted. `plan_*_merge` says what would move (the page
shows it before the organiser confirms) and `merge_*` does it; both refuse the same things.

What points at a person: agenda items they speak in, their private speaker links (page and
feed: links already emailed keep working, now for the kept record), their speaker notices
and the emails sent to them. At an organisation: its people, the events it hosts and the
agenda items where a speaker represents it. Registrations name their organisation as typed
text, not by reference, so they are left as the registrant wrote them.

When both people speak in the same agenda item, the two places collapse into one (the
kept record's, with the duplicate's organisation if the kept one names none); when they
represent different organisations there, the merge is refused: an organiser must say
which one holds. Flushes, never commits; announces the speakers' changed details.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessToken,
    AgendaItem,
    AgendaItemSpeaker,
    ChangeNoticeStatus,
    Event,
    MeetingHost,
    Organisation,
    OutboxEmail,
    Person,
    SpeakerNotice,
)
from service.domain import signals
from service.domain.errors import ConflictError, InvalidInputError, NotFoundError
from service.i18n import gettext as _
from service.settings import Settings

# Fields a merge fills on the kept record when it has none, in the order pages show them.
PERSON_FIELDS = ("email", "job_title", "organisation_id")
ORGANISATION_FIELDS = ("country", "website")


@dataclass(frozen=True)
class FieldOutcome:
    """One field of the duplicate: taken over (the kept record had none) or left behind
    (the kept record has a different value, which stays)."""

    name: str
    kept_value: str | None
    duplicate_value: str | None


@dataclass(frozen=True)
class PersonMergePlan:
    kept: Person
    duplicate: Person
    filled: tuple[FieldOutcome, ...]
    left_behind: tuple[FieldOutcome, ...]
    agenda_items_moved: tuple[str, ...]  # titles of items where the duplicate speaks alone
    agenda_items_shared: tuple[str, ...]  # both speak there: one place remains
    links_moved: int  # live private links (speaker page and feed)
    notices_moved: int
    emails_moved: int


@dataclass(frozen=True)
class OrganisationMergePlan:
    kept: Organisation
    duplicate: Organisation
    filled: tuple[FieldOutcome, ...]
    left_behind: tuple[FieldOutcome, ...]
    people_moved: tuple[str, ...]
    events_moved: tuple[str, ...]  # events the duplicate hosts
    speaker_places_moved: int  # agenda item speakers representing the duplicate
    kind_left_behind: str | None = None  # the duplicate's kind, when it differs


def _text(value: object) -> str | None:
    return None if value is None or value == "" else str(value)


def _outcomes(kept: object, duplicate: object, names: tuple[str, ...]
              ) -> tuple[tuple[FieldOutcome, ...], tuple[FieldOutcome, ...]]:
    filled: list[FieldOutcome] = []
    left: list[FieldOutcome] = []
    for name in names:
        mine, theirs = _text(getattr(kept, name)), _text(getattr(duplicate, name))
        if theirs is None or mine == theirs:
            continue
        outcome = FieldOutcome(name, mine, theirs)
        (filled if mine is None else left).append(outcome)
    return tuple(filled), tuple(left)


def _check_pair(kept_id: int, duplicate_id: int) -> None:
    if kept_id == duplicate_id:
        raise InvalidInputError(_("Choose another record as the duplicate: a record cannot be "
                                "merged with itself."), "duplicate_id")


# --- people ----------------------------------------------------------------------------------


async def _person(db: AsyncSession, person_id: int, field_name: str) -> Person:
    person = await db.get(Person, person_id)
    if person is None:
        raise NotFoundError(_("No person with id %(person_id)s.") % {"person_id": person_id}, field_name)
    return person


async def _speaker_places(db: AsyncSession, person_id: int
                          ) -> list[tuple[AgendaItemSpeaker, str]]:
    rows = await db.execute(
        select(AgendaItemSpeaker, AgendaItem.title)
        .join(AgendaItem, AgendaItem.id == AgendaItemSpeaker.agenda_item_id)
        .where(AgendaItemSpeaker.person_id == person_id)
        .order_by(AgendaItem.starts_at, AgendaItem.id)
    )
    return [(place, title) for place, title in rows]


async def _organisation_names(db: AsyncSession, ids: set[int]) -> dict[int, str]:
    if not ids:
        return {}
    rows = await db.execute(select(Organisation.id, Organisation.name)
                            .where(Organisation.id.in_(ids)))
    return dict(rows.all())


async def plan_person_merge(db: AsyncSession, kept_id: int, duplicate_id: int
                            ) -> PersonMergePlan:
    """What merging `duplicate_id` into `kept_id` would move; refuses what it would refuse."""
    _check_pair(kept_id, duplicate_id)
    kept = await _person(db, kept_id, "kept_id")
    duplicate = await _person(db, duplicate_id, "duplicate_id")
    mine = {place.agenda_item_id: place for place, _ in await _speaker_places(db, kept_id)}
    theirs = await _speaker_places(db, duplicate_id)
    orgs = await _organisation_names(
        db, {p.organisation_id for p, _ in theirs if p.organisation_id is not None}
        | {p.organisation_id for p in mine.values() if p.organisation_id is not None})
    moved: list[str] = []
    shared: list[str] = []
    for place, title in theirs:
        other = mine.get(place.agenda_item_id)
        if other is None:
            moved.append(title)
            continue
        if (other.organisation_id is not None and place.organisation_id is not None
                and other.organisation_id != place.organisation_id):
            raise ConflictError(
                _("Both records speak in %(title)r, for different organisations (%(kept)s and "
                      "%(duplicate)s): change one of them in the agenda first.")
                    % {"title": title, "kept": orgs[other.organisation_id],
                       "duplicate": orgs[place.organisation_id]}, "duplicate_id")
        shared.append(title)
    hosting = set((await db.scalars(select(MeetingHost.event_id).where(
        MeetingHost.person_id == kept_id))).all())
    if await db.scalar(select(func.count(MeetingHost.id)).where(
            MeetingHost.person_id == duplicate_id, MeetingHost.event_id.in_(hosting))):
        raise ConflictError(_("Both records host one-to-one meetings at the same event: keep one "
                            "host there first."), "duplicate_id")
    filled, left = _outcomes(kept, duplicate, PERSON_FIELDS)
    links = await db.scalar(select(func.count(AccessToken.id)).where(
        AccessToken.person_id == duplicate_id, AccessToken.revoked_at.is_(None))) or 0
    notices = await db.scalar(select(func.count(SpeakerNotice.id)).where(
        SpeakerNotice.person_id == duplicate_id)) or 0
    emails = await db.scalar(select(func.count(OutboxEmail.id)).where(
        OutboxEmail.person_id == duplicate_id)) or 0
    return PersonMergePlan(
        kept=kept, duplicate=duplicate, filled=filled, left_behind=left,
        agenda_items_moved=tuple(moved), agenda_items_shared=tuple(shared),
        links_moved=links, notices_moved=notices, emails_moved=emails,
    )


async def merge_persons(
    db: AsyncSession, kept_id: int, duplicate_id: int, *, now: datetime, settings: Settings,
) -> PersonMergePlan:
    """Merge the duplicate into the kept person (see the module docstring); returns what moved."""
    plan = await plan_person_merge(db, kept_id, duplicate_id)
    kept, duplicate = plan.kept, plan.duplicate
    for outcome in plan.filled:
        setattr(kept, outcome.name, getattr(duplicate, outcome.name))
    kept.updated_at = now
    mine = {place.agenda_item_id: place for place, _ in await _speaker_places(db, kept_id)}
    for place, _organisation in await _speaker_places(db, duplicate_id):
        other = mine.get(place.agenda_item_id)
        if other is None:
            place.person_id = kept_id
            continue
        # Both speak there: one place remains, the earlier in the item's order.
        other.position = min(other.position, place.position)
        if other.organisation_id is None:
            other.organisation_id = place.organisation_id
        await db.delete(place)
    await _move_notices(db, kept_id, duplicate_id)
    await db.execute(update(AccessToken).where(AccessToken.person_id == duplicate_id)
                     .values(person_id=kept_id))
    await db.execute(update(OutboxEmail).where(OutboxEmail.person_id == duplicate_id)
                     .values(person_id=kept_id))
    # A host of Meet-your-Buyer meetings stays their host (and their meetings stay).
    await db.execute(update(MeetingHost).where(MeetingHost.person_id == duplicate_id)
                     .values(person_id=kept_id))
    await db.flush()
    await db.delete(duplicate)
    await db.flush()
    await signals.announce(db, signals.SpeakerDetailsChanged(person_id=kept_id), now=now,
                           settings=settings)
    return plan


async def _move_notices(db: AsyncSession, kept_id: int, duplicate_id: int) -> None:
    """Speaker notices follow the person; of two pending ones for one slot, the kept
    person's stays (joined as if one change: the earlier send time wins)."""
    pending = {
        notice.agenda_item_id: notice for notice in await db.scalars(
            select(SpeakerNotice).where(SpeakerNotice.person_id == kept_id,
                                        SpeakerNotice.status == ChangeNoticeStatus.PENDING))
    }
    for notice in await db.scalars(select(SpeakerNotice)
                                   .where(SpeakerNotice.person_id == duplicate_id)):
        joined = pending.get(notice.agenda_item_id)
        if notice.status == ChangeNoticeStatus.PENDING and joined is not None:
            joined.send_after = min(joined.send_after, notice.send_after)
            joined.first_changed_at = min(joined.first_changed_at, notice.first_changed_at)
            await db.delete(notice)
            continue
        notice.person_id = kept_id


# --- organisations ---------------------------------------------------------------------------


async def _organisation(db: AsyncSession, organisation_id: int, field_name: str) -> Organisation:
    organisation = await db.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(_("No organisation with id %(organisation_id)s.")
                                % {"organisation_id": organisation_id}, field_name)
    return organisation


async def plan_organisation_merge(db: AsyncSession, kept_id: int, duplicate_id: int
                                  ) -> OrganisationMergePlan:
    """What merging organisation `duplicate_id` into `kept_id` would move."""
    _check_pair(kept_id, duplicate_id)
    kept = await _organisation(db, kept_id, "kept_id")
    duplicate = await _organisation(db, duplicate_id, "duplicate_id")
    people = await db.scalars(select(Person.name).where(Person.organisation_id == duplicate_id)
                              .order_by(Person.name, Person.id))
    events = await db.scalars(select(Event.title)
                              .where(Event.host_organisation_id == duplicate_id)
                              .order_by(Event.title, Event.id))
    places = await db.scalar(select(func.count(AgendaItemSpeaker.id)).where(
        AgendaItemSpeaker.organisation_id == duplicate_id)) or 0
    filled, left = _outcomes(kept, duplicate, ORGANISATION_FIELDS)
    return OrganisationMergePlan(
        kept=kept, duplicate=duplicate, filled=filled, left_behind=left,
        people_moved=tuple(people), events_moved=tuple(events), speaker_places_moved=places,
        kind_left_behind=None if kept.kind == duplicate.kind else str(duplicate.kind),
    )


async def merge_organisations(
    db: AsyncSession, kept_id: int, duplicate_id: int, *, now: datetime, settings: Settings,
) -> OrganisationMergePlan:
    """Merge the duplicate organisation into the kept one; returns what moved."""
    plan = await plan_organisation_merge(db, kept_id, duplicate_id)
    kept, duplicate = plan.kept, plan.duplicate
    for outcome in plan.filled:
        setattr(kept, outcome.name, getattr(duplicate, outcome.name))
    kept.updated_at = now
    for person in await db.scalars(select(Person).where(Person.organisation_id == duplicate_id)):
        person.organisation_id = kept_id
        person.updated_at = now
    for event in await db.scalars(select(Event)
                                  .where(Event.host_organisation_id == duplicate_id)):
        event.host_organisation_id = kept_id
        event.updated_at = now
    for place in await db.scalars(select(AgendaItemSpeaker)
                                  .where(AgendaItemSpeaker.organisation_id == duplicate_id)):
        place.organisation_id = kept_id
    await db.flush()
    await db.delete(duplicate)
    await db.flush()
    await signals.announce(db, signals.SpeakerDetailsChanged(organisation_id=kept_id), now=now,
                           settings=settings)
    return plan
