"""The registration form: what a person fills in, and the checks it passes before it counts.

Every rule broken is reported at once, beside its field, with a sentence that says what to
change: `clean_form` (rules that need no database, run before the event is locked) notes
its problems on the clean form instead of stopping at the first, and `check_form_for_event`
(the rules of the event's kind and sessions) raises one InvalidInputError carrying them all
with its own. Text is cleaned by `service.domain.text` (the one cleaner: single lines never
carry control or line-break characters, as they end up in email headers and invites).
Nothing here reads or writes the database.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field, replace

from notifications.addresses import AddressRefused, accept_address
from service.db.models import Attendance, Event, EventKind, OrganisationKind, SessionMode
from service.domain.errors import FieldError, InvalidInputError
from service.domain.programme import is_hybrid
from service.domain.text import clean_line, clean_text
from service.i18n import DEFAULT_LANGUAGE, N_, current_language, is_language
from service.i18n import gettext as _

_COUNTRY = re.compile(r"^[A-Z]{2}$")
MAX_LINE = 200
MAX_NOTE = 2_000
SUPPLIER_FIELDS = ("company", "sector", "offer_note")

# What each required field asks for when it is left empty.
NAME_MISSING = N_("Enter your name.")
CONSENT_MISSING = N_("Agree that we use your details for this event: we cannot register you without it.")
SESSIONS_MISSING = N_("Choose at least one session.")
ROLE_MISSING = N_("Choose whether you take part as a supplier or as a public buyer.")
COMPANY_MISSING = N_("Enter the name of your company.")
SECTOR_MISSING = N_("Enter your sector, for example ICT hardware.")
OFFER_MISSING = N_("Describe in a few sentences what your company can offer the buyers.")


@dataclass(frozen=True)
class RegistrationForm:
    """What a person fills in to register; `session_ids` None means the whole event.

    On a Meet-your-Buyer dialogue, `organisation_kind` says whether the person comes as a
    supplier (whose organisation is their company) or as a buyer; only suppliers give
    `sector` and `offer_note`. `attendance` is for hybrid events only."""

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
    attendance: Attendance | None = None
    # The privacy notice version the person was shown (None: the current one).
    privacy_notice_version_id: int | None = None
    # The optional, separate "keep me informed of future events" consent.
    keep_informed: bool = False
    # The language they read (every email to them is in it); None: the page's language.
    language: str | None = None


@dataclass(frozen=True)
class CleanForm:
    """The form once cleaned: what is stored, and the rules it broke (`problems`), which
    `check_form_for_event` reports together with the event's own."""

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
    attendance: Attendance | None = None
    problems: tuple[FieldError, ...] = field(default=(), compare=False)
    privacy_notice_version_id: int | None = None
    keep_informed: bool = False
    language: str = DEFAULT_LANGUAGE


class Problems:
    """The rules a form broke, gathered so that all are reported at once."""

    def __init__(self) -> None:
        self.found: list[FieldError] = []

    def add(self, field_name: str, message: str) -> None:
        self.found.append(FieldError(field_name, message))

    def line(self, value: str | None, field_name: str, *, missing: str | None = None,
             max_length: int = MAX_LINE) -> str | None:
        """One line, cleaned; a problem noted (and None) when it breaks a rule."""
        if missing is not None and not (value or "").strip():
            self.add(field_name, missing)
            return None
        try:
            return clean_line(value, field_name, max_length=max_length)
        except InvalidInputError as error:
            self.found.extend(error.errors)
            return None

    def text(self, value: str | None, field_name: str, *, missing: str | None = None,
             max_length: int = MAX_NOTE) -> str | None:
        """Several lines, cleaned; a problem noted (and None) when it breaks a rule."""
        if missing is not None and not (value or "").strip():
            self.add(field_name, missing)
            return None
        try:
            return clean_text(value, field_name, max_length=max_length)
        except InvalidInputError as error:
            self.found.extend(error.errors)
            return None

    def email(self, value: str) -> str:
        """The address as mail servers take it (`notifications.addresses`); as typed (and a
        problem noted) when mail could not reach it."""
        try:
            return accept_address(value)
        except AddressRefused as refused:
            self.add("email", str(refused))
            return value.strip()

    def raise_if_any(self) -> None:
        if self.found:
            raise InvalidInputError.of(self.found)


