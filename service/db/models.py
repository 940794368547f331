"""The database tables of the whole product, in the organisers' words.

Instants are stored as aware UTC (`DateTimeUTC` refuses naive values); an event carries the
IANA zone its agenda is written in. Tables only: rules about what may change live in
`service.domain`, never here.
"""

from __future__ import annotations

import enum
from datetime import date, datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
    BigInteger,
    Boolean,
    Enum,
    ForeignKey,
    Index,
    Integer,
    LargeBinary,
    MetaData,
    String,
    Text,
    UniqueConstraint,
    text,
)
from sqlalchemy.orm import DeclarativeBase, Mapped, mapped_column, relationship

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_N_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


class Base(DeclarativeBase):
    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map = {datetime: DateTimeUTC(timezone=True), dict[str, Any]: JSON}


class OrganisationKind(enum.StrEnum):
    PUBLIC_AUTHORITY = "public_authority"
    SUPPLIER = "supplier"
    EXPERT_ORGANISATION = "expert_organisation"
    NETWORK = "network"
    OTHER = "other"


class EventKind(enum.StrEnum):
    SEMINAR = "seminar"
    WEBINAR_SERIES = "webinar_series"
    CITYMATCH = "citymatch"
    MEET_YOUR_BUYER = "meet_your_buyer"


class EventStatus(enum.StrEnum):
    DRAFT = "draft"
    PUBLISHED = "published"
    CANCELLED = "cancelled"


class SessionMode(enum.StrEnum):
    ONLINE = "online"
    IN_PERSON = "in_person"
    HYBRID = "hybrid"


class Attendance(enum.StrEnum):
    """How a registrant of a hybrid event takes part."""

    IN_PERSON = "in_person"
    ONLINE = "online"


class SessionStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


class AgendaItemKind(enum.StrEnum):
    WELCOME = "welcome"
    TALK = "talk"
    PANEL = "panel"
    BREAK = "break"
    QA = "qa"
    DISCUSSION = "discussion"
    SITE_VISIT = "site_visit"
    NETWORKING = "networking"
    CLOSING = "closing"
    OTHER = "other"


class RegistrationStatus(enum.StrEnum):
    PENDING = "pending"  # waiting for an organiser's approval
    CONFIRMED = "confirmed"
    WAITING = "waiting"  # on the event's waiting list
    DECLINED = "declined"
    CANCELLED = "cancelled"
    # Recorded, but the address is not confirmed yet (events that ask for it): holds no
    # place and no position, and nobody is emailed but the address, once, to confirm it.
    UNCONFIRMED = "unconfirmed"


class EnrolmentStatus(enum.StrEnum):
    CONFIRMED = "confirmed"
    WAITING = "waiting"  # on the session's waiting list
    CANCELLED = "cancelled"


class OutboxStatus(enum.StrEnum):
    # Recorded with its cause; the message itself is built by a job soon after the commit.
    COMPOSING = "composing"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    RETRY = "retry"
    FAILED = "failed"
    # Taken back before it was sent: what it said no longer holds.
    WITHDRAWN = "withdrawn"


class ReminderStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    SKIPPED = "skipped"
    CANCELLED = "cancelled"


class ChangeNoticeStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"


class ScheduledMessageStatus(enum.StrEnum):
    PENDING = "pending"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


class QuestionKind(enum.StrEnum):
    """How an organiser's own feedback question is answered."""

    RATING = "rating"  # 1 (lowest) to 5 (highest)
    TEXT = "text"  # in their own words
    CHOICE = "choice"  # one of the organiser's choices


class MessageTiming(enum.StrEnum):
    """What a scheduled message's time counts from, when it is not a fixed time: so long
    before the first session starts or after the last one ends (of its session, when it is
    written to one), so that it moves with the programme."""

    BEFORE_START = "before_start"
    AFTER_END = "after_end"


class AccessPurpose(enum.StrEnum):
    REGISTRATION_MANAGE = "registration_manage"
    REGISTRATION_FEED = "registration_feed"
    SPEAKER_PAGE = "speaker_page"
    SPEAKER_FEED = "speaker_feed"
    ORGANISER_FEED = "organiser_feed"
    # The single-use link that confirms a registrant's address (events that ask for it).
    ADDRESS_CONFIRMATION = "address_confirmation"
    # An Interest Group member's private page and personal feed.
    GROUP_MEMBER_PAGE = "group_member_page"
    GROUP_MEMBER_FEED = "group_member_feed"
    # The public link printed on a certificate of attendance, for whoever checks it.
    CERTIFICATE_CHECK = "certificate_check"


class AccountRole(enum.StrEnum):
    """What an organiser account (or an API token) may do."""

    ADMIN = "admin"  # everything, every team's events, and the accounts
    ORGANISER = "organiser"  # read and change the events of their teams
    VIEWER = "viewer"  # read only


class AccountLinkPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a secret)


class NetworkStanding(enum.StrEnum):
    """An organisation's place in the network: only participants and strategic partners
    may join an Interest Group."""

    PARTICIPANT = "participant"
    STRATEGIC_PARTNER = "strategic_partner"
    INFORMATION_SERVICE = "information_service"
    NONE = "none"


class GroupVisibility(enum.StrEnum):
    PUBLIC = "public"  # page, member organisations and meeting dates for everyone
    MEMBERS = "members"  # the group's name and topic public; the rest for members only


class GroupMemberStatus(enum.StrEnum):
    INTERESTED = "interested"  # expressed interest; the facilitator has not decided
    MEMBER = "member"
    DECLINED = "declined"
    LEFT = "left"


class MeetingStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    CANCELLED = "cancelled"


def _enum(kind: type[enum.Enum], length: int = 32) -> Any:
    return Enum(
        kind,
        native_enum=False,
        length=length,
        validate_strings=True,
        values_callable=lambda members: [m.value for m in members],
    )


