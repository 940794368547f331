"""The JSON shapes of the API: what organisers send and what everybody reads.

Limits here are the first line of defence (types, lengths, no control characters) so bad
input is refused with the field named before any domain rule runs. Public read shapes
never have a field for join links or email addresses; organiser shapes extend them.
"""

from __future__ import annotations

from typing import Annotated

import msgspec
from msgspec import UNSET, Meta, Struct, UnsetType

from service.db.models import (
    AgendaItemKind,
    EventKind,
    EventStatus,
    OrganisationKind,
    SessionMode,
    SessionStatus,
)

# No C0 control characters but tab and newline (which single-line fields also refuse).
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
Title = Annotated[str, Meta(min_length=1, max_length=300, pattern=_ONE_LINE)]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=_ONE_LINE)]
Line = Annotated[str, Meta(max_length=300, pattern=_ONE_LINE)]
Summary = Annotated[str, Meta(max_length=2_000, pattern=_MULTI_LINE)]
Description = Annotated[str, Meta(max_length=20_000, pattern=_MULTI_LINE)]
Slug = Annotated[str, Meta(min_length=1, max_length=120, pattern=r"^[a-z0-9]+(?:-[a-z0-9]+)*$")]
ZoneName = Annotated[str, Meta(min_length=1, max_length=64, pattern=r"^[A-Za-z0-9_+\-/]+$")]
TimeText = Annotated[
    str,
    Meta(
        min_length=4,
        max_length=40,
        pattern=r"^[0-9T:+\-.Z ]+$",
        description="ISO 8601 with an offset, a wall time in the event's zone "
        "(2020-11-09T10:10), or for agenda items just HH:MM on the session's date.",
    ),
]
_EMAIL_PART = r"[^@\s\x00-\x1f\x7f]+"
Email = Annotated[str, Meta(max_length=320, pattern=rf"^{_EMAIL_PART}@{_EMAIL_PART}\.{_EMAIL_PART}$")]
Url = Annotated[str, Meta(max_length=1_000, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$")]
Country = Annotated[str, Meta(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")]
Places = Annotated[int, Meta(ge=1, le=100_000)]
OffsetMinutes = Annotated[int, Meta(ge=1, le=86_400)]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


def provided(data: Struct) -> dict[str, object]:
    """The fields a PATCH actually sent (UNSET ones left out), as plain values."""
    return {
        name: value
        for name, value in msgspec.structs.asdict(data).items()
        if value is not UNSET
    }


def agenda_fields(data: AgendaItemCreate | AgendaItemUpdate) -> dict[str, object]:
    """Like `provided`, with speaker references as plain mappings for the domain."""
    fields = provided(data)
    if isinstance(data.speakers, list):
        fields["speakers"] = [msgspec.structs.asdict(s) for s in data.speakers]
    return fields


# --- input ---------------------------------------------------------------------------------


class OrganisationCreate(Input):
    name: Name
    kind: OrganisationKind
    country: Country | None = None
    website: Url | None = None


class OrganisationUpdate(Input):
    name: Name | UnsetType = UNSET
    kind: OrganisationKind | UnsetType = UNSET
    country: Country | UnsetType | None = UNSET
    website: Url | UnsetType | None = UNSET


class PersonCreate(Input):
    name: Name
    email: Email | None = None
    job_title: Name | None = None
    organisation_id: Id | None = None


class PersonUpdate(Input):
    name: Name | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    job_title: Name | UnsetType | None = UNSET
    organisation_id: Id | UnsetType | None = UNSET


class EventCreate(Input):
    kind: EventKind
    title: Title
    slug: Slug | None = None
    summary: Summary = ""
    description: Description = ""
    timezone: ZoneName = "Europe/Brussels"
    host_organisation_id: Id | None = None
    registration_opens_at: TimeText | None = None
    registration_closes_at: TimeText | None = None
    capacity: Places | None = None
    is_approval_required: bool = False
    allows_session_choice: bool = False
    venue_name: Line | None = None
    venue_address: Line | None = None
    venue_city: Line | None = None
    venue_country: Country | None = None
    contact_email: Email | None = None
    reminder_offsets_minutes: Annotated[list[OffsetMinutes], Meta(max_length=10)] | None = None
    is_sample_data: bool = False


class EventUpdate(Input):
    kind: EventKind | UnsetType = UNSET
    title: Title | UnsetType = UNSET
    slug: Slug | UnsetType = UNSET
    summary: Summary | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    timezone: ZoneName | UnsetType = UNSET
    host_organisation_id: Id | UnsetType | None = UNSET
    registration_opens_at: TimeText | UnsetType | None = UNSET
    registration_closes_at: TimeText | UnsetType | None = UNSET
    capacity: Places | UnsetType | None = UNSET
    is_approval_required: bool | UnsetType = UNSET
    allows_session_choice: bool | UnsetType = UNSET
    venue_name: Line | UnsetType | None = UNSET
    venue_address: Line | UnsetType | None = UNSET
    venue_city: Line | UnsetType | None = UNSET
    venue_country: Country | UnsetType | None = UNSET
    contact_email: Email | UnsetType | None = UNSET
    reminder_offsets_minutes: (
        Annotated[list[OffsetMinutes], Meta(max_length=10)] | UnsetType | None
    ) = UNSET
    is_sample_data: bool | UnsetType = UNSET


class SessionCreate(Input):
    title: Title
    starts_at: TimeText
    ends_at: TimeText
    mode: SessionMode = SessionMode.ONLINE
    description: Description = ""
    join_url: Url | None = None
    capacity: Places | None = None


class SessionUpdate(Input):
    title: Title | UnsetType = UNSET
    starts_at: TimeText | UnsetType = UNSET
    ends_at: TimeText | UnsetType = UNSET
    mode: SessionMode | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    join_url: Url | UnsetType | None = UNSET
    capacity: Places | UnsetType | None = UNSET


class SpeakerRef(Input):
    person_id: Id
    organisation_id: Id | None = None


class AgendaItemCreate(Input):
    title: Annotated[str, Meta(min_length=1, max_length=500, pattern=_ONE_LINE)]
    starts_at: TimeText
    ends_at: TimeText
    kind: AgendaItemKind = AgendaItemKind.TALK
    description: Description = ""
    speakers: Annotated[list[SpeakerRef], Meta(max_length=20)] = []


class AgendaItemUpdate(Input):
    title: Annotated[str, Meta(min_length=1, max_length=500, pattern=_ONE_LINE)] | UnsetType = UNSET
    starts_at: TimeText | UnsetType = UNSET
    ends_at: TimeText | UnsetType = UNSET
    kind: AgendaItemKind | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    speakers: Annotated[list[SpeakerRef], Meta(max_length=20)] | UnsetType = UNSET


# --- output --------------------------------------------------------------------------------


class TimeOut(Struct):
    """One instant: exact in UTC, and as the agenda shows it in the event's zone."""

    utc: str
    local: str
    zone: str
    abbreviation: str
    utc_offset: str


class OrganisationOut(Struct):
    id: int
    name: str
    kind: OrganisationKind
    country: str | None
    website: str | None


class SpeakerOut(Struct):
    person_id: int
    name: str
    job_title: str | None
    organisation: str | None
    organisation_id: int | None


class AgendaItemOut(Struct):
    id: int
    title: str
    kind: AgendaItemKind
    description: str
    starts: TimeOut
    ends: TimeOut
    speakers: list[SpeakerOut]


class SessionOut(Struct):
    id: int
    title: str
    description: str
    mode: SessionMode
    status: SessionStatus
    starts: TimeOut
    ends: TimeOut
    capacity: int | None
    agenda: list[AgendaItemOut]
    ics_url: str


class PublicSessionOut(SessionOut):
    """A published session with one-click "add to calendar" links (no join link in them)."""

    google_calendar_url: str
    outlook_calendar_url: str


class VenueOut(Struct):
    name: str | None
    address: str | None
    city: str | None
    country: str | None


class EventSummaryOut(Struct):
    id: int
    kind: EventKind
    title: str
    slug: str
    summary: str
    status: EventStatus
    timezone: str
    starts: TimeOut | None
    ends: TimeOut | None
    host: OrganisationOut | None
    venue: VenueOut | None
    is_sample_data: bool
    url: str


class EventOut(EventSummaryOut):
    description: str
    capacity: int | None
    is_approval_required: bool
    allows_session_choice: bool
    registration_opens: TimeOut | None
    registration_closes: TimeOut | None
    sessions: list[PublicSessionOut]
    feed_url: str
    webcal_url: str


class EventPageOut(Struct):
    items: list[EventSummaryOut]
    total: int
    page: int
    page_size: int


class OrganiserSessionOut(SessionOut):
    join_url: str | None
    sequence: int
    event_id: int


class OrganiserEventOut(EventOut):
    sessions: list[OrganiserSessionOut]  # type: ignore[assignment]  # adds private fields
    contact_email: str | None
    reminder_offsets_minutes: list[int] | None
    created_at: str
    updated_at: str
    published_at: str | None


class PersonOut(Struct):
    id: int
    name: str
    email: str | None
    job_title: str | None
    organisation: OrganisationOut | None


class FieldError(Struct):
    field: str | None
    message: str


class ErrorOut(Struct):
    status_code: int
    detail: str
    errors: list[FieldError]


class RateLimitOut(Struct):
    name: str
    max_requests: int
    window_seconds: int
    retry_after_seconds: int


class RateLimitedOut(ErrorOut):
    """A 429: the error, and the limit that was reached (also in the Retry-After header)."""

    limit: RateLimitOut
