"""Erasure: a registration, or everything held about an address, leaves nothing behind.

Checked on both databases against a scan of every row of every table (tests/personal_data.py),
the log at DEBUG, and what the real composing, reminder and delivery jobs then send to a real
SMTP server: nothing to the erased person, including an email still to be composed, one
queued, one claimed by a worker that died, and a reminder composed ahead.
"""

from __future__ import annotations

import email
import email.policy
import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
import time_machine
from sqlalchemy import func, select, update
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.transport import SmtpTransport
from scheduling.jobs import (
    JobContext,
    job_compose_welcome_emails,
    job_deliver_outbox,
    job_prepare_reminders,
)
from service.db.engine import session_scope
from service.db.models import (
    AccessPurpose,
    AccessToken,
    AuditEntry,
    EventKind,
    GroupMember,
    GroupMemberStatus,
    MeetingGuest,
    MeetingReminder,
    MeetingRequest,
    MeetingRequestStatus,
    NetworkStanding,
    OneToOneMeeting,
    OneToOneStatus,
    OrganisationKind,
    OutboxEmail,
    OutboxStatus,
    Person,
    Registration,
    RegistrationStatus,
    Reminder,
    ReminderStatus,
)
from service.domain import groups, programme, registration
from service.domain.access import find_access
from service.domain.accounts.audit import Actor, set_actor
from service.domain.calendars import feeds
from service.domain.consultation import (
    ask_question,
    list_questions,
    public_asker,
    publish_answer,
)
from service.domain.consultation.meetings import schedule_all_meetings
from service.domain.errors import ConflictError
from service.domain.groups.meeting_reminders import prepare_meeting_reminders
from service.domain.privacy import erase_person, erase_registration
from service.domain.privacy.erasure import ERASED_NAME, address_hash
from service.domain.reminders import prepare_reminders
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    JOIN_URL,
    EventSpec,
    SessionSpec,
    make_agenda_item,
    make_event,
    make_group,
    make_organisation,
    make_person,
)
from tests.integration.meeting_fixtures import make_consultation, make_supplier_with_meeting
from tests.personal_data import Finding, find_personal_data
from tests.smtp_server import SmtpTestServer

Sessionmaker = async_sessionmaker[AsyncSession]

ANA, ANA_ADDRESS = "Ana Ferreira", "ana.ferreira@lisboa.example.pt"
BRUNO, BRUNO_ADDRESS = "Bruno Costa", "bruno.costa@porto.example.pt"
CARLA, CARLA_ADDRESS = "Carla Canal", "carla.canal@bcn.example.cat"
DORA, DORA_ADDRESS = "Dora Duarte", "dora@circular-devices.example.nl"
# One webinar, one place: 10:00 Brussels on 3 September 2026 is 08:00 UTC.
WEBINAR = EventSpec(
    slug="social-criteria", title="Social criteria in ICT tenders", capacity=1,
    sessions=(SessionSpec("Keeping social criteria alive", "2026-09-03T10:00",
                          "2026-09-03T11:30", join_url="https://meet.example.org/room"),),
    now=BUILT_AT,
)
REGISTERED_AT = datetime(2026, 9, 1, 9, tzinfo=UTC)
DAY_BEFORE_DUE = datetime(2026, 9, 2, 8, tzinfo=UTC)  # the 1-day reminder
ERASED_AT = DAY_BEFORE_DUE - timedelta(minutes=15)


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=1))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


def form(name: str, address: str, **overrides: object) -> registration.RegistrationForm:
    values: dict[str, object] = {
        "name": name, "email": address, "consent": True,
        "organisation_name": "Câmara Municipal de Lisboa",
        "organisation_kind": OrganisationKind.PUBLIC_AUTHORITY, "country": "PT",
        "job_title": "Procurement officer",
        **overrides,
    }
    return registration.RegistrationForm(**values)  # type: ignore[arg-type]


async def register(sessionmaker: Sessionmaker, settings: Settings, slug: str, name: str,
                   address: str, *, now: datetime = REGISTERED_AT) -> int:
    async with session_scope(sessionmaker) as db:
        outcome = await registration.register_participant(db, slug, form(name, address),
                                                          now=now, settings=settings)
        return outcome.registration.id


