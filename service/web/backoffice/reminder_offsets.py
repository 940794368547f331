"""The "when to remind" part of a form: the default, or the organiser's own times as rows of
an amount and a unit (days, hours or minutes before). Shared by an event's Reminders page
and an Interest Group's meeting series; the template side is organiser/_reminder_offsets.html.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.datastructures import FormMultiDict

from service.domain.errors import InvalidInputError
from service.domain.reminders.schedule import offset_parts, offsets_from_parts
from service.i18n import N_
from service.i18n import gettext as _

UNIT_LABELS = [("days", N_("days before")), ("hours", N_("hours before")),
               ("minutes", N_("minutes before"))]


def offset_values(offsets: Sequence[int], is_default: bool, rows: int) -> dict[str, str]:
    """The form's values for stored offsets (`is_default`: the default is in force)."""
    values = {"policy": "default" if is_default else "custom"}
    for number in range(1, rows + 1):
        values[f"offset-{number}-amount"], values[f"offset-{number}-unit"] = "", "days"
    for number, minutes in enumerate(offsets[:rows], start=1):
        amount, unit = offset_parts(minutes)
        values[f"offset-{number}-amount"], values[f"offset-{number}-unit"] = str(amount), unit
    return values


def offsets_from_form(form: FormMultiDict, rows: int
                      ) -> tuple[dict[str, str], list[int] | None, dict[str, str]]:
    """What was sent (to show again), the offsets chosen (None: the default) and the
    problems by field."""
    values = {"policy": str(form.get("policy") or "")}
    parts = []
    for number in range(1, rows + 1):
        amount = str(form.get(f"offset-{number}-amount") or "")
        unit = str(form.get(f"offset-{number}-unit") or "days")
        values[f"offset-{number}-amount"], values[f"offset-{number}-unit"] = amount, unit
        parts.append((amount, unit))
    if values["policy"] == "default":
        return values, None, {}
    if values["policy"] != "custom":
        return values, None, {"policy": _("Choose the default reminders or your own.")}
    try:
        return values, offsets_from_parts(parts), {}
    except InvalidInputError as refused:
        return values, None, {e.field: e.message for e in refused.errors if e.field}


def rows_context(rows: int) -> dict[str, object]:
    """What organiser/_reminder_offsets.html reads besides `values` and `errors`."""
    return {"units": [(unit, _(label)) for unit, label in UNIT_LABELS],
            "offset_rows": range(1, rows + 1)}
