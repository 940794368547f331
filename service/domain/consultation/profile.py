"""A Meet-your-Buyer event's buyer profile: who buys what, when and how, and its hosts.

`save_profile` checks everything typed at once (a 4xx naming each field, nothing stored),
then writes the one profile of the event and its named hosts. Takes `db` and `now`,
flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass, field
from datetime import date, datetime

from sqlalchemy import delete, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    ConsultationHost,
    ConsultationProfile,
    Event,
    EventKind,
    MeetingHost,
    Organisation,
    Person,
    ProcurementProcedure,
)
from service.domain.errors import ConflictError, FieldError, InvalidInputError, NotFoundError
from service.domain.programme.translations import reader
from service.domain.text import clean_line, clean_text
from service.i18n import DEFAULT_LANGUAGE, N_
from service.i18n import gettext as _

from .cpv import CpvCode, describe_cpv, parse_cpv_codes

# Marked here, translated where read (`find_profile`, the editor's choices).
PROCEDURE_LABELS: dict[ProcurementProcedure, str] = {
    ProcurementProcedure.OPEN: N_("Open procedure"),
    ProcurementProcedure.RESTRICTED: N_("Restricted procedure"),
    ProcurementProcedure.COMPETITIVE_WITH_NEGOTIATION: N_("Competitive procedure with negotiation"),
    ProcurementProcedure.COMPETITIVE_DIALOGUE: N_("Competitive dialogue"),
    ProcurementProcedure.INNOVATION_PARTNERSHIP: N_("Innovation partnership"),
    ProcurementProcedure.NEGOTIATED_WITHOUT_PUBLICATION:
        N_("Negotiated procedure without prior publication"),
}
MAX_SUBJECT = 500
MAX_LONG_TEXT = 20_000
# A hundred billion euros: beyond any public contract, within a BIGINT of cents.
MAX_VALUE_CENTS = 100_000_000_000 * 100
_AMOUNT = re.compile(r"^-?\d+(?:[.,]\d{1,2})?$")


@dataclass(frozen=True)
class ProfileInput:
    """The profile form as typed: every value a string, checked by `save_profile`."""

    buyer_organisation_id: str = ""
    subject: str = ""
    cpv_codes: str = ""
    estimated_value: str = ""
    planned_publication_on: str = ""
    procedure: str = ""
    market_questions: str = ""
    notice_text: str = ""
    host_person_ids: Sequence[str] = field(default_factory=tuple)


@dataclass(frozen=True)
class HostView:
    person_id: int
    name: str
    job_title: str | None
    email: str | None


@dataclass(frozen=True)
class ProfileView:
    """The profile as pages, emails and the report show it."""

    buyer_organisation_id: int | None
    buyer_name: str
    subject: str
    cpv_codes: list[CpvCode]
    estimated_value_cents: int | None
    planned_publication_on: date | None
    procedure: ProcurementProcedure | None
    procedure_label: str
    market_questions: str
    notice_text: str
    hosts: list[HostView]
    updated_at: datetime
    # The language the subject is shown in (the event's default where not translated).
    language: str = DEFAULT_LANGUAGE


def euro_text(cents: int | None) -> str:
    """"EUR 250,000.00" (or "" when not told)."""
    if cents is None:
        return ""
    return f"EUR {cents // 100:,}.{cents % 100:02d}"


def parse_euros(typed: str) -> tuple[int | None, str | None]:
    """Cents from "250000", "250 000,50" or "250000.5"; or the problem with it."""
    text = typed.strip().replace(" ", "").replace("\u00a0", "").replace("'", "")
    if not text:
        return None, None
    if not _AMOUNT.match(text):
        return None, _("Write the estimated value in euros as a number, like 250000 or "
                       "250000.50.")
    if text.startswith("-"):
        return None, _("The estimated value cannot be negative.")
    whole, _point, fraction = text.replace(",", ".").partition(".")
    cents = int(whole) * 100 + int((fraction + "00")[:2])
    if cents > MAX_VALUE_CENTS:
        return None, _("That estimated value is beyond any public contract: check it.")
    return cents, None


def _parse_date(typed: str) -> tuple[date | None, str | None]:
    text = typed.strip()
    if not text:
        return None, None
    try:
        found = date.fromisoformat(text)
    except ValueError:
        return None, _("Write the planned publication date as a date, like 2027-03-15.")
    if not (1900 <= found.year <= 2999):
        return None, _("Write the planned publication date as a date, like 2027-03-15.")
    return found, None


async def load_consultation_event(db: AsyncSession, event_id: int) -> Event:
    """The event (404 when unknown), refused (409) unless it is a Meet-your-Buyer event."""
    event = await db.get(Event, event_id)
    if event is None:
        raise NotFoundError(_("No such event."), "event_id")
    if event.kind != EventKind.MEET_YOUR_BUYER:
        raise ConflictError(_("Only Meet-your-Buyer events have a market consultation."),
                            "event_id")
    return event


async def save_profile(db: AsyncSession, event_id: int, typed: ProfileInput, *,
                       now: datetime) -> ConsultationProfile:
    """Create or replace the event's profile and hosts; every problem named at once."""
    await load_consultation_event(db, event_id)
    problems: list[FieldError] = []
    buyer_id: int | None = None
    if typed.buyer_organisation_id.strip():
        try:
            buyer_id = int(typed.buyer_organisation_id)
        except ValueError:
            problems.append(FieldError("buyer_organisation_id", _("Choose the buying authority.")))
        else:
            if await db.get(Organisation, buyer_id) is None:
                problems.append(FieldError("buyer_organisation_id",
                                           _("Choose the buying authority among those listed.")))
                buyer_id = None
    else:
        problems.append(FieldError("buyer_organisation_id", _("Choose the buying authority.")))
    subject = _cleaned(problems, "subject", typed.subject, required=True,
                       max_length=MAX_SUBJECT)
    codes, cpv_problems = parse_cpv_codes(typed.cpv_codes)
    problems.extend(FieldError("cpv_codes", message) for message in cpv_problems)
    if not codes and not cpv_problems:
        problems.append(FieldError("cpv_codes", _("Give at least one CPV code, like 30213000-5.")))
    cents, value_problem = parse_euros(typed.estimated_value)
    if value_problem:
        problems.append(FieldError("estimated_value", value_problem))
    planned, date_problem = _parse_date(typed.planned_publication_on)
    if date_problem:
        problems.append(FieldError("planned_publication_on", date_problem))
    procedure: ProcurementProcedure | None = None
    if typed.procedure.strip():
        try:
            procedure = ProcurementProcedure(typed.procedure.strip())
        except ValueError:
            problems.append(FieldError("procedure", _("Choose a procedure from the list.")))
    questions = _cleaned(problems, "market_questions", typed.market_questions,
                         max_length=MAX_LONG_TEXT, multiline=True)
    notice = _cleaned(problems, "notice_text", typed.notice_text, max_length=MAX_LONG_TEXT,
                      multiline=True)
    host_ids = await _hosts(db, problems, typed.host_person_ids, buyer_id)
    if problems:
        raise InvalidInputError.of(problems)
    profile = await db.scalar(select(ConsultationProfile)
                              .where(ConsultationProfile.event_id == event_id))
    if profile is None:
        profile = ConsultationProfile(event_id=event_id, created_at=now)
        db.add(profile)
    profile.buyer_organisation_id = buyer_id
    profile.subject = subject or ""
    profile.cpv_codes = [code.code for code in codes]
    profile.estimated_value_cents = cents
    profile.planned_publication_on = planned
    profile.procedure = procedure
    profile.market_questions = questions or ""
    profile.notice_text = notice or ""
    profile.updated_at = now
    await db.execute(delete(ConsultationHost).where(ConsultationHost.event_id == event_id))
    for position, person_id in enumerate(host_ids):
        db.add(ConsultationHost(event_id=event_id, person_id=person_id, position=position,
                                created_at=now))
    await _also_meeting_hosts(db, event_id, host_ids, now=now)
    await db.flush()
    return profile


