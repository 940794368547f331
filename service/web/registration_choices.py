"""A registration form's fields read the same way on the public form and on the organisers'
(`backoffice.registration_new`): what it offers from lists (the type of organisation or a
dialogue's role, the country, the sessions and, on a hybrid event, how one takes part; a
value not on its list is a problem beside its field that says what to do), and the
domain's form made of them."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.db.models import Attendance, OrganisationKind
from service.domain.registration import RegistrationForm
from service.i18n import current_language
from service.i18n import gettext as _
from service.web.countries import COUNTRY_NAMES


@dataclass(frozen=True)
class Choices:
    organisation_kind: OrganisationKind | None
    attendance: Attendance | None
    # The sessions chosen; None for the whole event (everything offered was chosen, or
    # the event offers no choice).
    session_ids: tuple[int, ...] | None
    problems: dict[str, str]


def read_choices(values: Mapping[str, str], chosen: Sequence[int], offered: Sequence[int], *,
                 asks_attendance: bool) -> Choices:
    """`values` as the form sent them; `chosen` the sessions ticked of those `offered`."""
    problems: dict[str, str] = {}
    if offered and not chosen:
        problems["session_ids"] = _("Choose at least one session.")
    kind = None
    if values["organisation_kind"]:
        try:
            kind = OrganisationKind(values["organisation_kind"])
        except ValueError:
            problems["organisation_kind"] = _("Choose a type from the list.")
    if values["country"] and values["country"] not in COUNTRY_NAMES:
        problems["country"] = _("Choose a country from the list.")
    attendance = None
    if values["attendance"] and asks_attendance:
        try:
            attendance = Attendance(values["attendance"])
        except ValueError:
            problems["attendance"] = _("Choose in person or online.")
    session_ids = tuple(chosen) if offered and set(chosen) != set(offered) else None
    return Choices(kind, attendance, session_ids, problems)


def registration_form(values: Mapping[str, str], choices: Choices, *, consent: bool,
                      fields: Mapping[str, object], privacy_notice_version_id: int | None = None,
                      keep_informed: bool = False) -> RegistrationForm:
    """The domain's form from what a page's form sent: only the parts this event asks for
    (`fields`: "access_note", "dialogue"); the page's language when none was chosen."""
    return RegistrationForm(
        name=values["name"], email=values["email"], consent=consent,
        organisation_name=values["organisation_name"],
        organisation_kind=choices.organisation_kind,
        country=values["country"] or None, job_title=values["job_title"] or None,
        access_note=values["access_note"] or None if fields["access_note"] else None,
        sector=values["sector"] or None if fields["dialogue"] else None,
        offer_note=values["offer_note"] or None if fields["dialogue"] else None,
        session_ids=choices.session_ids, attendance=choices.attendance,
        privacy_notice_version_id=privacy_notice_version_id, keep_informed=keep_informed,
        language=values["language"] or current_language(),
    )
