"""JSON shapes of registrations: the public form, the registrant's private view, organisers' lists.

Limits are the first line of defence (lengths, no control characters, at most 100 sessions);
the domain applies the rules of the event. The public receipt (under /api/events/...) has no
field for join links or email addresses; the private view (reached with the registrant's
token) and the organiser shapes do.
"""

from __future__ import annotations

from typing import Annotated

from msgspec import UNSET, Meta, Struct, UnsetType

from service.db.models import (
    Attendance,
    EnrolmentStatus,
    EventKind,
    OrganisationKind,
    OutboxStatus,
    QuestionKind,
    RegistrationStatus,
    SessionMode,
    SessionStatus,
)
from service.web.schemas import (
    Country,
    Email,
    Id,
    Input,
    MaterialOut,
    Name,
    Summary,
    TimeOut,
)

# One line of at most 200 characters (the database's limit for these fields), may be empty.
ShortLine = Annotated[str, Meta(max_length=200, pattern=r"^[^\x00-\x1f\x7f]*$")]
SessionIds = Annotated[list[Id], Meta(max_length=100)]


# --- input ---------------------------------------------------------------------------------


class RegistrationCreate(Input):
    """The public registration form. Leave out `session_ids` to register for the whole event."""

    name: Name
    email: Email
    # Defaults to false so that leaving it out is answered by the consent rule (422, "consent").
    consent: bool = False
    organisation_name: ShortLine = ""
    organisation_kind: OrganisationKind | None = None
    country: Country | None = None
    job_title: ShortLine | None = None
    access_note: Summary | None = None
    company: ShortLine | None = None
    sector: ShortLine | None = None
    offer_note: Summary | None = None
    session_ids: SessionIds | None = None
    # Hybrid events: whether the registrant comes in person or follows online.
    attendance: Attendance | None = None
    # The version of the privacy notice (/privacy, /api/privacy-notice) the person was shown
    # and consents to; left out: the current one.
    privacy_notice_version_id: Id | None = None
    # Optional and separate: "keep me informed of future events".
    keep_informed: bool = False
    # The language every email to the registrant is written in: en, de, fr, es, it or nl;
    # left out: the request's language (`?lang=`, then Accept-Language).
    language: str | None = None


class DetailsIn(Input):
    """What a registrant changes about themselves; a field left out is kept, null clears it.
    On a Meet-your-Buyer dialogue a supplier's organisation is their company."""

    name: Name | UnsetType = UNSET
    organisation_name: ShortLine | UnsetType | None = UNSET
    job_title: ShortLine | UnsetType | None = UNSET
    access_note: Summary | UnsetType | None = UNSET
    sector: ShortLine | UnsetType | None = UNSET
    offer_note: Summary | UnsetType | None = UNSET
    attendance: Attendance | UnsetType | None = UNSET


class LinkRequestIn(Input):
    """Ask for one's private link again; it is emailed to this address if registered."""

    email: Email


class LinkRequestOut(Struct):
    detail: str


class SessionChoiceIn(Input):
    session_ids: Annotated[list[Id], Meta(min_length=1, max_length=100)]


class ApproveIn(Input):
    # A message from the organisers, in the approval email (typed in the person's language).
    note: Summary | None = None


class DeclineIn(Input):
    reason: Summary | None = None


class CheckInIn(Input):
    # False takes a check-in back (pressed on the wrong line; without a session, every one).
    present: bool = True
    # Which session's door; without it, the session under way (or the registrant's only one).
    session_id: Id | None = None


# --- output --------------------------------------------------------------------------------


class ReceiptSessionOut(Struct):
    id: int
    title: str
    status: EnrolmentStatus


class RegistrationReceiptOut(Struct):
    """The answer to the public form. For an address already registered it says only that."""

    is_new: bool
    event_slug: str
    detail: str
    status: RegistrationStatus | None
    waiting_position: int | None
    sessions: list[ReceiptSessionOut]
    # Only for a new registration: the registrant's private page (also in their email).
    manage_url: str | None