async def _also_meeting_hosts(db: AsyncSession, event_id: int, person_ids: Sequence[int], *,
                              now: datetime) -> None:
    """The hosts the profile names are the ones suppliers may ask to meet: one list, kept
    from both sides (a meeting host of the buying authority is named in the profile too,
    see `name_meeting_host`). A host taken off the profile keeps their meetings."""
    known = set(await db.scalars(select(MeetingHost.person_id).where(
        MeetingHost.event_id == event_id)))
    for person_id in person_ids:
        if person_id not in known:
            db.add(MeetingHost(event_id=event_id, person_id=person_id, created_at=now))


async def name_meeting_host(db: AsyncSession, event_id: int, person: Person, *,
                            now: datetime) -> None:
    """A new meeting host of the buying authority is named among the profile's hosts."""
    profile = await db.scalar(select(ConsultationProfile)
                              .where(ConsultationProfile.event_id == event_id))
    if profile is None or person.organisation_id != profile.buyer_organisation_id:
        return
    positions = list(await db.scalars(select(ConsultationHost.position).where(
        ConsultationHost.event_id == event_id)))
    if await db.scalar(select(ConsultationHost.id).where(
            ConsultationHost.event_id == event_id, ConsultationHost.person_id == person.id)):
        return
    db.add(ConsultationHost(event_id=event_id, person_id=person.id,
                            position=max(positions, default=-1) + 1, created_at=now))


