"""The registration form: what a person fills in, and the checks it passes before it counts.

Text is cleaned by `service.domain.text` (the one cleaner: single lines never carry control or
line-break characters, as they end up in email headers and invites). Rules that need no
database run before the event is locked; the ones that depend on the event's kind and
sessions run after (`check_form_for_event`). Nothing here reads or writes the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from notifications.addresses import AddressRefused, accept_address
from service.db.models import Event, EventKind, OrganisationKind, SessionMode
from service.domain.errors import InvalidInputError
from service.domain.text import clean_line, clean_text

_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_LINE = 200
MAX_NOTE = 2_000


@dataclass(frozen=True)
class RegistrationForm:
    """What a person fills in to register; `session_ids` None means the whole event."""

    name: str
    email: str
    consent: bool
    organisation_name: str = ""
    organisation_kind: OrganisationKind | None = None
    country: str | None = None
    job_title: str | None = None
    access_note: str | None = None
    company: str | None = None
    sector: str | None = None
    offer_note: str | None = None
    session_ids: tuple[int, ...] | None = None


@dataclass(frozen=True)
class CleanForm:
    """The form once cleaned: what is stored."""

    name: str
    email: str
    organisation_name: str
    organisation_kind: OrganisationKind | None
    country: str | None
    job_title: str | None
    access_note: str | None
    company: str | None
    sector: str | None
    offer_note: str | None
    session_ids: tuple[int, ...] | None


def normalise_email(value: str) -> str:
    return value.strip().lower()


def _email(value: str) -> str:
    """The address as mail servers take it (`notifications.addresses`), or a 422 on `email`."""
    try:
        return accept_address(value)
    except AddressRefused as refused:
        raise InvalidInputError(str(refused), "email") from None


def clean_form(form: RegistrationForm) -> CleanForm:
    """Rules that need no database: run before the event is locked."""
    if form.consent is not True:
        raise InvalidInputError(
            "Please agree to the processing of your data for this event.", "consent"
        )
    country = (form.country or "").strip().upper() or None
    if country is not None and not _COUNTRY.match(country):
        raise InvalidInputError("Use a two-letter ISO 3166 country code, e.g. 'BE'.", "country")
    session_ids = None
    if form.session_ids is not None:
        session_ids = tuple(dict.fromkeys(form.session_ids))
        if not session_ids:
            raise InvalidInputError("Choose at least one session.", "session_ids")
    return CleanForm(
        name=clean_line(form.name, "name", required=True, max_length=MAX_LINE),
        email=_email(form.email),
        organisation_name=clean_line(form.organisation_name, "organisation_name",
                                     max_length=MAX_LINE) or "",
        organisation_kind=form.organisation_kind,
        country=country,
        job_title=clean_line(form.job_title, "job_title", max_length=MAX_LINE),
        access_note=clean_text(form.access_note, "access_note", max_length=MAX_NOTE),
        company=clean_line(form.company, "company", max_length=MAX_LINE),
        sector=clean_line(form.sector, "sector", max_length=MAX_LINE),
        offer_note=clean_text(form.offer_note, "offer_note", max_length=MAX_NOTE),
        session_ids=session_ids,
    )


def check_form_for_event(form: CleanForm, event: Event) -> None:
    """What the event's kind and sessions ask for (and what they do not)."""
    if event.kind == EventKind.MEET_YOUR_BUYER:
        for name in ("company", "sector", "offer_note"):
            if not getattr(form, name):
                raise InvalidInputError(
                    "Suppliers registering for a Meet-your-Buyer dialogue tell us this.", name
                )
    else:
        for name in ("company", "sector", "offer_note"):
            if getattr(form, name):
                raise InvalidInputError("Only asked for Meet-your-Buyer dialogues.", name)
    if form.access_note and not any(s.mode != SessionMode.ONLINE for s in event.sessions):
        raise InvalidInputError(
            "Accessibility and dietary notes are for events held in person.", "access_note"
        )
