"""What a registration form offers from lists, read the same way on the public form and on
the organisers' (`backoffice.registration_new`): the type of organisation (or a dialogue's
role), the country, the sessions and, on a hybrid event, how one takes part. A value that
is not on its list is a problem beside its field that says what to do."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from service.db.models import Attendance, OrganisationKind
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
