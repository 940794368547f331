"""Registering a list of people at once, from a spreadsheet saved as CSV (Indico's and Zoom
Webinars' "import registrants"): a delegation sent by a partner, the people of last year's
visit, or an event's own `registrations.csv` exported from another event, which imports as it
is (the columns not read here, such as `id` and `status`, are left alone).

The first line names the columns (`name` and `email` are needed; `organisation`,
`organisation_kind`, `country`, `job_title`, `language`, `access_note`, `company`, `sector`,
`offer_note` and `attendance` may be given; "E-mail address" or "Organization" are read as
theirs), in any order; commas, semicolons (as Excel saves in much of Europe) or tabs
separate them; UTF-8 (with or without a byte order mark) or Windows-1252. Each person is
registered for the whole event. Every line is checked with the public form's rules and the event's before
anything is stored, and every problem is named by its line and column at once; an address
twice in the file or registered already is one of them. Then each person is registered as an
organiser registers someone on their behalf (`register_on_behalf`): the places apply (where
full, they wait), the registration window, approval and the address confirmation do not, and
each gets the usual first email. All or nothing. Flushes, never commits; knows no HTTP.
"""

from __future__ import annotations

import csv
import io
from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import TypeVar

from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Attendance, Event, EventKind, OrganisationKind, SessionMode
from service.domain.programme.sessions import is_hybrid
from service.domain.registration.batch import (
    RegistrationOutcome,
    register_on_behalf,
    registered_addresses,
)
from service.domain.registration.form import RegistrationForm, form_problems, normalise_email
from service.i18n import LANGUAGES
from service.i18n import gettext as _
from service.settings import Settings

MAX_BYTES = 512 * 1024
MAX_ROWS = 500
REQUIRED_COLUMNS = ("name", "email")
# Each column read, and the form's field it fills.
COLUMNS = {
    "name": "name", "email": "email", "organisation": "organisation_name",
    "organisation_kind": "organisation_kind", "country": "country", "job_title": "job_title",
    "language": "language", "access_note": "access_note", "company": "company",
    "sector": "sector", "offer_note": "offer_note", "attendance": "attendance",
}
_COLUMN_OF = {field: column for column, field in COLUMNS.items()}
# Other names spreadsheets give the same columns ("E-mail address", "Organization").
ALIASES = {
    "full_name": "name", "e_mail": "email", "email_address": "email",
    "e_mail_address": "email", "organization": "organisation",
    "organisation_name": "organisation", "organization_name": "organisation",
    "organization_kind": "organisation_kind", "job": "job_title",
}
_LIMIT = 4_000  # a cell longer than any field takes is refused by the form's rules
Kind = TypeVar("Kind", OrganisationKind, Attendance)


@dataclass(frozen=True)
class ImportRow:
    """One person of the file: the line they are on (the column names are line 1)."""

    line: int
    form: RegistrationForm


@dataclass(frozen=True)
class RowProblem:
    """What is wrong, where: line 0 is the file itself; `column` empty for a whole line."""

    line: int
    column: str
    message: str


def example_rows(event: Event) -> list[list[object]]:
    """A file to start from: the columns this event reads, and one person as an example
    (a supplier on a Meet-your-Buyer dialogue, where the supplier's columns are asked)."""
    columns: list[object] = ["name", "email", "organisation", "organisation_kind", "country",
                             "job_title", "language"]
    person: list[object] = ["Ana Silva", "ana.silva@lisboa.example.pt", "Câmara Municipal de Lisboa",
              OrganisationKind.PUBLIC_AUTHORITY.value, "PT", "Procurement officer", "en"]
    if event.kind == EventKind.MEET_YOUR_BUYER:
        columns += ["company", "sector", "offer_note"]
        person[2:4] = ["Circular IT Ltd", OrganisationKind.SUPPLIER.value]
        person += ["Circular IT Ltd", "Refurbished laptops", "Laptops refurbished in the EU."]
    if any(s.mode != SessionMode.ONLINE for s in event.sessions):
        columns.append("access_note")
        person.append("")
    if is_hybrid(event):
        columns.append("attendance")
        person.append(Attendance.IN_PERSON.value)
    return [columns, person]


def _text(data: bytes) -> str:
    try:
        return data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return data.decode("cp1252", errors="replace")


def _column_name(heading: str) -> str:
    return "_".join(heading.strip().lower().replace("-", " ").split())


def _column(heading: str) -> str:
    """The column a heading names, under our name for it."""
    name = _column_name(heading)
    return ALIASES.get(name, name)


def _choice(kinds: type[Kind], value: str, column: str, line: int,
            problems: list[RowProblem]) -> Kind | None:
    """The value of one of the columns that take a fixed word (`public_authority`)."""
    typed = _column_name(value)
    if not typed:
        return None
    found = next((kind for kind in kinds if kind.value == typed), None)
    if found is None:
        problems.append(RowProblem(line, column, _("Use one of: %(values)s.") % {
            "values": ", ".join(kind.value for kind in kinds)}))
    return found