async def erase(sessionmaker: Sessionmaker, settings: Settings, registration_id: int, *,
                now: datetime = ERASED_AT) -> None:
    async with session_scope(sessionmaker) as db:
        found = await registration.get_registration(db, registration_id)
        await erase_registration(db, found, now=now, reason="registrant", settings=settings)


async def no_sleep(seconds: float) -> None:
    return None


async def test_an_erased_registration_leaves_no_trace_and_is_sent_nothing_more(
    db_sessionmaker: Sessionmaker, mail_settings: Settings, transport: SmtpTransport,
    smtp_server: SmtpTestServer, caplog: pytest.LogCaptureFixture,
) -> None:
    # The database drivers' statement logs (off unless an operator turns them on) are not
    # ours; everything else is read at DEBUG (set last: it sets the capture's level too).
    caplog.set_level(logging.WARNING, logger="sqlalchemy")
    caplog.set_level(logging.WARNING, logger="aiosqlite")
    caplog.set_level(logging.WARNING, logger="asyncpg")
    caplog.set_level(logging.DEBUG)
    settings = mail_settings
    async with session_scope(db_sessionmaker) as db:
        event = await make_event(db, settings, WEBINAR, commit=False)
    ana = await register(db_sessionmaker, settings, event.slug, ANA, ANA_ADDRESS)
    bruno = await register(db_sessionmaker, settings, event.slug, BRUNO, BRUNO_ADDRESS)
    async with session_scope(db_sessionmaker) as db:
        # An organiser's correction: the audit log now holds her name and address.
        set_actor(db, Actor(label="Olga Organiser <olga@procura.example.org>", account_id=None))
        row = await db.get(Registration, ana)
        assert row is not None
        row.email = ANA_ADDRESS.upper()
        row.job_title = f"{ANA}, head of procurement"
    async with session_scope(db_sessionmaker) as db:
        # Her lost link asked for twice: the first email's worker died while sending it.
        for minutes in (20, 31):
            assert await registration.send_registration_link(
                db, event.slug, ANA_ADDRESS, now=DAY_BEFORE_DUE - timedelta(minutes=60 - minutes),
                settings=settings)
    async with session_scope(db_sessionmaker) as db:
        first_link = await db.scalar(select(OutboxEmail.id).where(
            OutboxEmail.registration_id == ana,
            OutboxEmail.template == "registration_link_to_registrant").order_by(OutboxEmail.id))
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == first_link).values(
            status=OutboxStatus.SENDING, claimed_by="dead-worker", attempts=1,
            claimed_until=ERASED_AT - timedelta(minutes=1)))
        # Her reminder for tomorrow is composed ahead, held in the outbox until 08:00.
        report = await prepare_reminders(db, now=ERASED_AT - timedelta(minutes=5),
                                         settings=settings)
        assert report.ahead == 1
    async with session_scope(db_sessionmaker) as db:
        before = {(r.template, r.status) for r in await db.scalars(
            select(OutboxEmail).where(OutboxEmail.registration_id == ana))}
    assert before == {
        ("registration_confirmed_to_registrant", OutboxStatus.COMPOSING),
        ("registration_link_to_registrant", OutboxStatus.SENDING),
        ("registration_link_to_registrant", OutboxStatus.QUEUED),
        ("reminder_to_registrant", OutboxStatus.QUEUED),
    }

    async with session_scope(db_sessionmaker) as db:
        found = await find_personal_data(db, [ANA, ANA_ADDRESS])
    # The scan sees her everywhere she is before the erasure.
    assert sorted({(f.table, f.column) for f in found}) == [
        ("audit_entries", "after"), ("audit_entries", "before"),
        ("outbox_emails", "raw_message"), ("outbox_emails", "to_address"),
        ("registrations", "email"), ("registrations", "email_normalised"),
        ("registrations", "job_title"), ("registrations", "name")]
    await erase(db_sessionmaker, settings, ana)

    # The jobs run as the scheduler runs them, once the reminder's time has come.
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings, transport=transport,
                         sleep=no_sleep)
    with time_machine.travel(DAY_BEFORE_DUE + timedelta(minutes=5), tick=False):
        await job_compose_welcome_emails(context)
        await job_prepare_reminders(context)
        await job_deliver_outbox(context)
    received = sorted((m.rcpt_tos, str(m.message["Subject"]))
                      for m in smtp_server.messages)
    assert received == [
        ((BRUNO_ADDRESS,), "A place is free for you: Social criteria in ICT tenders"),
        ((BRUNO_ADDRESS,), "Reminder: Keeping social criteria alive starts tomorrow at 10:00 CEST"),
        ((BRUNO_ADDRESS,), "Waiting list: Social criteria in ICT tenders"),
    ]

    async with session_scope(db_sessionmaker) as db:
        assert await find_personal_data(db, [ANA, ANA_ADDRESS]) == []
        erased = await db.get(Registration, ana)
        assert erased is not None
        assert (erased.name, erased.status, erased.organisation_kind, erased.country,
                erased.erasure_reason) == (ERASED_NAME, RegistrationStatus.CANCELLED,
                                           OrganisationKind.PUBLIC_AUTHORITY, "PT", "registrant")
        assert erased.email.startswith("erased-") and erased.email.endswith("@invalid")
        assert erased.email == erased.email_normalised
        emails = list(await db.scalars(select(OutboxEmail).where(
            OutboxEmail.registration_id == ana).order_by(OutboxEmail.id)))
        assert [(e.status, e.to_address, e.raw_message) for e in emails] == [
            (OutboxStatus.WITHDRAWN, address_hash(settings.secret_key, ANA_ADDRESS), None),
        ] * 4
        assert address_hash(settings.secret_key, ANA_ADDRESS).startswith("hmac-sha256:")
        reminders = set(await db.scalars(select(Reminder.status).where(
            Reminder.registration_id == ana)))
        assert reminders == {ReminderStatus.CANCELLED}
        bruno_row = await db.get(Registration, bruno)
        assert bruno_row is not None and bruno_row.status == RegistrationStatus.CONFIRMED
        promoted = await db.scalars(select(OutboxEmail.template).where(
            OutboxEmail.registration_id == bruno).order_by(OutboxEmail.id))
        assert list(promoted) == ["registration_waiting_to_registrant",
                                  "registration_promoted_to_registrant",
                                  "reminder_to_registrant"]
    logged = [r.getMessage() for r in caplog.records
              if ANA.lower() in r.getMessage().lower()
              or ANA_ADDRESS.lower() in r.getMessage().lower()]
    assert logged == []
    # (the reminder was taken back a step earlier, with the reminders of the place that ended)
    assert f"Registration {ana} erased (registrant); 4 emails stripped, 3 of them withdrawn" \
        in caplog.messages