def _cleaned(problems: list[FieldError], field_name: str, value: str, *, required: bool = False,
             max_length: int, multiline: bool = False) -> str | None:
    if required and not value.strip():
        problems.append(FieldError(field_name, _("Write what the buyer will procure.")))
        return None
    try:
        if multiline:
            return clean_text(value, field_name, max_length=max_length)
        return clean_line(value, field_name, max_length=max_length)
    except InvalidInputError as error:
        problems.extend(error.errors)
        return None


async def _hosts(db: AsyncSession, problems: list[FieldError], typed: Sequence[str],
                 buyer_id: int | None) -> list[int]:
    """The host ids chosen, in order, each a person of the buying authority."""
    ids: list[int] = []
    for value in dict.fromkeys(v.strip() for v in typed if v.strip()):
        try:
            ids.append(int(value))
        except ValueError:
            problems.append(FieldError("host_person_ids", _("Choose hosts among those listed.")))
            return []
    if not ids:
        return []
    people = {p.id: p for p in await db.scalars(select(Person).where(Person.id.in_(ids)))}
    for person_id in ids:
        person = people.get(person_id)
        if person is None:
            problems.append(FieldError("host_person_ids", _("Choose hosts among those listed.")))
            return []
        if buyer_id is not None and person.organisation_id != buyer_id:
            problems.append(FieldError(
                "host_person_ids", _("%(name)s is not a person of the buying authority.")
                                       % {"name": person.name}))
    return ids


async def find_profile(db: AsyncSession, event_id: int, *, language: str | None = None
                       ) -> ProfileView | None:
    """The event's profile with its labels and hosts, or None when there is none yet. With a
    `language`, its subject, notice and questions in that language where the organisers gave
    them (each knows its language, for `lang`); without, as written."""
    profile = await db.scalar(select(ConsultationProfile)
                              .where(ConsultationProfile.event_id == event_id))
    if profile is None:
        return None
    read = await reader(db, event_id, language)
    texts = {name: read(profile, name)
             for name in ("subject", "market_questions", "notice_text")}
    buyer = (await db.get(Organisation, profile.buyer_organisation_id)
             if profile.buyer_organisation_id is not None else None)
    hosts = await db.execute(
        select(Person).join(ConsultationHost, ConsultationHost.person_id == Person.id)
        .where(ConsultationHost.event_id == event_id)
        .order_by(ConsultationHost.position, ConsultationHost.id))
    return ProfileView(
        buyer_organisation_id=profile.buyer_organisation_id,
        buyer_name=buyer.name if buyer is not None else "",
        subject=texts["subject"],
        cpv_codes=[describe_cpv(code) for code in profile.cpv_codes],
        estimated_value_cents=profile.estimated_value_cents,
        planned_publication_on=profile.planned_publication_on,
        procedure=profile.procedure,
        procedure_label=_(PROCEDURE_LABELS[profile.procedure]) if profile.procedure else "",
        market_questions=texts["market_questions"],
        notice_text=texts["notice_text"],
        hosts=[HostView(person_id=p.id, name=p.name, job_title=p.job_title, email=p.email)
               for p in hosts.scalars()],
        updated_at=profile.updated_at,
        language=texts["subject"].language,
    )


async def persons_of(db: AsyncSession, organisation_id: int | None) -> list[Person]:
    """The people of an organisation, by name: who may host for it."""
    if organisation_id is None:
        return []
    return list(await db.scalars(select(Person).where(Person.organisation_id == organisation_id)
                                 .order_by(Person.name, Person.id)))
