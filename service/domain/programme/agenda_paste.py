"""Paste an agenda, step two and three: match the pasted names to the people and
organisations the programme already has, then create everything in one step.

Matching only proposes (the organiser confirms or corrects each match); creating takes the
pasted text again with the organiser's choices, checks the whole agenda first so that every
problem is reported at once, and then goes through the programme's own commands
(`create_organisation`, `create_person`, `add_agenda_item`), so the same rules and the same
consequences apply as to items added one by one. Flushes, never commits: the caller's
transaction holds all of it or none.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import UTC, datetime

import msgspec
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AgendaItem, Organisation, OrganisationKind, Person
from service.domain.errors import DomainError, FieldError, InvalidInputError
from service.domain.programme.agenda import add_agenda_item, agenda_day
from service.domain.programme.agenda_review import Slot, review_slots
from service.domain.programme.agenda_text import ParsedAgenda, ParsedItem, parse_agenda_text
from service.domain.programme.inputs import (
    AgendaItemCreate,
    Description,
    Id,
    Input,
    Name,
    OrganisationCreate,
    PersonCreate,
    SpeakerRef,
)
from service.domain.programme.loading import get_session
from service.domain.programme.people import create_organisation, create_person
from service.domain.text import clean_line
from service.domain.times import iso_utc, parse_instant
from service.i18n import gettext as _
from service.settings import Settings

# --- matching ------------------------------------------------------------------------------


def name_key(name: str) -> str:
    """The form of a name that matching compares: no accents, no case, no punctuation
    ("ICLEI - Local Governments" and "Iclei Local Governments" are one organisation)."""
    decomposed = unicodedata.normalize("NFKD", name)
    plain = "".join(ch for ch in decomposed if not unicodedata.combining(ch)).casefold()
    return " ".join(re.sub(r"[^\w]+", " ", plain).split())


@dataclass(frozen=True)
class OrganisationMatch:
    written: str
    existing_id: int | None = None  # None: a new organisation
    existing_name: str | None = None


@dataclass(frozen=True)
class PersonCandidate:
    id: int
    name: str
    organisation: str | None


@dataclass(frozen=True)
class PersonMatch:
    written: str
    organisation: str | None  # as written beside the name
    existing_id: int | None = None  # None: a new person
    existing_name: str | None = None
    # People of the same name elsewhere (another organisation): offered, never chosen.
    others: tuple[PersonCandidate, ...] = ()


@dataclass(frozen=True)
class AgendaMatches:
    organisations: tuple[OrganisationMatch, ...]
    people: tuple[PersonMatch, ...]


def written_organisations(agenda: ParsedAgenda) -> list[str]:
    """Each organisation named in the agenda once, in the order it first appears."""
    seen: dict[str, None] = {}
    for item in agenda.items:
        for speaker in item.speakers:
            if speaker.organisation:
                seen.setdefault(speaker.organisation, None)
    return list(seen)


def written_people(agenda: ParsedAgenda) -> list[tuple[str, str | None]]:
    """Each (name, organisation) named in the agenda once, in the order it first appears."""
    seen: dict[tuple[str, str | None], None] = {}
    for item in agenda.items:
        for speaker in item.speakers:
            seen.setdefault((speaker.name, speaker.organisation), None)
    return list(seen)


async def find_agenda_matches(db: AsyncSession, agenda: ParsedAgenda) -> AgendaMatches:
    """Propose, for each pasted organisation and person, the existing record it names."""
    organisations = list(await db.scalars(select(Organisation)))
    by_key = {name_key(o.name): o for o in organisations}
    names = {o.id: o.name for o in organisations}
    org_matches: list[OrganisationMatch] = []
    for written in written_organisations(agenda):
        found = by_key.get(name_key(written))
        org_matches.append(OrganisationMatch(written, found.id if found else None,
                                             found.name if found else None))
    matched_org = {m.written: m.existing_id for m in org_matches}
    people_rows = (await db.execute(select(Person.id, Person.name, Person.organisation_id))).all()
    person_matches: list[PersonMatch] = []
    for name, organisation in written_people(agenda):
        namesakes = [row for row in people_rows if name_key(row.name) == name_key(name)]
        organisation_id = matched_org.get(organisation) if organisation else None
        if organisation is None:
            same = namesakes if len(namesakes) == 1 else []
        else:
            same = [row for row in namesakes
                    if organisation_id is not None and row.organisation_id == organisation_id]
        chosen = same[0] if same else None
        others = tuple(
            PersonCandidate(row.id, row.name, names.get(row.organisation_id))
            for row in namesakes if chosen is None or row.id != chosen.id
        )
        person_matches.append(PersonMatch(
            name, organisation, chosen.id if chosen else None,
            chosen.name if chosen else None, others))
    return AgendaMatches(tuple(org_matches), tuple(person_matches))


# --- the organiser's choices ---------------------------------------------------------------


class OrganisationChoice(Input):
    """For one pasted organisation: an existing one, or a new one (named as pasted unless
    `name` corrects it)."""

    written: Name
    existing_id: Id | None = None
    name: Name | None = None
    kind: OrganisationKind = OrganisationKind.OTHER


class PersonChoice(Input):
    """For one pasted (name, organisation): an existing person, or a new one."""

    written: Name
    organisation: Name | None = None
    existing_id: Id | None = None
    name: Name | None = None


class PastedAgenda(Input):
    text: Description
    organisations: list[OrganisationChoice] = []
    people: list[PersonChoice] = []


def default_choices(text: str, matches: AgendaMatches) -> PastedAgenda:
    """The choices an organiser makes by accepting every proposed match."""
    return PastedAgenda(
        text=text,
        organisations=[OrganisationChoice(written=m.written, existing_id=m.existing_id)
                       for m in matches.organisations],
        people=[PersonChoice(written=m.written, organisation=m.organisation,
                             existing_id=m.existing_id) for m in matches.people],
    )


# --- creating ------------------------------------------------------------------------------


@dataclass
class _Plan:
    """What the checks resolved: for each written organisation and person, an id to use or
    the input to create it with."""

    organisation_ids: dict[str, int]
    new_organisations: dict[str, OrganisationCreate]
    person_ids: dict[tuple[str, str | None], int]
    new_people: dict[tuple[str, str | None], str]


def _text_errors(agenda: ParsedAgenda) -> list[FieldError]:
    return [FieldError("text", _("Line %(line)s: %(message)s") % {"line": note.line,
                                                                   "message": note.message}
                       if note.line else note.message)
            for note in agenda.problems]


async def _check_organisations(
    db: AsyncSession, agenda: ParsedAgenda, choices: list[OrganisationChoice],
    errors: list[FieldError],
) -> tuple[dict[str, int], dict[str, OrganisationCreate]]:
    ids: dict[str, int] = {}
    new: dict[str, OrganisationCreate] = {}
    new_keys: dict[str, str] = {}
    by_written = {choice.written: (index, choice) for index, choice in enumerate(choices)}
    existing_keys = {name_key(name): name for name in await db.scalars(select(Organisation.name))}
    for written in written_organisations(agenda):
        if written not in by_written:
            errors.append(FieldError("organisations", _("Say which organisation %(written)r is.")
                                                          % {"written": written}))
            continue
        index, choice = by_written[written]
        field = f"organisations[{index}]"
        if choice.existing_id is not None:
            if await db.get(Organisation, choice.existing_id) is None:
                errors.append(FieldError(f"{field}.existing_id",
                                         _("No organisation with id %(existing_id)s.")
                                             % {"existing_id": choice.existing_id}))
            else:
                ids[written] = choice.existing_id
            continue
        try:
            name = clean_line(choice.name or written, f"{field}.name", required=True,
                              max_length=200)
        except InvalidInputError as error:
            errors.extend(error.errors)
            continue
        key = name_key(name)
        if key in existing_keys:
            errors.append(FieldError(f"{field}.name", _("%(name)r exists already: choose it "
                                                            "instead of creating it again.")
                                                          % {"name": existing_keys[key]}))
        elif key in new_keys:
            errors.append(FieldError(f"{field}.name", _("%(name)r is created once already, for "
                                                            "%(other)r: choose one name for both.")
                                                          % {"name": name, "other": new_keys[key]}))
        else:
            new_keys[key] = written
            new[written] = OrganisationCreate(name=name, kind=choice.kind)
    return ids, new


async def _check_people(
    db: AsyncSession, agenda: ParsedAgenda, choices: list[PersonChoice],
    errors: list[FieldError],
) -> tuple[dict[tuple[str, str | None], int], dict[tuple[str, str | None], str]]:
    ids: dict[tuple[str, str | None], int] = {}
    new: dict[tuple[str, str | None], str] = {}
    by_written = {(c.written, c.organisation): (index, c) for index, c in enumerate(choices)}
    for written in written_people(agenda):
        if written not in by_written:
            errors.append(FieldError("people", _("Say who %(written)r is.") % {"written": written[0]}))
            continue
        index, choice = by_written[written]
        field = f"people[{index}]"
        if choice.existing_id is not None:
            if await db.get(Person, choice.existing_id) is None:
                errors.append(FieldError(f"{field}.existing_id",
                                         _("No person with id %(existing_id)s.")
                                             % {"existing_id": choice.existing_id}))
            else:
                ids[written] = choice.existing_id
            continue
        try:
            new[written] = clean_line(choice.name or written[0], f"{field}.name",
                                      required=True, max_length=200)
        except InvalidInputError as error:
            errors.extend(error.errors)
    return ids, new


def _item_input(item: ParsedItem, ends_at: str, index: int,
                errors: list[FieldError]) -> AgendaItemCreate | None:
    """The item as the agenda command takes it, its limits checked as the API checks them."""
    try:
        return msgspec.convert(
            {"title": item.title, "kind": item.kind, "starts_at": item.starts_at.strftime("%H:%M"),
             "ends_at": ends_at, "speakers": []},
            AgendaItemCreate,
        )
    except msgspec.ValidationError as error:
        path = str(error).rpartition("at `$.")[2].rstrip("`") or "title"
        errors.append(FieldError(f"items[{index}].{path}",
                                 _("Line %(line)s: %(problem)s.")
                                     % {"line": item.line, "problem": str(error).partition(' - at')[0]}))
        return None


async def create_pasted_agenda(
    db: AsyncSession, session_id: int, data: PastedAgenda, *, now: datetime,
    settings: Settings,
) -> list[AgendaItem]:
    """Create the pasted agenda's organisations, people and items in one step, or nothing:
    every problem (the text, a choice, a time that does not fit) is reported at once."""
    session = await get_session(db, session_id)
    zone_name = session.event.timezone
    agenda = parse_agenda_text(data.text)
    errors = _text_errors(agenda)
    organisation_ids, new_organisations = await _check_organisations(
        db, agenda, data.organisations, errors)
    person_ids, new_people = await _check_people(db, agenda, data.people, errors)

    day = agenda_day(session)
    inputs: list[AgendaItemCreate | None] = []
    slots = [Slot(("existing", item.id), item.title, item.starts_at.astimezone(UTC),
                  item.ends_at.astimezone(UTC)) for item in session.agenda_items]
    for index, item in enumerate(agenda.items):
        ends_text = item.ends_at.strftime("%H:%M") if item.ends_at else iso_utc(session.ends_at)
        inputs.append(_item_input(item, ends_text, index, errors))
        try:
            starts_at = parse_instant(item.starts_at.strftime("%H:%M"), zone_name,
                                      f"items[{index}].starts_at", on_date=day)
            ends_at = parse_instant(ends_text, zone_name, f"items[{index}].ends_at", on_date=day)
        except InvalidInputError as error:
            errors.extend(FieldError(e.field, _("Line %(line)s: %(message)s")
                                                  % {"line": item.line, "message": e.message})
                          for e in error.errors)
            continue
        slots.append(Slot(index, item.title, starts_at, ends_at))
    for problem in review_slots(slots, session_starts_at=session.starts_at,
                                session_ends_at=session.ends_at, zone_name=zone_name):
        if problem.is_warning or not isinstance(problem.key, int):
            continue
        item = agenda.items[problem.key]
        errors.append(FieldError(f"items[{problem.key}].{problem.field}",
                                 _("Line %(line)s (%(title)s): %(message)s")
                                     % {"line": item.line, "title": item.title, "message": problem.message}))
    if errors:
        raise InvalidInputError.of(_sorted(errors))

    for written, organisation_input in new_organisations.items():
        organisation_ids[written] = (await create_organisation(db, organisation_input,
                                                               now=now)).id
    for (name, organisation), person_name in new_people.items():
        person = await create_person(db, PersonCreate(
            name=person_name,
            organisation_id=organisation_ids.get(organisation) if organisation else None,
        ), now=now)
        person_ids[(name, organisation)] = person.id
    created: list[AgendaItem] = []
    for index, (item, item_input) in enumerate(zip(agenda.items, inputs, strict=True)):
        assert item_input is not None  # every input was checked above
        speakers: list[SpeakerRef] = []
        for speaker in item.speakers:
            person_id = person_ids[(speaker.name, speaker.organisation)]
            if any(ref.person_id == person_id for ref in speakers):
                continue
            speakers.append(SpeakerRef(
                person_id=person_id,
                organisation_id=(organisation_ids.get(speaker.organisation)
                                 if speaker.organisation else None),
            ))
        item_input.speakers = speakers
        try:
            created.append(await add_agenda_item(db, session.id, item_input, now=now,
                                                 settings=settings))
        except DomainError as error:  # the checks above should have caught it; name the item
            raise InvalidInputError(_("Line %(line)s: %(message)s")
                                        % {"line": item.line, "message": error.message},
                                    f"items[{index}].{error.field or 'starts_at'}") from error
    return created


def _sorted(errors: Iterable[FieldError]) -> list[FieldError]:
    """Errors in the order of the form: the text, then the organisations, then the people."""
    order = {"text": 0, "items": 1, "organisations": 2, "people": 3}
    return sorted(errors, key=lambda e: order.get(re.split(r"[\[.]", e.field or "")[0], 4))