def read_rows(data: bytes, *, language: str) -> tuple[list[ImportRow], list[RowProblem]]:
    """The people of a CSV file, and what is wrong with its form (a missing column, a value
    not among those allowed, too many lines); `language` for those without one."""
    if len(data) > MAX_BYTES:
        return [], [RowProblem(0, "", _("The file is larger than %(size)s KB: split it.")
                               % {"size": MAX_BYTES // 1024})]
    text = _text(data)
    first = text.split("\n", 1)[0]
    delimiter = max((";", "\t", ","), key=first.count)
    reader = csv.reader(io.StringIO(text, newline=""), delimiter=delimiter)
    try:
        read = list(reader)
    except csv.Error:
        return [], [RowProblem(0, "", _("This is not a CSV file we can read: save the "
                                        "spreadsheet as CSV."))]
    lines = [(number, cells) for number, cells in enumerate(read, start=1)
             if any(cell.strip() for cell in cells)]
    if not lines:
        return [], [RowProblem(0, "", _("The file is empty: its first line names the columns, "
                                        "each next line is one person."))]
    header_line, header = lines[0]
    columns = [_column(heading) for heading in header]
    missing = [column for column in REQUIRED_COLUMNS if column not in columns]
    if missing:
        return [], [RowProblem(header_line, column, _(
            "The first line must name this column.")) for column in missing]
    people = lines[1:]
    if not people:
        return [], [RowProblem(0, "", _("The file names its columns but lists nobody."))]
    if len(people) > MAX_ROWS:
        return [], [RowProblem(0, "", _("At most %(count)s people at once: split the file.")
                               % {"count": MAX_ROWS})]
    rows: list[ImportRow] = []
    problems: list[RowProblem] = []
    for line, cells in people:
        values = {column: cells[index].strip()[:_LIMIT] if index < len(cells) else ""
                  for index, column in enumerate(columns) if column in COLUMNS}
        kind = _choice(OrganisationKind, values.get("organisation_kind", ""),
                       "organisation_kind", line, problems)
        attendance = _choice(Attendance, values.get("attendance", ""), "attendance", line,
                             problems)
        reads = values.get("language", "").lower() or language
        if reads not in LANGUAGES:
            problems.append(RowProblem(line, "language", _("Use one of: %(values)s.")
                                       % {"values": ", ".join(LANGUAGES)}))
            reads = language
        rows.append(ImportRow(line, RegistrationForm(
            name=values.get("name", ""), email=values.get("email", ""), consent=True,
            organisation_name=values.get("organisation", ""), organisation_kind=kind,
            country=values.get("country") or None, job_title=values.get("job_title") or None,
            access_note=values.get("access_note") or None,
            company=values.get("company") or None, sector=values.get("sector") or None,
            offer_note=values.get("offer_note") or None, attendance=attendance,
            language=reads)))
    return rows, problems


async def check_rows(db: AsyncSession, event: Event, rows: Sequence[ImportRow]
                     ) -> list[RowProblem]:
    """Every rule each person breaks for this event (the form's, the event's, an address
    twice in the file or registered already), by line and column."""
    problems = []
    first_line: dict[str, int] = {}
    for row in rows:
        for problem in form_problems(row.form, event):
            problems.append(RowProblem(row.line, _COLUMN_OF.get(problem.field or "", ""),
                                       problem.message))
        key = normalise_email(row.form.email)
        if key and key in first_line:
            problems.append(RowProblem(row.line, "email", _(
                "This address is on line %(line)s already.") % {"line": first_line[key]}))
        first_line.setdefault(key, row.line)
    registered = await registered_addresses(db, event, [key for key in first_line if key])
    for row in rows:
        if normalise_email(row.form.email) in registered:
            problems.append(RowProblem(row.line, "email", _(
                "This address is registered for this event already.")))
    return sorted(problems, key=lambda problem: problem.line)


def merged(*found: Sequence[RowProblem]) -> list[RowProblem]:
    """Problems found by `read_rows` and `check_rows` as one list, by line, one a column."""
    seen: set[tuple[int, str]] = set()
    problems = []
    for problem in sorted((p for problems in found for p in problems), key=lambda p: p.line):
        if (problem.line, problem.column) not in seen or not problem.column:
            seen.add((problem.line, problem.column))
            problems.append(problem)
    return problems


async def import_rows(db: AsyncSession, event: Event, rows: Sequence[ImportRow], *,
                      now: datetime, settings: Settings) -> list[RegistrationOutcome]:
    """Register each person (checked by `check_rows` first), in the file's order."""
    return [await register_on_behalf(db, event.slug, row.form, now=now, settings=settings)
            for row in rows]