class RegistrationEventOut(Struct):
    slug: str
    title: str
    kind: EventKind
    timezone: str
    url: str
    # What registrants need to know (the organisers' note), in the reader's language.
    registrant_note: str = ""


class RegistrationSessionOut(Struct):
    id: int
    title: str
    status: EnrolmentStatus
    session_status: SessionStatus
    mode: SessionMode
    starts: TimeOut
    ends: TimeOut
    # Only while the registrant has a confirmed place in an online or hybrid session.
    join_url: str | None
    # Checked in at the session's door, or on its attendance list (UTC).
    attended_at: str | None = None
    # Shared with the session: those for everyone, and those for registrants only while the
    # registrant holds a place in it.
    materials: list[MaterialOut] = []


class RegistrantFieldsOut(Struct, kw_only=True):
    """What the registrant told us and where they stand: shown to them and to organisers."""

    status: RegistrationStatus
    waiting_position: int | None
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
    attendance: Attendance | None
    is_whole_event: bool
    consent_at: str
    # The privacy notice version consented to (None: registered before versions were kept),
    # and when the optional "keep me informed of future events" consent was given.
    privacy_notice_version_id: int | None = None
    keep_informed_at: str | None = None


class RegistrationOut(RegistrantFieldsOut, kw_only=True):
    """The registrant's own view, reached with their private link."""

    created_at: str
    event: RegistrationEventOut
    sessions: list[RegistrationSessionOut]
    manage_url: str
    feed_url: str
    invite_url: str


class EnrolmentOut(Struct):
    session_id: int
    title: str
    status: EnrolmentStatus
    checked_in_at: str | None  # at this session's door (UTC)


class OrganiserRegistrationOut(RegistrantFieldsOut, kw_only=True):
    id: int
    event_id: int
    waiting_since: str | None
    # Events that ask registrants to confirm their address: when they did; and while they
    # have not (status "unconfirmed", listed only when asked for), when the request lapses.
    address_confirmed_at: str | None
    confirmation_expires_at: str | None
    decided_at: str | None
    cancelled_at: str | None
    # When an organiser checked them in at the door (None: not, or taken back).
    checked_in_at: str | None
    created_at: str
    updated_at: str
    sessions: list[EnrolmentOut]


class EmailHistoryOut(Struct):
    id: int
    template: str
    subject: str
    to_address: str
    status: OutboxStatus
    attempts: int
    last_error: str | None
    created_at: str
    next_attempt_at: str
    sent_at: str | None


class FeedbackIn(Input):
    """A registrant's feedback on one session that is over: `rating` 1 (not useful) to 5
    (extremely useful); the two comments optional, at most 4,000 characters each; `answers`
    to the event's own questions by question id (`{"12": 4, "13": "More case studies"}`:
    a rating 1 to 5, or words), those left out not answered."""

    session_id: int
    rating: int
    most_useful: str = ""
    to_improve: str = ""
    answers: Annotated[dict[Annotated[int, Meta(ge=1, le=2_147_483_647)],
                            int | Annotated[str, Meta(max_length=4_001)]],
                       Meta(max_length=20)] = {}


class FeedbackQuestionOut(Struct):
    """One of the event's own questions: answered with a `rating` (1 lowest to 5 highest),
    in `text`, or by a `choice`'s number (1 for the first of `choices`)."""

    id: int
    text: str
    kind: QuestionKind
    required: bool
    choices: list[str]  # in the reader's language where translated; empty but for a choice


class SessionFeedbackOut(Struct):
    """One session feedback is asked about; the answer's fields null or empty until given."""

    session_id: int
    title: str
    rating: int | None
    most_useful: str
    to_improve: str
    given_at: str | None
    updated_at: str | None
    # To the event's own questions, by question id: a rating, a choice's number, or words.
    answers: dict[int, int | str]


class FeedbackOut(Struct):
    """`asked`: whether feedback is asked of them now (a session of theirs is over);
    `questions`: the event's own questions, asked with the fixed ones; `sessions`: each
    session asked about, earliest first, with their answer."""

    asked: bool
    questions: list[FeedbackQuestionOut]
    sessions: list[SessionFeedbackOut]
