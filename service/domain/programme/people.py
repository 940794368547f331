"""Organisations and people: the hosts, speakers and buyers the programme names.

Renaming an organisation or a person, or moving a person to another organisation, is
announced (speakers' slots and invites show those names); what follows is decided in
service/operations/consequences.py, never here.
"""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession
from sqlalchemy.orm import selectinload

from service.db.models import Organisation, OrganisationKind, Person
from service.domain import signals
from service.domain.errors import ConflictError, NotFoundError
from service.domain.programme.checks import check_organisation_exists, country_code
from service.domain.programme.inputs import (
    OrganisationCreate,
    OrganisationUpdate,
    PersonCreate,
    PersonUpdate,
)
from service.domain.text import clean_line
from service.i18n import gettext as _
from service.settings import Settings

# --- organisations -------------------------------------------------------------------------

WEBSITE_LIMIT = 500  # the column's length


def _website(value: str | None) -> str | None:
    return clean_line(value, "website", max_length=WEBSITE_LIMIT)


async def create_organisation(
    db: AsyncSession, data: OrganisationCreate, *, now: datetime
) -> Organisation:
    name = clean_line(data.name, "name", required=True)
    if await db.scalar(select(Organisation.id).where(Organisation.name == name)) is not None:
        raise ConflictError(_("An organisation called %(name)r exists already.") % {"name": name}, "name")
    organisation = Organisation(
        name=name, kind=data.kind, country=country_code(data.country, "country"),
        website=_website(data.website), standing=data.standing, created_at=now,
        updated_at=now,
    )
    db.add(organisation)
    await db.flush()
    return organisation


async def find_or_create_organisation(
    db: AsyncSession, *, name: str, kind: OrganisationKind, now: datetime,
    country: str | None = None,
) -> Organisation:
    existing = await db.scalar(select(Organisation).where(Organisation.name == name.strip()))
    if existing is not None:
        return existing
    return await create_organisation(
        db, OrganisationCreate(name=name, kind=kind, country=country), now=now
    )


async def get_organisation(db: AsyncSession, organisation_id: int) -> Organisation:
    organisation = await db.get(Organisation, organisation_id)
    if organisation is None:
        raise NotFoundError(_("No organisation with id %(organisation_id)s.")
                                % {"organisation_id": organisation_id}, "organisation_id")
    return organisation


async def list_organisations(db: AsyncSession) -> list[Organisation]:
    return list(await db.scalars(select(Organisation).order_by(Organisation.name)))


async def update_organisation(
    db: AsyncSession, organisation_id: int, changes: OrganisationUpdate, *, now: datetime,
    settings: Settings,
) -> Organisation:
    organisation = await get_organisation(db, organisation_id)
    if changes.name is not UNSET:
        name = clean_line(changes.name, "name", required=True)
        clash = await db.scalar(
            select(Organisation.id).where(Organisation.name == name, Organisation.id != organisation.id)
        )
        if clash is not None:
            raise ConflictError(_("An organisation called %(name)r exists already.") % {"name": name}, "name")
        organisation.name = name
    if changes.kind is not UNSET:
        organisation.kind = changes.kind
    if changes.country is not UNSET:
        organisation.country = country_code(changes.country, "country")
    if changes.website is not UNSET:
        organisation.website = _website(changes.website)
    if changes.standing is not UNSET:
        organisation.standing = changes.standing
    organisation.updated_at = now
    await db.flush()
    if changes.name is not UNSET:
        await signals.announce(db, signals.SpeakerDetailsChanged(organisation_id=organisation.id),
                               now=now, settings=settings)
    return organisation


async def delete_organisation(db: AsyncSession, organisation_id: int) -> None:
    await db.delete(await get_organisation(db, organisation_id))
    await db.flush()


# --- people --------------------------------------------------------------------------------


async def create_person(db: AsyncSession, data: PersonCreate, *, now: datetime) -> Person:
    await check_organisation_exists(db, data.organisation_id, "organisation_id")
    person = Person(
        name=clean_line(data.name, "name", required=True),
        email=data.email.strip() if data.email else None,
        job_title=clean_line(data.job_title, "job_title"),
        organisation_id=data.organisation_id,
        language=data.language,
        created_at=now,
        updated_at=now,
    )
    db.add(person)
    await db.flush()
    return person


async def find_or_create_person(
    db: AsyncSession, *, name: str, organisation_id: int | None, now: datetime,
    email: str | None = None,
) -> Person:
    existing = await db.scalar(
        select(Person).where(Person.name == name.strip(), Person.organisation_id == organisation_id)
    )
    if existing is not None:
        return existing
    return await create_person(
        db, PersonCreate(name=name, email=email, organisation_id=organisation_id), now=now
    )


async def get_person(db: AsyncSession, person_id: int) -> Person:
    person = await db.scalar(
        select(Person).where(Person.id == person_id).options(selectinload(Person.organisation))
    )
    if person is None:
        raise NotFoundError(_("No person with id %(person_id)s.") % {"person_id": person_id}, "person_id")
    return person


async def list_persons(db: AsyncSession) -> list[Person]:
    return list(
        await db.scalars(
            select(Person).options(selectinload(Person.organisation)).order_by(Person.name)
        )
    )


async def update_person(
    db: AsyncSession, person_id: int, changes: PersonUpdate, *, now: datetime,
    settings: Settings,
) -> Person:
    person = await get_person(db, person_id)
    if changes.name is not UNSET:
        person.name = clean_line(changes.name, "name", required=True)
    if changes.email is not UNSET:
        person.email = changes.email.strip() if changes.email else None
    if changes.job_title is not UNSET:
        person.job_title = changes.job_title
    if changes.language is not UNSET:
        person.language = changes.language
    if changes.organisation_id is not UNSET:
        await check_organisation_exists(db, changes.organisation_id, "organisation_id")
        person.organisation_id = changes.organisation_id
    person.updated_at = now
    await db.flush()
    if changes.name is not UNSET or changes.organisation_id is not UNSET:
        await signals.announce(db, signals.SpeakerDetailsChanged(person_id=person_id), now=now,
                               settings=settings)
    return await get_person(db, person_id)


async def delete_person(db: AsyncSession, person_id: int) -> None:
    await db.delete(await get_person(db, person_id))
    await db.flush()