async def test_erasing_a_confirmed_registration_promotes_the_first_waiting_person_once(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    async with session_scope(db_sessionmaker) as db:
        event = await make_event(db, settings, WEBINAR, commit=False)
    ana = await register(db_sessionmaker, settings, event.slug, ANA, ANA_ADDRESS)
    bruno = await register(db_sessionmaker, settings, event.slug, BRUNO, BRUNO_ADDRESS)
    carla = await register(db_sessionmaker, settings, event.slug, CARLA, CARLA_ADDRESS)

    await erase(db_sessionmaker, settings, ana)
    await erase(db_sessionmaker, settings, ana, now=ERASED_AT + timedelta(minutes=1))

    async with session_scope(db_sessionmaker) as db:
        statuses = {row.id: row.status for row in await db.scalars(select(Registration))}
        assert statuses == {ana: RegistrationStatus.CANCELLED,
                            bruno: RegistrationStatus.CONFIRMED,
                            carla: RegistrationStatus.WAITING}
        promoted = list(await db.scalars(select(OutboxEmail.registration_id).where(
            OutboxEmail.template == "registration_promoted_to_registrant")))
        assert promoted == [bruno]
        assert await registration.waiting_position(
            db, await registration.get_registration(db, carla)) == 1


async def test_erasing_a_person_removes_their_address_everywhere_and_their_private_links(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    """Carla registered for two events and speaks in one (published): her address goes from
    everything; her name stays only on the published programme's agenda."""
    async with session_scope(db_sessionmaker) as db:
        webinar = await make_event(db, settings, WEBINAR, commit=False)
        dialogue = await make_event(db, settings, WEBINAR, slug="market-dialogue",
                                    kind=EventKind.MEET_YOUR_BUYER, capacity=None,
                                    commit=False)
        speaker = await make_person(db, CARLA, CARLA_ADDRESS.upper(), organisation="Barcelona")
        session = (await programme.get_event(db, webinar.id)).sessions[0]
        await make_agenda_item(db, settings, session, "2026-09-03T10:00", "2026-09-03T10:30",
                               "Social clauses in practice", [speaker])
        speaker_links = await feeds.issue_speaker_links(db, speaker.id, now=BUILT_AT,
                                                        settings=settings)
    registered = [await register(db_sessionmaker, settings, slug, CARLA, CARLA_ADDRESS)
                  for slug in (webinar.slug, dialogue.slug)]

    async with session_scope(db_sessionmaker) as db:
        summary = await erase_person(db, f"  {CARLA_ADDRESS.title()} ", now=ERASED_AT,
                                     reason="admin", settings=settings)
    async with session_scope(db_sessionmaker) as db:
        again = await erase_person(db, CARLA_ADDRESS, now=ERASED_AT, reason="admin",
                                   settings=settings)

        assert (summary.registrations, summary.persons, summary.names_kept) == (2, 1, 1)
        assert summary.emails == again.emails == 2  # the two confirmations, never composed
        assert (again.registrations, again.emails_withdrawn) == (0, 0)
        assert await find_personal_data(db, [CARLA_ADDRESS]) == []
        person = await db.get(Person, speaker.id)
        assert person is not None
        assert (person.name, person.email, person.job_title) == (CARLA, None, None)
        assert await find_personal_data(db, [CARLA]) == [
            Finding("persons", "name", str(speaker.id), CARLA)]
        for token in (speaker_links.page_token, speaker_links.feed_token):
            assert await find_access(db, AccessPurpose.SPEAKER_PAGE, token) is None
            assert await find_access(db, AccessPurpose.SPEAKER_FEED, token) is None
        statuses = list(await db.scalars(select(Registration.status).where(
            Registration.id.in_(registered))))
        assert statuses == [RegistrationStatus.CANCELLED] * 2


# Thursdays 10:00 Brussels from 3 September 2026 (08:00 UTC): the 1-day reminder of the
# first is prepared at 07:40 UTC on 2 September, before the erasure at 07:45.
WEEKLY = groups.RecurrenceRule("weekly", weekday=3, count=10)
SECOND_MEETING = datetime(2026, 9, 10, 8, tzinfo=UTC)


async def test_a_person_on_no_published_programme_loses_their_name_too(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    """Carla also is a member of an Interest Group (invited to its series, one invitation
    delivered, one meeting declined, a reminder prepared) and a guest at another group's
    meeting: all of it goes, the group keeps her organisation, and she is sent nothing more."""
    async with session_scope(db_sessionmaker) as db:
        draft = await make_event(db, settings, WEBINAR, publish=False, commit=False)
        speaker = await make_person(db, CARLA, CARLA_ADDRESS)
        session = (await programme.get_event(db, draft.id)).sessions[0]
        await make_agenda_item(db, settings, session, "2026-09-03T10:00", "2026-09-03T10:30",
                               "Social clauses in practice", [speaker])
        set_actor(db, Actor(label="Olga Organiser", account_id=None))
        speaker.job_title = "Head of social procurement"
        await db.flush()
        set_actor(db, None)
        facilitator = await make_person(db, "Fiona Facilitator", "fiona@procura.example.org")
        group = await make_group(db, facilitator=facilitator, now=BUILT_AT)
        other_group = await make_group(db, "market-development", topic="Market development")
        barcelona = await make_organisation(db, "Barcelona City Council",
                                            standing=NetworkStanding.PARTICIPANT)
        series = await groups.create_series(
            db, group, title="Weekly call", starts_at_local="2026-09-03T10:00",
            duration_minutes=60, rule=WEEKLY, join_url=JOIN_URL, now=BUILT_AT,
            settings=settings)
        other = await groups.create_series(
            db, other_group, title="Market call", starts_at_local="2026-09-10T14:00",
            duration_minutes=60, rule=None, join_url=JOIN_URL, now=BUILT_AT, settings=settings)
        member = await groups.express_interest(db, group, groups.InterestForm(
            name=CARLA, email=CARLA_ADDRESS, organisation_name=barcelona.name,
            message=f"{CARLA} would like to join"), now=BUILT_AT, settings=settings)
        await groups.approve_member(db, member.id, now=BUILT_AT, settings=settings,
                                    note=f"Welcome, {CARLA}")
        await groups.decline_occurrence(db, member, series, SECOND_MEETING, now=BUILT_AT)
        await groups.invite_guest(db, other, other.starts_at, name=CARLA, email=CARLA_ADDRESS,
                                  now=BUILT_AT, settings=settings)
        interested = await groups.express_interest(db, other_group, groups.InterestForm(
            name=CARLA, email=CARLA_ADDRESS, organisation_name=barcelona.name), now=BUILT_AT,
            settings=settings)
        invitation = await db.scalar(select(OutboxEmail.id).where(
            OutboxEmail.group_member_id == member.id,
            OutboxEmail.template == "group_meeting_series_to_member"))
        await db.execute(update(OutboxEmail).where(OutboxEmail.id == invitation)
                         .values(status=OutboxStatus.SENT, sent_at=BUILT_AT))
    async with session_scope(db_sessionmaker) as db:
        prepared = await prepare_meeting_reminders(
            db, now=ERASED_AT - timedelta(minutes=5), settings=settings)
        assert prepared.sent == 1

    async with session_scope(db_sessionmaker) as db:
        summary = await erase_person(db, CARLA_ADDRESS, now=ERASED_AT, reason="admin",
                                     settings=settings)
        assert (summary.persons, summary.names_kept) == (1, 0)
        assert (summary.group_members, summary.meeting_guests) == (2, 1)
        person = await db.get(Person, speaker.id)
        assert person is not None and person.name == ERASED_NAME
        assert await find_personal_data(db, [CARLA, CARLA_ADDRESS]) == []
        changes = list(await db.scalars(select(AuditEntry.after).where(
            AuditEntry.subject_type == "person", AuditEntry.subject_id == speaker.id)))
        assert changes == [{"job_title": "[erased]"}]
        kept = await db.get(GroupMember, member.id)
        assert kept is not None
        assert (kept.name, kept.status, kept.organisation_id, kept.message,
                kept.decision_note) == (ERASED_NAME, GroupMemberStatus.MEMBER, barcelona.id,
                                        None, None)
        assert await groups.member_organisation_names(db, group.id) == [barcelona.name]
        guest = await db.scalar(select(MeetingGuest))
        assert guest is not None and guest.name == ERASED_NAME
        waiting = list(await db.scalars(select(MeetingReminder.status).where(
            MeetingReminder.member_id == member.id,
            MeetingReminder.status.in_([ReminderStatus.PENDING, ReminderStatus.SENT]))))
        assert waiting == []
        hashed = address_hash(settings.secret_key, CARLA_ADDRESS)
        to_carla = {(row.template, row.status) for row in (await db.execute(
            select(OutboxEmail.template, OutboxEmail.status)
            .where(OutboxEmail.to_address == hashed))).all()}
        assert to_carla == {
            ("group_interest_received_to_member", OutboxStatus.WITHDRAWN),
            ("group_member_approved_to_member", OutboxStatus.WITHDRAWN),
            ("group_meeting_series_to_member", OutboxStatus.SENT),
            ("group_meeting_reminder_to_member", OutboxStatus.WITHDRAWN),
            ("group_meeting_invitation_to_guest", OutboxStatus.WITHDRAWN),
        }
        emails_before = await db.scalar(select(func.count(OutboxEmail.id)))
        # Nobody is left to approve: the facilitator is told so, and nothing is sent.
        with pytest.raises(ConflictError) as refused:
            await groups.approve_member(db, interested.id, now=ERASED_AT, settings=settings,
                                        organisation_id=barcelona.id)
        assert refused.value.field == "group_member_id"

        # She gets no invitation to a new series, no reminder, no change of the guest's meeting.
        await groups.create_series(
            db, group, title="Monthly call", starts_at_local="2026-10-01T10:00",
            duration_minutes=60, rule=None, join_url=JOIN_URL, now=ERASED_AT, settings=settings)
        await groups.move_occurrence(db, other, other.starts_at,
                                     starts_at_local="2026-09-10T15:00", now=ERASED_AT,
                                     settings=settings)
        assert await db.scalar(select(func.count(OutboxEmail.id))) == emails_before
        assert await db.scalar(select(func.count(MeetingReminder.id)).where(
            MeetingReminder.member_id == member.id,
            MeetingReminder.status == ReminderStatus.PENDING)) == 0


async def test_an_erased_supplier_s_questions_stay_anonymous_and_their_meetings_are_cancelled(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    """Dora asked the buyer a question (answered and published to every supplier) and has a
    one-to-one meeting: erasing her registration keeps the question and answer, naming
    nobody, and the host gets a CANCEL of the meeting that names nobody either."""
    async with session_scope(db_sessionmaker) as db:
        consultation = await make_consultation(db, settings, suppliers=1, hosts=1)
        supplier, meeting, question = await make_supplier_with_meeting(
            db, settings, consultation, DORA, DORA_ADDRESS)
        named = await ask_question(db, supplier, "Is a take-back scheme required?",
                                   may_name_asker=True, now=BUILT_AT)
        await publish_answer(db, consultation.event.id, question.id, "Yes, screens count.",
                             now=BUILT_AT, settings=settings)
        # Published to every supplier naming her, as she agreed.
        await publish_answer(db, consultation.event.id, named.id, "No.", now=BUILT_AT,
                             settings=settings)

    await erase(db_sessionmaker, settings, supplier.id)

    async with session_scope(db_sessionmaker) as db:
        assert await find_personal_data(db, [DORA, DORA_ADDRESS]) == []
        published = [(q.question, q.answer, public_asker(q), q.registration_id)
                     for q in await list_questions(db, consultation.event.id)]
        assert published == [
            ("Do you accept refurbished screens?", "Yes, screens count.",
             "a registered supplier", None),
            ("Is a take-back scheme required?", "No.", "a registered supplier", None)]
        assert named.id != question.id
        cancelled = await db.get(OneToOneMeeting, meeting.id)
        assert cancelled is not None and cancelled.status == OneToOneStatus.CANCELLED
        assert list(await db.scalars(select(MeetingRequest.status).where(
            MeetingRequest.registration_id == supplier.id))) == [
                MeetingRequestStatus.WITHDRAWN]
        host = await db.get(Person, consultation.hosts[0].person_id)
        assert host is not None
        to_host = (await db.execute(
            select(OutboxEmail.status, OutboxEmail.raw_message, OutboxEmail.details)
            .where(OutboxEmail.to_address == host.email)
            .order_by(OutboxEmail.id.desc()).limit(1))).one()
        assert to_host.status == OutboxStatus.QUEUED
        message = email.message_from_bytes(to_host.raw_message, policy=email.policy.default)
        calendar = next(p for p in message.walk() if p.get_content_type() == "text/calendar")
        text = message.get_body(preferencelist=("plain",))
        assert text is not None
        assert (calendar.get_param("method"), f"With: {ERASED_NAME}" in [
            line.strip() for line in text.get_content().splitlines()]) == (
            "CANCEL", True)
        live_links = await db.scalar(select(func.count(AccessToken.id)).where(
            AccessToken.registration_id == supplier.id, AccessToken.revoked_at.is_(None)))
        assert live_links == 0
        # "Schedule all" places nothing for her again.
        outcome = await schedule_all_meetings(db, consultation.event.id, now=ERASED_AT,
                                              settings=settings)
        assert (outcome.requested, outcome.placed) == (0, 0)
