"""A registrant changes what they told us: name, organisation, job title, notes, a supplier's
offer, (hybrid events) whether they come in person or online, and the language they read.

Validated by the form's own rules (`form`), every error at once; on any error nothing
changes. Emails already prepared that show the old name are composed again: that is
announced (`signals.RegistrantRenamed`) and decided in `service.operations.consequences`,
never here. Sessions, status and address are changed elsewhere (or not at all).
"""

from __future__ import annotations

from datetime import datetime

from msgspec import UNSET, Struct, UnsetType
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Attendance, EventKind, OrganisationKind, Registration
from service.domain import signals
from service.domain.errors import ConflictError, InvalidInputError
from service.settings import Settings

from .form import RegistrationForm, clean_form, event_problems
from .loading import lock_for_registration
from .rules import ACTIVE_STATUSES, status_refusal

# What a registrant may change themselves (the registration's own column names).
CHANGEABLE = ("name", "organisation_name", "job_title", "access_note", "sector", "offer_note",
              "attendance", "language")


class DetailsChange(Struct, kw_only=True, forbid_unknown_fields=True):
    """The details to change; a field left UNSET is kept, one given as None is cleared."""

    name: str | UnsetType = UNSET
    organisation_name: str | UnsetType | None = UNSET
    job_title: str | UnsetType | None = UNSET
    access_note: str | UnsetType | None = UNSET
    sector: str | UnsetType | None = UNSET
    offer_note: str | UnsetType | None = UNSET
    attendance: Attendance | UnsetType | None = UNSET
    # The language of every email to come (one of service.i18n.LANGUAGES).
    language: str | UnsetType = UNSET


def _given(changes: DetailsChange, name: str, current: object) -> object:
    value = getattr(changes, name)
    return current if value is UNSET else value


async def change_registrant_details(
    db: AsyncSession, registration_id: int, changes: DetailsChange, *, now: datetime,
    settings: Settings,
) -> Registration:
    """Apply the registrant's changes, checked like the registration form; all or nothing."""
    event, registration = await lock_for_registration(db, registration_id)
    if registration.status not in ACTIVE_STATUSES:
        raise ConflictError(status_refusal(registration.status, nothing_to_change=True),
                            "status")
    is_supplier = (event.kind == EventKind.MEET_YOUR_BUYER
                   and registration.organisation_kind == OrganisationKind.SUPPLIER)
    organisation = _text(_given(changes, "organisation_name", registration.organisation_name))
    # A supplier's company is their organisation: it follows a change of the organisation.
    company = registration.company
    if is_supplier and company in (None, registration.organisation_name):
        company = organisation
    form = RegistrationForm(
        name=str(_given(changes, "name", registration.name)),
        email=registration.email, consent=True,
        organisation_name=str(organisation or ""),
        organisation_kind=registration.organisation_kind,
        country=registration.country,
        job_title=_text(_given(changes, "job_title", registration.job_title)),
        access_note=_text(_given(changes, "access_note", registration.access_note)),
        company=_text(company),
        sector=_text(_given(changes, "sector", registration.sector)),
        offer_note=_text(_given(changes, "offer_note", registration.offer_note)),
        attendance=_attendance(_given(changes, "attendance", registration.attendance)),
        language=str(_given(changes, "language", registration.language)),
    )
    clean = clean_form(form)
    found = [*clean.problems, *event_problems(clean, event)]
    if found:
        raise InvalidInputError.of(found)
    renamed = clean.name != registration.name
    changed = False
    for name in (*CHANGEABLE, "company"):
        value = getattr(clean, name)
        if getattr(registration, name) != value:
            setattr(registration, name, value)
            changed = True
    if changed:
        registration.updated_at = now
        await db.flush()
    if renamed:
        await signals.announce(db, signals.RegistrantRenamed(registration), now=now,
                               settings=settings)
    return registration


def _text(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _attendance(value: object) -> Attendance | None:
    return Attendance(value) if isinstance(value, str) and value else None
