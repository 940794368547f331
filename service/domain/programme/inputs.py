"""What organisers send to build the programme: the typed input of every programme command.

The limits here (types, lengths, no control characters) are the first line of defence: the
API decodes requests straight into these shapes, so bad input is refused with the field
named before any programme rule runs. Update shapes leave a field UNSET when it was not
sent (unchanged) and None when it was sent as null (cleared). No web framework here.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from service.db.models import (
    AgendaItemKind,
    EventKind,
    NetworkStanding,
    OrganisationKind,
    SessionMode,
)
from service.i18n import DEFAULT_LANGUAGE, LANGUAGES

from .checks import MAX_PLACES

# No C0 control characters but tab and newline (which single-line fields also refuse).
_ONE_LINE = r"^[^\x00-\x1f\x7f]*$"
_MULTI_LINE = r"^[^\x00-\x08\x0b\x0c\x0e-\x1f\x7f]*$"

Id = Annotated[int, Meta(ge=1, le=2_147_483_647)]
# One of the languages the service speaks (service.i18n.LANGUAGES).
LanguageCode = Annotated[str, Meta(pattern="^(" + "|".join(LANGUAGES) + ")$")]
Title = Annotated[str, Meta(min_length=1, max_length=300, pattern=_ONE_LINE)]
Name = Annotated[str, Meta(min_length=1, max_length=200, pattern=_ONE_LINE)]
Line = Annotated[str, Meta(max_length=300, pattern=_ONE_LINE)]
# As long as their columns allow.
VenueName = Annotated[str, Meta(max_length=200, pattern=_ONE_LINE)]
City = Annotated[str, Meta(max_length=120, pattern=_ONE_LINE)]
Summary = Annotated[str, Meta(max_length=2_000, pattern=_MULTI_LINE)]
Description = Annotated[str, Meta(max_length=20_000, pattern=_MULTI_LINE)]
RegistrantNote = Annotated[str, Meta(max_length=4_000, pattern=_MULTI_LINE)]
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
Website = Annotated[str, Meta(max_length=500, pattern=r"^https?://[^\s\x00-\x1f\x7f]+$")]
Country = Annotated[str, Meta(min_length=2, max_length=2, pattern=r"^[A-Za-z]{2}$")]
Places = Annotated[int, Meta(ge=1, le=MAX_PLACES)]
OffsetMinutes = Annotated[int, Meta(ge=1, le=86_400)]
ReminderOffsets = Annotated[list[OffsetMinutes], Meta(max_length=10)]
AgendaTitle = Annotated[str, Meta(min_length=1, max_length=500, pattern=_ONE_LINE)]
# A language a text is given in ("de"); which ones are checked by the translations' rules,
# so that a refusal names the field (`translations.xx.title`).
TranslationLanguage = Annotated[str, Meta(min_length=2, max_length=8, pattern=r"^[a-z]{2}$")]
# {"de": {"title": "...", "summary": "..."}}: texts in other languages than the event's own
# (service/domain/programme/translations.py); "" or null removes one.
Translations = Annotated[
    dict[TranslationLanguage, Annotated[dict[Annotated[str, Meta(max_length=20)],
                                      Annotated[str, Meta(max_length=20_001)] | None],
                                 Meta(max_length=3)]],
    Meta(max_length=6, description="Texts per language other than the event's default: "
         '{"de": {"title": "..."}}; an empty text or null removes one.'),
]


class Input(Struct, forbid_unknown_fields=True, kw_only=True):
    pass


class OrganisationCreate(Input):
    name: Name
    kind: OrganisationKind
    country: Country | None = None
    website: Website | None = None
    standing: NetworkStanding = NetworkStanding.NONE


class OrganisationUpdate(Input):
    name: Name | UnsetType = UNSET
    kind: OrganisationKind | UnsetType = UNSET
    country: Country | UnsetType | None = UNSET
    website: Website | UnsetType | None = UNSET
    standing: NetworkStanding | UnsetType = UNSET


class PersonCreate(Input):
    name: Name
    email: Email | None = None
    job_title: Name | None = None
    organisation_id: Id | None = None
    # The language of every email to them (slot notices, links).
    language: LanguageCode = DEFAULT_LANGUAGE


class PersonUpdate(Input):
    name: Name | UnsetType = UNSET
    email: Email | UnsetType | None = UNSET
    job_title: Name | UnsetType | None = UNSET
    organisation_id: Id | UnsetType | None = UNSET
    language: LanguageCode | UnsetType = UNSET


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
    # Double opt-in: a registration counts only once its address is confirmed by a link.
    is_address_confirmation_required: bool = False
    venue_name: VenueName | None = None
    venue_address: Line | None = None
    venue_city: City | None = None
    venue_country: Country | None = None
    contact_email: Email | None = None
    registrant_note: RegistrantNote = ""
    reminder_offsets_minutes: ReminderOffsets | None = None
    is_sample_data: bool = False
    default_language: LanguageCode = "en"
    translations: Translations | UnsetType = UNSET


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
    is_address_confirmation_required: bool | UnsetType = UNSET
    venue_name: VenueName | UnsetType | None = UNSET
    venue_address: Line | UnsetType | None = UNSET
    venue_city: City | UnsetType | None = UNSET
    venue_country: Country | UnsetType | None = UNSET
    contact_email: Email | UnsetType | None = UNSET
    registrant_note: RegistrantNote | UnsetType = UNSET
    reminder_offsets_minutes: ReminderOffsets | UnsetType | None = UNSET
    is_sample_data: bool | UnsetType = UNSET
    default_language: LanguageCode | UnsetType = UNSET
    translations: Translations | UnsetType = UNSET


class SessionCreate(Input):
    title: Title
    starts_at: TimeText
    ends_at: TimeText
    mode: SessionMode = SessionMode.ONLINE
    description: Description = ""
    join_url: Url | None = None
    capacity: Places | None = None
    translations: Translations | UnsetType = UNSET


class SessionUpdate(Input):
    title: Title | UnsetType = UNSET
    starts_at: TimeText | UnsetType = UNSET
    ends_at: TimeText | UnsetType = UNSET
    mode: SessionMode | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    join_url: Url | UnsetType | None = UNSET
    capacity: Places | UnsetType | None = UNSET
    translations: Translations | UnsetType = UNSET


class SpeakerRef(Input):
    person_id: Id
    organisation_id: Id | None = None


class AgendaItemCreate(Input):
    title: AgendaTitle
    starts_at: TimeText
    ends_at: TimeText
    kind: AgendaItemKind = AgendaItemKind.TALK
    description: Description = ""
    speakers: Annotated[list[SpeakerRef], Meta(max_length=20)] = []
    translations: Translations | UnsetType = UNSET


class AgendaItemUpdate(Input):
    title: AgendaTitle | UnsetType = UNSET
    starts_at: TimeText | UnsetType = UNSET
    ends_at: TimeText | UnsetType = UNSET
    kind: AgendaItemKind | UnsetType = UNSET
    description: Description | UnsetType = UNSET
    speakers: Annotated[list[SpeakerRef], Meta(max_length=20)] | UnsetType = UNSET
    translations: Translations | UnsetType = UNSET


class MaterialIn(Input):
    """A link to share with a session; without a title, its address is its title."""

    url: Annotated[str, Meta(max_length=1_000)]  # checked by `materials.check_materials`
    title: Line = ""


class MaterialsIn(Input):
    """A session's materials, each list in its order: the stored lists are replaced whole."""

    public: list[MaterialIn] = []
    for_registrants: list[MaterialIn] = []


class FeedbackQuestionIn(Input):
    """One of the event's own feedback questions (`programme.feedback_questions`): with the
    `id` of a stored one to keep it (its answers stay), without for a new one; `kind`
    `rating` (1 to 5), `text`, or `choice` (one of its `choices`, in order)."""

    text: Annotated[str, Meta(max_length=501)]  # checked by `set_questions`
    kind: Annotated[str, Meta(max_length=20)]
    required: bool = False
    id: Id | None = None
    choices: Annotated[list[Annotated[str, Meta(max_length=201)]], Meta(max_length=11)] = []


class FeedbackQuestionsIn(Input):
    """The event's own feedback questions, in order: the stored list is replaced whole."""

    questions: Annotated[list[FeedbackQuestionIn], Meta(max_length=50)]


class AttendanceReportIn(Input):
    """An online session's attendee report as the webinar tool exports it (every address in
    it is read): `registration.attendance_lists`."""

    report: Annotated[str, Meta(min_length=1, max_length=500_000)]