class Organisation(Base):
    __tablename__ = "organisations"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    kind: Mapped[OrganisationKind] = mapped_column(_enum(OrganisationKind))
    country: Mapped[str | None] = mapped_column(String(2))
    website: Mapped[str | None] = mapped_column(String(500))
    standing: Mapped[NetworkStanding] = mapped_column(
        _enum(NetworkStanding), default=NetworkStanding.NONE, server_default="none"
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class Person(Base):
    """Someone the programme names: a speaker, a host, a public buyer."""

    __tablename__ = "persons"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str | None] = mapped_column(String(320))
    job_title: Mapped[str | None] = mapped_column(String(200))
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    # The language this person reads (service.i18n.LANGUAGES): every email to them is in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    organisation: Mapped[Organisation | None] = relationship(lazy="raise")


class Team(Base):
    """A programme team: its organisers edit its events. The default team (one per
    installation, made by the migration) owns every event that names no team."""

    __tablename__ = "teams"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200), unique=True)
    is_default: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]


class Event(Base):
    __tablename__ = "events"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # None: the default team's (see Team).
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    kind: Mapped[EventKind] = mapped_column(_enum(EventKind))
    title: Mapped[str] = mapped_column(String(300))
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    status: Mapped[EventStatus] = mapped_column(_enum(EventStatus), default=EventStatus.DRAFT)
    host_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    registration_opens_at: Mapped[datetime | None]
    registration_closes_at: Mapped[datetime | None]
    capacity: Mapped[int | None] = mapped_column(Integer)
    is_approval_required: Mapped[bool] = mapped_column(Boolean, default=False)
    allows_session_choice: Mapped[bool] = mapped_column(Boolean, default=False)
    # Double opt-in: a registration counts only once its address is confirmed by a link.
    is_address_confirmation_required: Mapped[bool] = mapped_column(Boolean, default=False)
    venue_name: Mapped[str | None] = mapped_column(String(200))
    venue_address: Mapped[str | None] = mapped_column(String(300))
    venue_city: Mapped[str | None] = mapped_column(String(120))
    venue_country: Mapped[str | None] = mapped_column(String(2))
    contact_email: Mapped[str | None] = mapped_column(String(320))
    # What registrants need to know (what to bring, how to find the room, how to test the
    # webinar tool): in their confirmation, their reminders and on their private page.
    registrant_note: Mapped[str] = mapped_column(Text, default="")
    # Minutes before each session; None means the default policy of the event's kind.
    reminder_offsets_minutes: Mapped[list[int] | None] = mapped_column(JSON)
    is_sample_data: Mapped[bool] = mapped_column(Boolean, default=False)
    # Months after the event ends that registrants' personal data is kept; None: the
    # installation's default (PROCURA_RETENTION_MONTHS). See service/domain/privacy.
    retention_months: Mapped[int | None] = mapped_column(Integer)
    published_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The language the event's own columns (title, summary, description, and its sessions'
    # and agenda items' titles and descriptions) are written in; other languages are
    # ContentTranslation rows.
    default_language: Mapped[str] = mapped_column(String(8), default="en",
                                                  server_default="en")

    host_organisation: Mapped[Organisation | None] = relationship(lazy="raise")
    # Every translation of the event's content (its sessions' and agenda items' too).
    content_translations: Mapped[list[ContentTranslation]] = relationship(
        lazy="raise", cascade="all, delete-orphan", passive_deletes=True,
        order_by="ContentTranslation.id",
    )
    sessions: Mapped[list[Session]] = relationship(
        back_populates="event",
        lazy="raise",
        order_by="Session.starts_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Session(Base):
    """One webinar of a series, one day of a seminar, one programme day of a visit."""

    __tablename__ = "sessions"
    __table_args__ = (Index("ix_sessions_event_starts", "event_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    description: Mapped[str] = mapped_column(Text, default="")
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    mode: Mapped[SessionMode] = mapped_column(_enum(SessionMode))
    join_url: Mapped[str | None] = mapped_column(String(1000))
    capacity: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[SessionStatus] = mapped_column(
        _enum(SessionStatus), default=SessionStatus.SCHEDULED
    )
    # iCalendar SEQUENCE: bumped only by changes of time, place or status.
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    event: Mapped[Event] = relationship(back_populates="sessions", lazy="raise")
    agenda_items: Mapped[list[AgendaItem]] = relationship(
        back_populates="session",
        lazy="raise",
        order_by="AgendaItem.starts_at",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class SessionMaterial(Base):
    """A link organisers share with a session: slides, a recording, a report. For everyone
    on the event page, or only for the people who hold a place in the session."""

    __tablename__ = "session_materials"
    __table_args__ = (Index("ix_session_materials_session", "session_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str] = mapped_column(String(1000))
    # Only for people holding a place in the session (a recording, say), never public.
    is_for_registrants: Mapped[bool] = mapped_column(Boolean, default=False)
    position: Mapped[int] = mapped_column(Integer, default=0)
    shared_at: Mapped[datetime]


class AgendaItem(Base):
    __tablename__ = "agenda_items"
    __table_args__ = (Index("ix_agenda_items_session_starts", "session_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]
    title: Mapped[str] = mapped_column(String(500))
    kind: Mapped[AgendaItemKind] = mapped_column(_enum(AgendaItemKind))
    description: Mapped[str] = mapped_column(Text, default="")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    session: Mapped[Session] = relationship(back_populates="agenda_items", lazy="raise")
    speakers: Mapped[list[AgendaItemSpeaker]] = relationship(
        back_populates="agenda_item",
        lazy="raise",
        order_by="AgendaItemSpeaker.position",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class AgendaItemSpeaker(Base):
    """A person speaking in an agenda item, for the organisation they represent there."""

    __tablename__ = "agenda_item_speakers"
    __table_args__ = (UniqueConstraint("agenda_item_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(ForeignKey("agenda_items.id", ondelete="CASCADE"))
    # Indexed: a speaker's feed and page look up their slots by person.
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL")
    )
    position: Mapped[int] = mapped_column(Integer, default=0)

    agenda_item: Mapped[AgendaItem] = relationship(back_populates="speakers", lazy="raise")
    person: Mapped[Person] = relationship(lazy="raise")
    organisation: Mapped[Organisation | None] = relationship(lazy="raise")


class ApiToken(Base):
    """An organiser's bearer token; only its SHA-256 is stored."""

    __tablename__ = "api_tokens"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[str] = mapped_column(String(32))  # an AccountRole value
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    # The team whose events the token may see and change; None: every team's.
    team_id: Mapped[int | None] = mapped_column(ForeignKey("teams.id", ondelete="SET NULL"))
    created_at: Mapped[datetime]
    last_used_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]


class Registration(Base):
    __tablename__ = "registrations"
    __table_args__ = (
        UniqueConstraint("event_id", "email_normalised"),
        Index("ix_registrations_event_status", "event_id", "status", "id"),
        Index("ix_registrations_event_created", "event_id", "created_at", "id"),
        # Only unconfirmed rows are in it: the expiry job's lookup costs other rows nothing.
        Index("ix_registrations_unconfirmed_expiry", "confirmation_expires_at",
              sqlite_where=text("status = 'unconfirmed'"),
              postgresql_where=text("status = 'unconfirmed'")),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    status: Mapped[RegistrationStatus] = mapped_column(_enum(RegistrationStatus))
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320))
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    organisation_kind: Mapped[OrganisationKind | None] = mapped_column(_enum(OrganisationKind))
    country: Mapped[str | None] = mapped_column(String(2))
    job_title: Mapped[str | None] = mapped_column(String(200))
    consent_at: Mapped[datetime]
    access_note: Mapped[str | None] = mapped_column(Text)  # accessibility or dietary needs
    # Meet-your-Buyer suppliers
    company: Mapped[str | None] = mapped_column(String(200))
    sector: Mapped[str | None] = mapped_column(String(200))
    offer_note: Mapped[str | None] = mapped_column(Text)
    # Hybrid events: in person or online, as the registrant chose (None for other events).
    attendance: Mapped[Attendance | None] = mapped_column(_enum(Attendance))
    is_whole_event: Mapped[bool] = mapped_column(Boolean, default=True)
    # Arrival order on the event's waiting list (None when not waiting).
    waiting_since: Mapped[datetime | None]
    decided_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    # When the registrant followed the emailed link (events that ask for it).
    address_confirmed_at: Mapped[datetime | None]
    # When an organiser first checked them in at a session's door (`Enrolment.checked_in_at`).
    checked_in_at: Mapped[datetime | None]
    # While unconfirmed: when the link lapses and the registration is deleted with it.
    confirmation_expires_at: Mapped[datetime | None]
    # Personal data removed (service/domain/privacy): `contact_erased_at` when the address,
    # notes and private links went (a Meet-your-Buyer record keeps name and organisation
    # until its longer term), `erased_at` when nothing identifying is left.
    contact_erased_at: Mapped[datetime | None]
    erased_at: Mapped[datetime | None]
    erasure_reason: Mapped[str | None] = mapped_column(String(100))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    # The exact privacy notice the registrant consented to at `consent_at` (None: registered
    # before notices were versioned). A version is never deleted while a registration has it.
    privacy_notice_version_id: Mapped[int | None] = mapped_column(
        ForeignKey("privacy_notices.id"), index=True)
    # The optional "keep me informed of future events" consent, apart from the event's own:
    # when it was given; None when not given or withdrawn.
    keep_informed_at: Mapped[datetime | None]
    # The language this person reads (service.i18n.LANGUAGES): every email to them is in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")

    event: Mapped[Event] = relationship(lazy="raise")
    enrolments: Mapped[list[Enrolment]] = relationship(
        back_populates="registration",
        lazy="raise",
        cascade="all, delete-orphan",
        passive_deletes=True,
    )


class Enrolment(Base):
    """A registration's place in one session (confirmed or waiting)."""

    __tablename__ = "enrolments"
    __table_args__ = (
        UniqueConstraint("registration_id", "session_id"),
        Index("ix_enrolments_session_status", "session_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE")
    )
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    status: Mapped[EnrolmentStatus] = mapped_column(_enum(EnrolmentStatus))
    # How far this registrant's copy of the session's invite is above the session's SEQUENCE
    # (shared with the feeds): raised when their place ends (the CANCEL outranks the
    # REQUEST) and when it comes back (the new REQUEST outranks the CANCEL).
    invite_sequence: Mapped[int] = mapped_column(Integer, default=0, server_default="0")
    # Arrived at this session's door (the registration's `checked_in_at` is the first of them).
    checked_in_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    registration: Mapped[Registration] = relationship(back_populates="enrolments", lazy="raise")
    session: Mapped[Session] = relationship(lazy="raise")


class Feedback(Base):
    """What a registrant thought of one session of the event, once it is over: how useful
    it was (1 to 5) and, optionally, what helped and what to change. One per registration
    and session, changed as often as they like; organisers read it without names."""

    __tablename__ = "feedback"
    __table_args__ = (UniqueConstraint("registration_id", "session_id"),
                      Index("ix_feedback_event", "event_id", "given_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"))
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    rating: Mapped[int] = mapped_column(Integer)
    most_useful: Mapped[str] = mapped_column(Text, default="")
    to_improve: Mapped[str] = mapped_column(Text, default="")
    given_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FeedbackQuestion(Base):
    """An organiser's own question, asked with the fixed ones about each session of the
    event ("Which topic should the next webinar cover?"), in the order of `position`."""

    __tablename__ = "feedback_questions"
    __table_args__ = (Index("ix_feedback_questions_event", "event_id", "position"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    position: Mapped[int] = mapped_column(Integer)
    text: Mapped[str] = mapped_column(String(500))
    kind: Mapped[QuestionKind] = mapped_column(_enum(QuestionKind))
    # A choice question's choices, one a line, in order ("Cloud services\nLaptops"; empty
    # for other kinds). Answers keep a choice's number: answered choices are reworded, never
    # removed.
    choices: Mapped[str] = mapped_column(Text, default="", server_default="")
    required: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class FeedbackAnswer(Base):
    """One answer to an organiser's own question, part of one feedback: a rating, a choice
    or words (erasing the registration blanks the words and keeps the rest)."""

    __tablename__ = "feedback_answers"
    __table_args__ = (UniqueConstraint("feedback_id", "question_id"),
                      Index("ix_feedback_answers_question", "question_id"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    feedback_id: Mapped[int] = mapped_column(ForeignKey("feedback.id", ondelete="CASCADE"))
    question_id: Mapped[int] = mapped_column(
        ForeignKey("feedback_questions.id", ondelete="CASCADE"))
    rating: Mapped[int | None] = mapped_column(Integer)
    choice: Mapped[int | None] = mapped_column(Integer)  # the choice's number, from 1
    text: Mapped[str] = mapped_column(Text, default="")


class AccessToken(Base):
    """A private link: registrant's manage page or feed, speaker's page or feed, organiser feed.

    The token itself is an HMAC of `nonce` under the installation's secret key, so it can be
    shown again (manage page, re-sent email) while the database holds only its SHA-256.
    """

    __tablename__ = "access_tokens"
    __table_args__ = (Index("ix_access_tokens_owner", "purpose", "registration_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    purpose: Mapped[AccessPurpose] = mapped_column(_enum(AccessPurpose))
    nonce: Mapped[str] = mapped_column(String(64))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    api_token_id: Mapped[int | None] = mapped_column(ForeignKey("api_tokens.id", ondelete="CASCADE"))
    group_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("interest_group_members.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]
    revoked_at: Mapped[datetime | None]


class OutboxEmail(Base):
    """One email to one recipient, written in the transaction of the change that causes it."""

    __tablename__ = "outbox_emails"
    __table_args__ = (
        Index("ix_outbox_emails_due", "status", "next_attempt_at"),
        Index("ix_outbox_emails_event", "event_id", "created_at", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    message_id: Mapped[str] = mapped_column(String(255), unique=True)
    # Set for messages that must exist at most once (a reminder, a change notice).
    dedupe_key: Mapped[str | None] = mapped_column(String(255), unique=True)
    template: Mapped[str] = mapped_column(String(100))
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(500))
    # None while COMPOSING.
    raw_message: Mapped[bytes | None] = mapped_column(LargeBinary)
    # For an email composed after the commit: what it must say, as decided with its cause.
    details: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    status: Mapped[OutboxStatus] = mapped_column(_enum(OutboxStatus))
    attempts: Mapped[int] = mapped_column(Integer, default=0)
    next_attempt_at: Mapped[datetime]
    # While SENDING: until when this claim holds; after that another worker may retry.
    claimed_until: Mapped[datetime | None]
    claimed_by: Mapped[str | None] = mapped_column(String(100))
    last_error: Mapped[str | None] = mapped_column(Text)
    event_id: Mapped[int | None] = mapped_column(ForeignKey("events.id", ondelete="SET NULL"))
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL")
    )
    person_id: Mapped[int | None] = mapped_column(ForeignKey("persons.id", ondelete="SET NULL"))
    group_member_id: Mapped[int | None] = mapped_column(
        ForeignKey("interest_group_members.id", ondelete="SET NULL"), index=True
    )
    # For lag measurements: when the cause (a reminder) fell due.
    due_at: Mapped[datetime | None]
    # Never sent from this instant on (a reminder once its session has started): withdrawn.
    expires_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    sent_at: Mapped[datetime | None]


class EmailAttempt(Base):
    """One delivery attempt of an outbox email and what the SMTP server said."""

    __tablename__ = "email_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    outbox_email_id: Mapped[int] = mapped_column(
        ForeignKey("outbox_emails.id", ondelete="CASCADE"), index=True
    )
    attempted_at: Mapped[datetime]
    outcome: Mapped[str] = mapped_column(String(20))  # sent, transient, permanent
    smtp_code: Mapped[int | None] = mapped_column(Integer)
    detail: Mapped[str | None] = mapped_column(Text)


class Reminder(Base):
    """A reminder to one registrant before one session, with its stored due time."""

    __tablename__ = "reminders"
    __table_args__ = (
        UniqueConstraint("session_id", "registration_id", "offset_minutes"),
        Index("ix_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE")
    )
    offset_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[ReminderStatus] = mapped_column(_enum(ReminderStatus))
    processed_at: Mapped[datetime | None]
    outbox_email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_emails.id", ondelete="SET NULL")
    )
    note: Mapped[str | None] = mapped_column(String(200))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ChangeNotice(Base):
    """Pending news about a session, coalesced over a window before registrants hear it."""

    __tablename__ = "change_notices"
    __table_args__ = (Index("ix_change_notices_due", "status", "send_after"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    status: Mapped[ChangeNoticeStatus] = mapped_column(_enum(ChangeNoticeStatus))
    # What registrants last heard: the session as it was before the first coalesced edit.
    previous: Mapped[dict[str, Any]] = mapped_column(JSON)
    first_changed_at: Mapped[datetime]
    last_changed_at: Mapped[datetime]
    send_after: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ScheduledMessage(Base):
    """An organisers' message written ahead, sent at `send_at` to whoever is in its group
    then (a thank-you after the last session, with the feedback form, the certificates and
    the recording). The draft as typed: checked again when it goes out.

    With a `timing`, `send_at` is `offset_minutes` before the start or after the end of
    the event (or of its session), kept in step with the programme by the job that sends
    it; without one, it is the fixed time the organiser chose."""

    __tablename__ = "scheduled_messages"
    __table_args__ = (Index("ix_scheduled_messages_due", "status", "send_at"),
                      Index("ix_scheduled_messages_event", "event_id", "send_at"))

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # None: the whole event; a deleted session takes its scheduled messages with it.
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"))
    audiences: Mapped[list[str]] = mapped_column(JSON)
    subject: Mapped[str] = mapped_column(String(300))
    text: Mapped[str] = mapped_column(Text)
    # The same message in other languages: language code -> [subject, text].
    translations: Mapped[dict[str, Any]] = mapped_column(JSON)
    send_at: Mapped[datetime]
    timing: Mapped[MessageTiming | None] = mapped_column(_enum(MessageTiming))
    offset_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[ScheduledMessageStatus] = mapped_column(_enum(ScheduledMessageStatus))
    recipients: Mapped[int | None] = mapped_column(Integer)  # how many it went to
    problem: Mapped[str] = mapped_column(Text, default="")  # why it was not sent
    created_by_account_id: Mapped[int | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="SET NULL"))
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class SpeakerNotice(Base):
    """Pending news for one speaker about one slot, gathered over a window like ChangeNotice.

    `previous` is the slot as the speaker last heard of it (None: they had not been told
    of it, a new assignment); when it goes out, the slot as it is then is compared with
    it. `agenda_item_id` is no foreign key: the item may be deleted while the notice
    waits, and `removed` then keeps what a cancellation needs.
    """

    __tablename__ = "speaker_notices"
    __table_args__ = (
        Index("ix_speaker_notices_due", "status", "send_after"),
        Index("ix_speaker_notices_slot", "agenda_item_id", "person_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    agenda_item_id: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[int] = mapped_column(ForeignKey("sessions.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"))
    status: Mapped[ChangeNoticeStatus] = mapped_column(_enum(ChangeNoticeStatus))
    previous: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    removed: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    first_changed_at: Mapped[datetime]
    last_changed_at: Mapped[datetime]
    send_after: Mapped[datetime]
    sent_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class RateLimitCounter(Base):
    """Requests counted per key (what is limited, for which client) and fixed time window.

    Shared by every web process through the database; rows of ended windows are pruned.
    """

    __tablename__ = "rate_limit_counters"
    __table_args__ = (Index("ix_rate_limit_counters_expires_at", "expires_at"),)

    key: Mapped[str] = mapped_column(String(200), primary_key=True)
    window_started_at: Mapped[datetime] = mapped_column(primary_key=True)
    hits: Mapped[int] = mapped_column(Integer)
    expires_at: Mapped[datetime]


class Account(Base):
    """An organiser's account for the back office: signs in with email and password."""

    __tablename__ = "accounts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    # Stored lower-cased and trimmed: one account per address, whatever the spelling.
    email: Mapped[str] = mapped_column(String(320), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    role: Mapped[AccountRole] = mapped_column(_enum(AccountRole))
    # argon2id; None until the invited person sets a password.
    password_hash: Mapped[str | None] = mapped_column(String(255))
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]
    disabled_at: Mapped[datetime | None]
    # When the account's personal data was erased (it can never sign in again then).
    erased_at: Mapped[datetime | None]
    # The organiser's back-office language (service.i18n.LANGUAGES), and that of their emails.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")


class TeamMembership(Base):
    __tablename__ = "team_memberships"

    team_id: Mapped[int] = mapped_column(ForeignKey("teams.id", ondelete="CASCADE"),
                                         primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            primary_key=True, index=True)
    created_at: Mapped[datetime]


class AccountSession(Base):
    """A signed-in browser. The cookie holds a secret; only its SHA-256 is the id here, so a
    copy of the database signs nobody in. Ended sessions are kept for the record."""

    __tablename__ = "account_sessions"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    created_at: Mapped[datetime]
    last_seen_at: Mapped[datetime]
    ended_at: Mapped[datetime | None]


class LoginFailure(Base):
    """A failed sign-in, counted per address typed and per client address for throttling."""

    __tablename__ = "login_failures"
    __table_args__ = (
        Index("ix_login_failures_email", "email", "failed_at"),
        Index("ix_login_failures_client", "client_address", "failed_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email: Mapped[str] = mapped_column(String(320))  # normalised as Account.email
    client_address: Mapped[str] = mapped_column(String(64))
    failed_at: Mapped[datetime]


class AccountLink(Base):
    """A single-use emailed link: an invitation to set a first password, or a reset."""

    __tablename__ = "account_links"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    account_id: Mapped[int] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"),
                                            index=True)
    purpose: Mapped[AccountLinkPurpose] = mapped_column(_enum(AccountLinkPurpose))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]


class AuditEntry(Base):
    """One change made by an account or an API token: who, when, what, before and after.

    `event_id` is no foreign key: an event's log outlives the event.
    """

    __tablename__ = "audit_entries"
    __table_args__ = (
        Index("ix_audit_entries_event", "event_id", "id"),
        Index("ix_audit_entries_account", "account_id", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    at: Mapped[datetime]
    account_id: Mapped[int | None] = mapped_column(ForeignKey("accounts.id", ondelete="SET NULL"))
    api_token_id: Mapped[int | None] = mapped_column(
        ForeignKey("api_tokens.id", ondelete="SET NULL")
    )
    actor_label: Mapped[str] = mapped_column(String(300))
    action: Mapped[str] = mapped_column(String(40))  # created, changed, deleted
    subject_type: Mapped[str] = mapped_column(String(60))
    subject_id: Mapped[int | None] = mapped_column(Integer)
    event_id: Mapped[int | None] = mapped_column(Integer)
    before: Mapped[dict[str, Any] | None] = mapped_column(JSON)
    after: Mapped[dict[str, Any] | None] = mapped_column(JSON)


class InterestGroup(Base):
    """Member authorities working on one topic for about two years, run by facilitators."""

    __tablename__ = "interest_groups"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    team_id: Mapped[int | None] = mapped_column(
        ForeignKey("teams.id", ondelete="SET NULL"), index=True
    )
    slug: Mapped[str] = mapped_column(String(120), unique=True)
    topic: Mapped[str] = mapped_column(String(300))
    summary: Mapped[str] = mapped_column(Text, default="")
    description: Mapped[str] = mapped_column(Text, default="")
    visibility: Mapped[GroupVisibility] = mapped_column(
        _enum(GroupVisibility), default=GroupVisibility.PUBLIC
    )
    # The zone its meetings are written in.
    timezone: Mapped[str] = mapped_column(String(64), default="Europe/Brussels")
    starts_on: Mapped[date]
    ends_on: Mapped[date | None]
    is_sample_data: Mapped[bool] = mapped_column(Boolean, default=False)
    # The language the group's own columns (topic, summary, description) are written in.
    default_language: Mapped[str] = mapped_column(String(8), default="en",
                                                  server_default="en")
    # The same texts in other languages: {"de": {"topic": "...", "summary": "..."}}. A
    # group has three texts, so they live beside them rather than in a table of their own.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                         server_default="{}")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class GroupFacilitator(Base):
    __tablename__ = "interest_group_facilitators"

    group_id: Mapped[int] = mapped_column(
        ForeignKey("interest_groups.id", ondelete="CASCADE"), primary_key=True
    )
    person_id: Mapped[int] = mapped_column(
        ForeignKey("persons.id", ondelete="CASCADE"), primary_key=True, index=True
    )
    created_at: Mapped[datetime]


class GroupMember(Base):
    """A named person of a member organisation (or one who expressed interest)."""

    __tablename__ = "interest_group_members"
    __table_args__ = (
        UniqueConstraint("group_id", "email_normalised"),
        Index("ix_interest_group_members_group_status", "group_id", "status", "id"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(ForeignKey("interest_groups.id", ondelete="CASCADE"))
    # Set when the organisation is known to the directory (always once a member).
    organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"), index=True
    )
    # As typed on the "express interest" form.
    organisation_name: Mapped[str] = mapped_column(String(200), default="")
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320))
    status: Mapped[GroupMemberStatus] = mapped_column(_enum(GroupMemberStatus))
    # What they wrote when expressing interest, and the facilitator's answer.
    message: Mapped[str | None] = mapped_column(Text)
    decision_note: Mapped[str | None] = mapped_column(Text)
    decided_at: Mapped[datetime | None]
    left_at: Mapped[datetime | None]
    # The language this person reads (service.i18n.LANGUAGES): every email to them is in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    is_sample_data: Mapped[bool] = mapped_column(Boolean, default=False)
    # When their personal data was erased (their name and address are placeholders since):
    # an erased member is sent nothing more.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MeetingSeries(Base):
    """A group's recurring meeting (or a one-off one: no recurrence), one calendar series.

    `recurrence` is an RFC 5545 RRULE value read in `timezone` from `starts_at` (the first
    occurrence); occurrences that differ live in MeetingOccurrence. "This and all following"
    ends a series with an UNTIL and starts a new one that names it in `previous_series_id`.
    """

    __tablename__ = "group_meeting_series"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    group_id: Mapped[int] = mapped_column(
        ForeignKey("interest_groups.id", ondelete="CASCADE"), index=True
    )
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    title: Mapped[str] = mapped_column(String(300))
    # The title and agenda in other languages than the group's default ({"de": {"title":
    # ..., "agenda": ...}}); a text's translations go when it changes.
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                         server_default="{}")
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int] = mapped_column(Integer)
    timezone: Mapped[str] = mapped_column(String(64))
    recurrence: Mapped[str | None] = mapped_column(String(500))
    mode: Mapped[SessionMode] = mapped_column(_enum(SessionMode))
    join_url: Mapped[str | None] = mapped_column(String(500))
    venue: Mapped[str | None] = mapped_column(String(300))
    agenda: Mapped[str] = mapped_column(Text, default="")
    # Reminders before each occurrence; None: 1 day and 1 hour for online meetings.
    reminder_offsets_minutes: Mapped[list[int] | None] = mapped_column(JSON)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus), default=MeetingStatus.SCHEDULED
    )
    previous_series_id: Mapped[int | None] = mapped_column(
        ForeignKey("group_meeting_series.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MeetingOccurrence(Base):
    """One occurrence that differs from its series: moved, cancelled, its own agenda or join
    link, or its minutes. `recurrence_id` is the start the series gives it (UTC)."""

    __tablename__ = "group_meeting_occurrences"
    __table_args__ = (UniqueConstraint("series_id", "recurrence_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("group_meeting_series.id", ondelete="CASCADE")
    )
    recurrence_id: Mapped[datetime]
    starts_at: Mapped[datetime]
    duration_minutes: Mapped[int | None] = mapped_column(Integer)
    status: Mapped[MeetingStatus] = mapped_column(
        _enum(MeetingStatus), default=MeetingStatus.SCHEDULED
    )
    join_url: Mapped[str | None] = mapped_column(String(500))
    agenda: Mapped[str | None] = mapped_column(Text)
    # Its own agenda in other languages: {"de": {"agenda": ...}} (none while it has none).
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                         server_default="{}")
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    minutes: Mapped[str | None] = mapped_column(Text)
    # [{"title": ..., "url": ...}]
    minutes_documents: Mapped[list[dict[str, str]] | None] = mapped_column(JSON)
    minutes_published_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MeetingDecline(Base):
    """A member who will not attend one occurrence."""

    __tablename__ = "group_meeting_declines"
    __table_args__ = (UniqueConstraint("series_id", "recurrence_id", "member_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("group_meeting_series.id", ondelete="CASCADE")
    )
    recurrence_id: Mapped[datetime]
    member_id: Mapped[int] = mapped_column(
        ForeignKey("interest_group_members.id", ondelete="CASCADE"), index=True
    )
    created_at: Mapped[datetime]


class MeetingGuest(Base):
    """Someone the facilitator invites to one occurrence only."""

    __tablename__ = "group_meeting_guests"
    __table_args__ = (UniqueConstraint("series_id", "recurrence_id", "email_normalised"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("group_meeting_series.id", ondelete="CASCADE")
    )
    recurrence_id: Mapped[datetime]
    name: Mapped[str] = mapped_column(String(200))
    email: Mapped[str] = mapped_column(String(320))
    email_normalised: Mapped[str] = mapped_column(String(320))
    # The language the guest reads (service.i18n.LANGUAGES): their invites are in it.
    language: Mapped[str] = mapped_column(String(8), default="en", server_default="en")
    # When their name and address were erased: an erased guest is sent nothing more.
    erased_at: Mapped[datetime | None]
    created_at: Mapped[datetime]


class MeetingReminder(Base):
    """A reminder to one member before one occurrence, with its stored due time."""

    __tablename__ = "group_meeting_reminders"
    __table_args__ = (
        UniqueConstraint("series_id", "recurrence_id", "member_id", "offset_minutes"),
        Index("ix_group_meeting_reminders_due", "status", "due_at"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    series_id: Mapped[int] = mapped_column(
        ForeignKey("group_meeting_series.id", ondelete="CASCADE")
    )
    recurrence_id: Mapped[datetime]
    member_id: Mapped[int] = mapped_column(
        ForeignKey("interest_group_members.id", ondelete="CASCADE"), index=True
    )
    offset_minutes: Mapped[int] = mapped_column(Integer)
    due_at: Mapped[datetime]
    status: Mapped[ReminderStatus] = mapped_column(_enum(ReminderStatus))
    processed_at: Mapped[datetime | None]
    outbox_email_id: Mapped[int | None] = mapped_column(
        ForeignKey("outbox_emails.id", ondelete="SET NULL")
    )
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# Meet-your-Buyer one-to-one meetings


class MeetingRequestStatus(enum.StrEnum):
    PENDING = "pending"
    ACCEPTED = "accepted"
    DECLINED = "declined"
    WITHDRAWN = "withdrawn"


class OneToOneStatus(enum.StrEnum):
    SCHEDULED = "scheduled"
    HELD = "held"
    CANCELLED = "cancelled"


class MeetingGrid(Base):
    """How a Meet-your-Buyer event's one-to-one meetings are laid out: their length, the
    pause between two, and what suppliers may do on their own."""

    __tablename__ = "meeting_grids"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), unique=True)
    meeting_minutes: Mapped[int] = mapped_column(Integer)
    gap_minutes: Mapped[int] = mapped_column(Integer, default=0)
    # Requests are accepted as they come, without a host's decision.
    accepts_automatically: Mapped[bool] = mapped_column(Boolean, default=False)
    # Suppliers with an accepted request may take a free slot themselves.
    suppliers_pick_slots: Mapped[bool] = mapped_column(Boolean, default=False)
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class MeetingGridDay(Base):
    """One stretch of meeting time (a day's start and end, as instants)."""

    __tablename__ = "meeting_grid_days"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class MeetingBreak(Base):
    """A named pause in the grid (lunch, the plenary) when no meeting is held."""

    __tablename__ = "meeting_breaks"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class MeetingTable(Base):
    """A table in the room or an online room (with its join link)."""

    __tablename__ = "meeting_tables"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"), index=True)
    name: Mapped[str] = mapped_column(String(200))
    join_url: Mapped[str | None] = mapped_column(String(500))
    position: Mapped[int] = mapped_column(Integer, default=0)


class MeetingSlot(Base):
    """One meeting time, derived from the grid (kept as rows so that a meeting names it)."""

    __tablename__ = "meeting_slots"
    __table_args__ = (UniqueConstraint("event_id", "starts_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class MeetingHost(Base):
    """A person of the buying authority who meets suppliers at this event."""

    __tablename__ = "meeting_hosts"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"), index=True)
    created_at: Mapped[datetime]

    person: Mapped[Person] = relationship(lazy="raise")


class HostAvailability(Base):
    """When a host can meet suppliers (any number of intervals)."""

    __tablename__ = "meeting_host_availability"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    host_id: Mapped[int] = mapped_column(ForeignKey("meeting_hosts.id", ondelete="CASCADE"), index=True)
    starts_at: Mapped[datetime]
    ends_at: Mapped[datetime]


class MeetingRequest(Base):
    """A registered supplier asking to meet one host (their `rank`-th choice)."""

    __tablename__ = "meeting_requests"
    __table_args__ = (
        UniqueConstraint("registration_id", "host_id"),
        Index("ix_meeting_requests_event_status", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(ForeignKey("registrations.id", ondelete="CASCADE"))
    host_id: Mapped[int] = mapped_column(ForeignKey("meeting_hosts.id", ondelete="CASCADE"), index=True)
    rank: Mapped[int] = mapped_column(Integer, default=1)
    topic: Mapped[str] = mapped_column(Text)
    status: Mapped[MeetingRequestStatus] = mapped_column(_enum(MeetingRequestStatus))
    decided_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class OneToOneMeeting(Base):
    """A request placed in a slot at a table: one calendar event (its own UID) for the
    supplier and the host. One row per request: moving or re-placing it raises `sequence`.

    The partial unique indexes are what keeps a table, a host and a supplier to one live
    meeting per slot, also when two suppliers take the last free slot at the same moment."""

    __tablename__ = "one_to_one_meetings"
    __table_args__ = (
        Index("ix_one_to_one_meetings_slot_table", "slot_id", "table_id", unique=True,
              sqlite_where=text("status != 'cancelled'"),
              postgresql_where=text("status != 'cancelled'")),
        Index("ix_one_to_one_meetings_slot_host", "slot_id", "host_id", unique=True,
              sqlite_where=text("status != 'cancelled'"),
              postgresql_where=text("status != 'cancelled'")),
        Index("ix_one_to_one_meetings_slot_registration", "slot_id", "registration_id", unique=True,
              sqlite_where=text("status != 'cancelled'"),
              postgresql_where=text("status != 'cancelled'")),
        Index("ix_one_to_one_meetings_event", "event_id", "status"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    request_id: Mapped[int] = mapped_column(
        ForeignKey("meeting_requests.id", ondelete="CASCADE"), unique=True
    )
    slot_id: Mapped[int] = mapped_column(ForeignKey("meeting_slots.id", ondelete="RESTRICT"))
    table_id: Mapped[int] = mapped_column(ForeignKey("meeting_tables.id", ondelete="RESTRICT"))
    host_id: Mapped[int] = mapped_column(ForeignKey("meeting_hosts.id", ondelete="CASCADE"))
    registration_id: Mapped[int] = mapped_column(
        ForeignKey("registrations.id", ondelete="CASCADE"), index=True
    )
    status: Mapped[OneToOneStatus] = mapped_column(_enum(OneToOneStatus))
    # Locked meetings stay where they are when "Schedule all" runs again.
    is_locked: Mapped[bool] = mapped_column(Boolean, default=False)
    uid: Mapped[str] = mapped_column(String(255), unique=True)
    sequence: Mapped[int] = mapped_column(Integer, default=0)
    held_at: Mapped[datetime | None]
    cancelled_at: Mapped[datetime | None]
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


# Meet-your-Buyer consultation


class ProcurementProcedure(enum.StrEnum):
    """The procedures of Directive 2014/24/EU the buyer may plan."""

    OPEN = "open"
    RESTRICTED = "restricted"
    COMPETITIVE_WITH_NEGOTIATION = "competitive_with_negotiation"
    COMPETITIVE_DIALOGUE = "competitive_dialogue"
    INNOVATION_PARTNERSHIP = "innovation_partnership"
    NEGOTIATED_WITHOUT_PUBLICATION = "negotiated_without_publication"


class ConsultationProfile(Base):
    """What the buyer of a Meet-your-Buyer event will procure: one per event."""

    __tablename__ = "consultation_profiles"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"),
                                          unique=True)
    buyer_organisation_id: Mapped[int | None] = mapped_column(
        ForeignKey("organisations.id", ondelete="SET NULL"))
    subject: Mapped[str] = mapped_column(String(500))
    cpv_codes: Mapped[list[str]] = mapped_column(JSON)  # "30213000-5", ...
    # Whole euro cents; None: not told.
    estimated_value_cents: Mapped[int | None] = mapped_column(BigInteger)
    planned_publication_on: Mapped[date | None]
    procedure: Mapped[ProcurementProcedure | None] = mapped_column(_enum(ProcurementProcedure))
    market_questions: Mapped[str] = mapped_column(Text, default="")
    notice_text: Mapped[str] = mapped_column(Text, default="")
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]


class ConsultationHost(Base):
    """A person of the buying authority named as host of the consultation."""

    __tablename__ = "consultation_hosts"
    __table_args__ = (UniqueConstraint("event_id", "person_id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    person_id: Mapped[int] = mapped_column(ForeignKey("persons.id", ondelete="CASCADE"),
                                           index=True)
    position: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime]


class ConsultationDocument(Base):
    """A document shared with every supplier: a link, or a file kept under the var folder."""

    __tablename__ = "consultation_documents"
    __table_args__ = (Index("ix_consultation_documents_event", "event_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    title: Mapped[str] = mapped_column(String(300))
    url: Mapped[str | None] = mapped_column(String(1000))  # a link; None for a file
    file_name: Mapped[str | None] = mapped_column(String(200))  # as shown and downloaded
    stored_name: Mapped[str | None] = mapped_column(String(100))  # under var/consultation
    media_type: Mapped[str | None] = mapped_column(String(100))
    size_bytes: Mapped[int | None] = mapped_column(Integer)
    shared_at: Mapped[datetime]
    # Withdrawn: no longer offered to suppliers; kept, with both dates, for the report.
    withdrawn_at: Mapped[datetime | None]


class ConsultationQuestion(Base):
    """A question to the buyer (a supplier's, or one asked at the event) and its answer,
    published to every registered supplier."""

    __tablename__ = "consultation_questions"
    __table_args__ = (Index("ix_consultation_questions_event", "event_id", "id"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    # Who asked (None: recorded by the organisers, or the registration is gone).
    registration_id: Mapped[int | None] = mapped_column(
        ForeignKey("registrations.id", ondelete="SET NULL"), index=True)
    asked_by: Mapped[str] = mapped_column(String(300))  # "Name, Company", for the record
    # The asker agreed to be named when the answer is published.
    may_name_asker: Mapped[bool] = mapped_column(Boolean, default=False)
    is_asked_at_event: Mapped[bool] = mapped_column(Boolean, default=False)
    question: Mapped[str] = mapped_column(Text)
    asked_at: Mapped[datetime]
    answer: Mapped[str | None] = mapped_column(Text)
    answered_at: Mapped[datetime | None]


# Personal data: the privacy notice's versions and people's requests for their data


class PrivacyNotice(Base):
    """One version of the operator's privacy notice. Never rewritten: an edit is a new
    version (the highest id is the current one), so a registration keeps the text it saw."""

    __tablename__ = "privacy_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
    # The language `text` is written in (None: not said, as for the versions published
    # before this was asked), and the same notice in other languages ({"de": "..."}): both
    # part of the version, so never rewritten either.
    language: Mapped[str | None] = mapped_column(String(8))
    translations: Mapped[dict[str, Any]] = mapped_column(JSON, default=dict,
                                                         server_default="{}")
    created_at: Mapped[datetime]
    # Who wrote it: an organiser's label, or where the installation's first text came from.
    created_by: Mapped[str] = mapped_column(String(300))


class DataRequest(Base):
    """A person's emailed, time-limited link to what is held about their address.

    Only the SHA-256 of the link's token is stored. Rows are deleted when the link lapses
    (a scheduled job) and when the person erases their data through it.
    """

    __tablename__ = "data_requests"
    __table_args__ = (Index("ix_data_requests_expires_at", "expires_at"),)

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    email_normalised: Mapped[str] = mapped_column(String(320), index=True)
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    created_at: Mapped[datetime]
    expires_at: Mapped[datetime]
    # When the link was used to erase everything: it works no more.
    used_at: Mapped[datetime | None]


# The events' own content in other languages


class ContentTranslation(Base):
    """An event's, session's or agenda item's text in a language other than the event's
    default (whose text is the row's own columns).

    `target` names what is translated ("event", "session-12", "agenda-item-7") so that one
    unique constraint holds on both databases (a NULL would make every row unique); the
    foreign keys are there for the cascades. `field` is "title", "summary" or "description".
    """

    __tablename__ = "content_translations"
    __table_args__ = (
        UniqueConstraint("event_id", "target", "language", "field"),
        Index("ix_content_translations_field_language", "field", "language"),
    )

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    event_id: Mapped[int] = mapped_column(ForeignKey("events.id", ondelete="CASCADE"))
    session_id: Mapped[int | None] = mapped_column(
        ForeignKey("sessions.id", ondelete="CASCADE"), index=True)
    agenda_item_id: Mapped[int | None] = mapped_column(
        ForeignKey("agenda_items.id", ondelete="CASCADE"), index=True)
    target: Mapped[str] = mapped_column(String(40))
    language: Mapped[str] = mapped_column(String(8))
    field: Mapped[str] = mapped_column(String(20))
    text: Mapped[str] = mapped_column(Text)
    updated_at: Mapped[datetime]
