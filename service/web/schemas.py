"""The JSON shapes of the API: what organisers send and what everybody reads.

What organisers send is the programme's own typed input (service/domain/programme/inputs.py,
with its limits: the first line of defence), named here beside the read shapes. Public read
shapes never have a field for join links or email addresses; organiser shapes extend them.
"""

from __future__ import annotations

from datetime import date

from msgspec import Struct

from service.db.models import (
    AgendaItemKind,
    EventKind,
    EventStatus,
    NetworkStanding,
    OrganisationKind,
    QuestionKind,
    SessionMode,
    SessionStatus,
)
from service.domain.programme.inputs import AgendaItemCreate as AgendaItemCreate
from service.domain.programme.inputs import AgendaItemUpdate as AgendaItemUpdate
from service.domain.programme.inputs import AttendanceReportIn as AttendanceReportIn
from service.domain.programme.inputs import Country as Country
from service.domain.programme.inputs import Description as Description
from service.domain.programme.inputs import Email as Email
from service.domain.programme.inputs import EventCreate as EventCreate
from service.domain.programme.inputs import EventUpdate as EventUpdate
from service.domain.programme.inputs import FeedbackQuestionsIn as FeedbackQuestionsIn
from service.domain.programme.inputs import Id as Id
from service.domain.programme.inputs import Input as Input
from service.domain.programme.inputs import Line as Line
from service.domain.programme.inputs import MaterialIn as MaterialIn
from service.domain.programme.inputs import MaterialsIn as MaterialsIn
from service.domain.programme.inputs import Name as Name
from service.domain.programme.inputs import OffsetMinutes as OffsetMinutes
from service.domain.programme.inputs import OrganisationCreate as OrganisationCreate
from service.domain.programme.inputs import OrganisationUpdate as OrganisationUpdate
from service.domain.programme.inputs import PersonCreate as PersonCreate
from service.domain.programme.inputs import PersonUpdate as PersonUpdate
from service.domain.programme.inputs import Places as Places
from service.domain.programme.inputs import SessionCreate as SessionCreate
from service.domain.programme.inputs import SessionUpdate as SessionUpdate
from service.domain.programme.inputs import Slug as Slug
from service.domain.programme.inputs import SpeakerRef as SpeakerRef
from service.domain.programme.inputs import Summary as Summary
from service.domain.programme.inputs import TimeText as TimeText
from service.domain.programme.inputs import Title as Title
from service.domain.programme.inputs import Url as Url
from service.domain.programme.inputs import ZoneName as ZoneName


class EventCopyIn(Input):
    """A copy of an event (`programme.copy_event`): its title, its first session's day
    (required when the event has sessions), its address (None: from the title), and
    whether its speakers come along."""

    title: Title
    first_day: date | None = None
    slug: Slug | None = None
    keeps_speakers: bool = False


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


class OrganiserOrganisationOut(OrganisationOut):
    # The organisation's standing in the network (who may join Interest Groups).
    standing: NetworkStanding


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


class MaterialOut(Struct):
    """A link shared with a session for everyone (slides, a report); its title in the
    language asked for where translated."""

    title: str
    url: str


class AttendanceRecordedOut(Struct):
    """What a pasted report did: who now counts as having attended (by name), how many
    already did, and the addresses of no registrant of the session."""

    marked: list[str]
    already: int
    unknown: list[str]


class MaterialsOut(Struct):
    public: list[MaterialOut]
    for_registrants: list[MaterialOut]


class FeedbackQuestionOut(Struct):
    id: int
    text: str
    kind: QuestionKind
    required: bool
    choices: list[str]  # a choice question's, in order (empty for the other kinds)


class FeedbackQuestionsOut(Struct):
    questions: list[FeedbackQuestionOut]


class PublicSessionOut(SessionOut):
    """A published session with one-click "add to calendar" links (no join link in them)."""

    google_calendar_url: str
    outlook_calendar_url: str
    materials: list[MaterialOut] = []


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
    # The texts (title, summary, description, sessions' and agenda items' titles and
    # descriptions) are in the language asked for (`?lang=`, Accept-Language) where the
    # organisers translated them, else in the event's own: `language` is the title's,
    # `default_language` the event's.
    language: str
    default_language: str


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
    # The title in other languages than the event's default: {"de": {"title": "..."}}.
    translations: dict[str, dict[str, str]] = {}


class OrganiserAgendaItemOut(AgendaItemOut):
    # The title in other languages than the event's default: {"de": {"title": "..."}}.
    translations: dict[str, dict[str, str]] = {}


class OrganiserEventOut(EventOut):
    sessions: list[OrganiserSessionOut]  # type: ignore[assignment]  # adds private fields
    contact_email: str | None
    # What registrants need to know: in their emails and private page, never public.
    registrant_note: str
    is_address_confirmation_required: bool
    reminder_offsets_minutes: list[int] | None
    created_at: str
    updated_at: str
    published_at: str | None
    # The texts in other languages than the event's default.
    translations: dict[str, dict[str, str]] = {}


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