def normalise_email(value: str) -> str:
    return value.strip().lower()


def clean_form(form: RegistrationForm) -> CleanForm:
    """Rules that need no database: run before the event is locked. Never raises: what is
    wrong is noted in `problems`, reported by `check_form_for_event` with the event's rules."""
    problems = Problems()
    name = problems.line(form.name, "name", missing=_(NAME_MISSING))
    email = problems.email(form.email)
    if form.consent is not True:
        problems.add("consent", _(CONSENT_MISSING))
    country = (form.country or "").strip().upper() or None
    if country is not None and not _COUNTRY.match(country):
        problems.add("country", _("Use a two-letter ISO 3166 country code, e.g. 'BE'."))
    language = current_language() if form.language is None else form.language
    if not is_language(language):
        problems.add("language", _("Choose one of the languages offered."))
        language = DEFAULT_LANGUAGE
    session_ids = None
    if form.session_ids is not None:
        session_ids = tuple(dict.fromkeys(form.session_ids))
        if not session_ids:
            problems.add("session_ids", _(SESSIONS_MISSING))
    return CleanForm(
        name=name or "",
        email=email,
        organisation_name=problems.line(form.organisation_name, "organisation_name") or "",
        organisation_kind=form.organisation_kind,
        country=country,
        job_title=problems.line(form.job_title, "job_title"),
        access_note=problems.text(form.access_note, "access_note"),
        company=problems.line(form.company, "company"),
        sector=problems.line(form.sector, "sector"),
        offer_note=problems.text(form.offer_note, "offer_note"),
        session_ids=session_ids,
        attendance=form.attendance,
        problems=tuple(problems.found),
        privacy_notice_version_id=form.privacy_notice_version_id,
        keep_informed=form.keep_informed is True,
        language=language,
    )


def event_problems(form: CleanForm, event: Event) -> list[FieldError]:
    """What the event's kind and sessions ask for (and what they do not)."""
    problems = Problems()
    if event.kind == EventKind.MEET_YOUR_BUYER:
        if form.organisation_kind is None:
            problems.add("organisation_kind", _(ROLE_MISSING))
        elif form.organisation_kind == OrganisationKind.SUPPLIER:
            # The supplier's organisation is their company: asked once.
            if not (form.organisation_name or form.company):
                problems.add("organisation_name", _(COMPANY_MISSING))
            if not form.sector:
                problems.add("sector", _(SECTOR_MISSING))
            if not form.offer_note:
                problems.add("offer_note", _(OFFER_MISSING))
        else:
            for name in SUPPLIER_FIELDS:
                if getattr(form, name):
                    problems.add(name, _("Leave this empty: only suppliers tell us this."))
    else:
        for name in SUPPLIER_FIELDS:
            if getattr(form, name):
                problems.add(name, _("Leave this empty: it is only asked for Meet-your-Buyer "
                                     "dialogues."))
    if form.access_note and not any(s.mode != SessionMode.ONLINE for s in event.sessions):
        problems.add("access_note", _("Leave this empty: accessibility and dietary needs are "
                                      "asked for events held in person."))
    if form.attendance is not None and not is_hybrid(event):
        problems.add("attendance", _("Leave this out: this event is not held both in person "
                                     "and online."))
    return problems.found


def check_form_for_event(form: CleanForm, event: Event) -> CleanForm:
    """Every rule the form breaks, its own and the event's, raised at once (one
    InvalidInputError naming each field); else the form as stored for this event."""
    found = [*form.problems, *event_problems(form, event)]
    if found:
        raise InvalidInputError.of(found)
    if event.kind == EventKind.MEET_YOUR_BUYER and \
            form.organisation_kind == OrganisationKind.SUPPLIER:
        return replace(form, company=form.company or form.organisation_name)
    return form


def form_problems(form: RegistrationForm, event: Event) -> list[FieldError]:
    """Every rule `form` breaks for `event`, without registering (the page shows them all
    beside its own checks before anything is filed)."""
    clean = clean_form(form)
    return [*clean.problems, *event_problems(clean, event)]
