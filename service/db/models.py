"""The database tables of the whole product, in the organisers' words.

Instants are stored as aware UTC (`DateTimeUTC` refuses naive values); an event carries the
IANA zone its agenda is written in. Tables only: rules about what may change live in
`service.domain`, never here.
"""

from __future__ import annotations

import enum
from datetime import datetime
from typing import Any

from advanced_alchemy.types import DateTimeUTC
from sqlalchemy import (
    JSON,
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


class AccessPurpose(enum.StrEnum):
    REGISTRATION_MANAGE = "registration_manage"
    REGISTRATION_FEED = "registration_feed"
    SPEAKER_PAGE = "speaker_page"
    SPEAKER_FEED = "speaker_feed"
    ORGANISER_FEED = "organiser_feed"
    # The single-use link that confirms a registrant's address (events that ask for it).
    ADDRESS_CONFIRMATION = "address_confirmation"


class AccountRole(enum.StrEnum):
    """What an organiser account (or an API token) may do."""

    ADMIN = "admin"  # everything, every team's events, and the accounts
    ORGANISER = "organiser"  # read and change the events of their teams
    VIEWER = "viewer"  # read only


class AccountLinkPurpose(enum.StrEnum):
    INVITATION = "invitation"
    PASSWORD_RESET = "password_reset"  # noqa: S105  (a purpose, not a secret)


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

    host_organisation: Mapped[Organisation | None] = relationship(lazy="raise")
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
    created_at: Mapped[datetime]
    updated_at: Mapped[datetime]

    registration: Mapped[Registration] = relationship(back_populates="enrolments", lazy="raise")
    session: Mapped[Session] = relationship(lazy="raise")


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


class PrivacyNotice(Base):
    """One version of the operator's privacy notice. Never rewritten: an edit is a new
    version (the highest id is the current one), so a registration keeps the text it saw."""

    __tablename__ = "privacy_notices"

    id: Mapped[int] = mapped_column(Integer, primary_key=True)
    text: Mapped[str] = mapped_column(Text)
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
