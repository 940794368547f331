"""Retention: once an event's period has passed, the scheduled job leaves no name or address
behind, while the organisers' figures, the dashboard and the feeds read exactly as before.
Notes go sooner; a Meet-your-Buyer record keeps what a procurement record needs for longer;
one event that fails holds up no other. SQLite and PostgreSQL.
"""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from dataclasses import replace
from datetime import UTC, date, datetime, timedelta
from typing import Any

import pytest
import time_machine
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.transport import SmtpTransport
from scheduling.jobs import (
    JobContext,
    job_anonymise_expired_personal_data,
    job_compose_welcome_emails,
    job_deliver_outbox,
)
from service.db.engine import session_scope
from service.db.models import (
    AccessToken,
    EmailAttempt,
    EventKind,
    GroupMember,
    GroupMemberStatus,
    MeetingGuest,
    OneToOneMeeting,
    OneToOneStatus,
    OrganisationKind,
    OutboxEmail,
    OutboxStatus,
    Registration,
    SessionMode,
)
from service.domain import registration, reminders
from service.domain.calendars import feeds
from service.domain.consultation import (
    ask_question,
    consultation_report,
    list_questions,
    public_asker,
)
from service.domain.groups.invites import GUEST_TEMPLATE
from service.domain.groups.meetings import create_series, invite_guest
from service.domain.groups.recurrence import RecurrenceRule
from service.domain.privacy import erasure, retention
from service.domain.registration import dashboard
from service.domain.registration.organiser_messages import CheckedDraft, message_recipients
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    EventSpec,
    SessionSpec,
    make_event,
    make_group,
    make_group_member,
    make_session,
)
from tests.integration.meeting_fixtures import make_consultation, make_supplier_with_meeting
from tests.personal_data import find_personal_data
from tests.smtp_server import SmtpTestServer

Sessionmaker = async_sessionmaker[AsyncSession]

REGISTERED_AT = datetime(2026, 9, 1, 9, tzinfo=UTC)
ENDS_AT = datetime(2026, 9, 3, 9, 30, tzinfo=UTC)  # 11:30 Brussels
WEBINAR = EventSpec(
    slug="social-criteria", title="Social criteria in ICT tenders",
    sessions=(SessionSpec("Keeping social criteria alive", "2026-09-03T10:00",
                          "2026-09-03T11:30", join_url="https://meet.example.org/room"),),
    now=BUILT_AT,
)
VISIT = EventSpec(
    slug="citymatch-lisbon", title="CityMatch Lisbon", kind=EventKind.CITYMATCH,
    sessions=(SessionSpec("Study visit day", "2026-09-03T09:00", "2026-09-03T11:30",
                          mode=SessionMode.IN_PERSON),),
    extra={"venue_name": "Paços do Concelho", "venue_city": "Lisbon", "venue_country": "PT"},
    now=BUILT_AT,
)
DIALOGUE = replace(VISIT, slug="market-dialogue", title="Meet your Buyer: school meals",
                   kind=EventKind.MEET_YOUR_BUYER)
PEOPLE = [
    ("Ana Ferreira", "ana.ferreira@lisboa.example.pt", "PT", OrganisationKind.PUBLIC_AUTHORITY),
    ("Bruno Costa", "bruno.costa@porto.example.pt", "PT", OrganisationKind.SUPPLIER),
    ("Carla Canal", "carla.canal@bcn.example.cat", "ES", OrganisationKind.PUBLIC_AUTHORITY),
]
NEEDLES = [text for name, address, _, _ in PEOPLE for text in (name, address)]
DORA, DORA_ADDRESS = "Dora Duarte", "dora@circular-devices.example.nl"
COMPANY = "Circular Devices BV"  # make_supplier_with_meeting's


def form(name: str, address: str, country: str, kind: OrganisationKind,
         **extra: Any) -> registration.RegistrationForm:
    return registration.RegistrationForm(
        name=name, email=address, consent=True, organisation_name=f"{name.split()[1]} & Co",
        organisation_kind=kind, country=country, job_title="Procurement officer", **extra)


SUPPLIER_FIELDS = {"sector": "School catering",
                   "offer_note": "Organic meals from local farms, Bruno's own recipes"}


async def register_everyone(sessionmaker: Sessionmaker, settings: Settings, slug: str,
                            supplier: dict[str, str] | None = None, **extra: Any) -> list[int]:
    ids = []
    async with session_scope(sessionmaker) as db:
        for name, address, country, kind in PEOPLE:
            more = (supplier or {}) if kind == OrganisationKind.SUPPLIER else {}
            outcome = await registration.register_participant(
                db, slug, form(name, address, country, kind, **extra, **more),
                now=REGISTERED_AT, settings=settings)
            ids.append(outcome.registration.id)
    return ids


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=1))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


async def figures(db: AsyncSession, event_id: int, slug: str, settings: Settings
                  ) -> tuple[Any, ...]:
    """Everything organisers and calendar apps read of the event, as counts and bytes."""
    plan = await feeds.event_feed(db, slug, now=REGISTERED_AT, settings=settings)
    board = await dashboard.get_dashboard(db, now=REGISTERED_AT)
    return (await retention.participation_counts(db, event_id),
            await registration.count_registrations_by_status(db, event_id),
            [(f.taken, f.places_left, f.waiting, f.pending) for f in board.events],
            plan.etag, await feeds.render_feed(db, plan, now=REGISTERED_AT, settings=settings))


async def test_the_hourly_job_anonymises_an_event_past_its_retention_and_counts_survive(
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
    ana, _, carla = await register_everyone(db_sessionmaker, settings, event.slug)
    async with session_scope(db_sessionmaker) as db:
        await registration.cancel_registration(db, carla, now=REGISTERED_AT, settings=settings)
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings, transport=transport)
    with time_machine.travel(REGISTERED_AT + timedelta(minutes=1), tick=False):
        await job_compose_welcome_emails(context)
        await job_deliver_outbox(context)
    assert len(smtp_server.messages) == 4  # three confirmations, one cancellation
    async with session_scope(db_sessionmaker) as db:
        before = await figures(db, event.id, event.slug, settings)
        assert before[0].by_country == {"PT": 2}
        assert before[0].by_organisation_kind == {OrganisationKind.PUBLIC_AUTHORITY: 1,
                                                  OrganisationKind.SUPPLIER: 1}

    # A day before its date nothing happens; an hour after it, the job has done it all.
    # (The log so far holds their addresses: the test mail server logs what it received.)
    caplog.clear()
    with time_machine.travel(retention.add_months(ENDS_AT, 12) - timedelta(days=1), tick=False):
        assert await job_anonymise_expired_personal_data(context) == 0
    with time_machine.travel(retention.add_months(ENDS_AT, 12) + timedelta(hours=1),
                             tick=False):
        assert await job_anonymise_expired_personal_data(context) == 3
    # It works hourly: ten minutes later it does not look again.
    ran_at = context.retention_ran_at
    with time_machine.travel(retention.add_months(ENDS_AT, 12) + timedelta(minutes=70),
                             tick=False):
        assert await job_anonymise_expired_personal_data(context) == 0
    assert ran_at == retention.add_months(ENDS_AT, 12) + timedelta(hours=1)
    assert context.retention_ran_at == ran_at

    async with session_scope(db_sessionmaker) as db:
        assert await find_personal_data(db, NEEDLES) == []
        assert await figures(db, event.id, event.slug, settings) == before
        rows = list(await db.scalars(select(Registration).where(
            Registration.event_id == event.id).order_by(Registration.id)))
        assert [(r.name, r.erasure_reason, r.organisation_name, r.job_title) for r in rows] \
            == [(erasure.ERASED_NAME, "retention", "", None)] * 3
        sent = list(await db.scalars(select(OutboxEmail).where(
            OutboxEmail.registration_id == ana)))
        assert [(e.status, e.to_address, e.raw_message) for e in sent] == [
            (OutboxStatus.SENT, erasure.address_hash(settings.secret_key, PEOPLE[0][1]), None)]
        attempts = list(await db.scalars(select(EmailAttempt.outcome).where(
            EmailAttempt.outbox_email_id == sent[0].id)))
        assert attempts == ["sent"]
    assert [r.getMessage() for r in caplog.records
            if any(n.lower() in r.getMessage().lower() for n in NEEDLES)] == []
    assert f"Retention of event {event.id}: 0 notes deleted, 0 registrations reduced to the " \
        "procurement record, 3 anonymised, 4 emails stripped" in caplog.messages


async def test_a_session_added_later_to_an_anonymised_event_writes_to_nobody(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    async with session_scope(db_sessionmaker) as db:
        event = await make_event(db, settings, WEBINAR, commit=False)
    ids = await register_everyone(db_sessionmaker, settings, event.slug)
    later = retention.add_months(ENDS_AT, 12) + timedelta(hours=1)
    async with session_scope(db_sessionmaker) as db:
        await retention.anonymise_expired(db, now=later, policy=settings)

    async with session_scope(db_sessionmaker) as db:
        await make_session(db, settings, event, starts_at="2028-01-10T10:00",
                           ends_at="2028-01-10T11:00", title="A reunion", now=later)
    async with session_scope(db_sessionmaker) as db:
        assert list(await db.scalars(select(OutboxEmail.template).where(
            OutboxEmail.created_at == later))) == []
        live = list(await db.scalars(select(AccessToken.id).where(
            AccessToken.registration_id.in_(ids), AccessToken.revoked_at.is_(None))))
        assert live == []
        assert await find_personal_data(db, NEEDLES) == []


async def test_notes_go_after_thirty_days_and_the_rest_stays_until_its_date(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    async with session_scope(db_sessionmaker) as db:
        event = await make_event(db, settings, VISIT, commit=False)
    await register_everyone(db_sessionmaker, settings, event.slug,
                            access_note="Vegetarian meals, step-free access")
    async with session_scope(db_sessionmaker) as db:
        outlook = await retention.get_retention_outlook(db, event, settings)
        assert (outlook.dates.access_notes_deleted_at, outlook.dates.erased_at) == (
            ENDS_AT + timedelta(days=30), datetime(2027, 9, 3, 9, 30, tzinfo=UTC))
        assert (outlook.access_notes, outlook.registrations_named) == (3, 3)

        early = await retention.anonymise_expired(db, now=ENDS_AT + timedelta(days=29),
                                                  policy=settings)
        run = await retention.anonymise_expired(db, now=ENDS_AT + timedelta(days=31),
                                                policy=settings)
        assert (early.events, run.failures) == ([], [])
        assert run.events == [retention.EventRetention(event.id, access_notes_deleted=3)]
        assert await find_personal_data(db, ["Vegetarian"]) == []
        assert len(await find_personal_data(db, NEEDLES)) > 0
        outlook = await retention.get_retention_outlook(db, event, settings)
        assert (outlook.access_notes, outlook.registrations_named) == (0, 3)


async def test_a_meet_your_buyer_record_keeps_names_and_organisations_for_three_years(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    async with session_scope(db_sessionmaker) as db:
        event = await make_event(db, settings, DIALOGUE, commit=False)
    await register_everyone(db_sessionmaker, settings, event.slug, supplier=SUPPLIER_FIELDS)
    async with session_scope(db_sessionmaker) as db:
        run = await retention.anonymise_expired(
            db, now=retention.add_months(ENDS_AT, 12) + timedelta(hours=1), policy=settings)
        assert [(e.contact_erased, e.erased) for e in run.events] == [(3, 0)]
        addresses = [address for _, address, _, _ in PEOPLE]
        assert await find_personal_data(db, addresses) == []
        record = [(r.name, r.organisation_name, r.status) for r in await db.scalars(
            select(Registration).where(Registration.event_id == event.id)
            .order_by(Registration.id))]
        assert record == [(name, f"{name.split()[1]} & Co", "confirmed")
                          for name, _, _, _ in PEOPLE]
        assert await find_personal_data(db, ["Organic meals"]) == []  # the offer note
        # Nobody left to write to: an organiser's message finds no recipient.
        draft = CheckedDraft(audiences=("confirmed",), subject="Follow-up", text="Thanks",
                             session_id=None, language="en")
        assert await message_recipients(db, event.id, draft) == []
        # Nor anyone for a change notice or a reminder of its (past) session.
        assert await reminders.confirmed_places(db, event.sessions[0].id) == []

        run = await retention.anonymise_expired(
            db, now=retention.add_months(ENDS_AT, 36) + timedelta(hours=1), policy=settings)
        assert [(e.contact_erased, e.erased) for e in run.events] == [(0, 3)]
        assert await find_personal_data(db, NEEDLES) == []


async def test_one_event_that_fails_holds_up_no_other(
    db_sessionmaker: Sessionmaker, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    async with session_scope(db_sessionmaker) as db:
        broken = await make_event(db, settings, WEBINAR, commit=False)
        fine = await make_event(db, settings, VISIT, commit=False)
    broken_ids = await register_everyone(db_sessionmaker, settings, broken.slug)
    await register_everyone(db_sessionmaker, settings, fine.slug, access_note="Vegan")
    real = retention.strip_registrations

    async def strip(db: AsyncSession, ids: list[int], **options: Any) -> Any:
        if set(ids) & set(broken_ids):
            raise RuntimeError("disk full")
        return await real(db, ids, **options)

    monkeypatch.setattr(retention, "strip_registrations", strip)
    async with session_scope(db_sessionmaker) as db:
        run = await retention.anonymise_expired(
            db, now=retention.add_months(ENDS_AT, 12) + timedelta(hours=1), policy=settings)
    assert run.failures == [(broken.id, "RuntimeError: disk full")]
    assert [(e.event_id, e.access_notes_deleted, e.erased) for e in run.events] == [
        (fine.id, 3, 3)]
    async with session_scope(db_sessionmaker) as db:
        names = list(await db.scalars(select(Registration.name).where(
            Registration.event_id == broken.id).order_by(Registration.id)))
        assert names == [name for name, _, _, _ in PEOPLE]



async def test_a_consultation_record_keeps_questions_and_meetings_but_no_contact_data(
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    """At the ordinary retention date a supplier's questions stay, named only where they
    agreed, and their meeting stays with company and host; the address goes. 36 months
    after the event nothing names them, not even the host's invitation."""
    async with session_scope(db_sessionmaker) as db:
        consultation = await make_consultation(db, settings, suppliers=0, hosts=1)
        supplier, meeting, _ = await make_supplier_with_meeting(
            db, settings, consultation, DORA, DORA_ADDRESS)
        await ask_question(db, supplier, "Is a take-back scheme required?", may_name_asker=True,
                           now=BUILT_AT)
        ends_at = await retention.event_ends_at(db, consultation.event.id)
        assert ends_at is not None

    async with session_scope(db_sessionmaker) as db:
        run = await retention.anonymise_expired(
            db, now=retention.add_months(ends_at, 12) + timedelta(hours=1), policy=settings)
        assert [(e.contact_erased, e.erased) for e in run.events] == [(1, 0)]
        assert await find_personal_data(db, [DORA_ADDRESS]) == []
        asked = [(q.question, q.asked_by, public_asker(q))
                 for q in await list_questions(db, consultation.event.id)]
        assert asked == [
            ("Do you accept refurbished screens?", COMPANY, "a registered supplier"),
            ("Is a take-back scheme required?", f"{DORA}, {COMPANY}", f"{DORA}, {COMPANY}")]
        kept = (await db.execute(
            select(OneToOneMeeting.status, OneToOneMeeting.host_id, Registration.company)
            .join(Registration, Registration.id == OneToOneMeeting.registration_id)
            .where(OneToOneMeeting.id == meeting.id))).one()
        assert tuple(kept) == (OneToOneStatus.SCHEDULED, consultation.hosts[0].id, COMPANY)
        # The report for the procurement file holds the meeting and both questions.
        report = await consultation_report(db, consultation.event.id, now=BUILT_AT)
        assert ([(m.supplier_company, m.status) for m in report.meetings],
                [q.question for q in report.questions]) == (
            [(COMPANY, "scheduled")],
            ["Do you accept refurbished screens?", "Is a take-back scheme required?"])

    async with session_scope(db_sessionmaker) as db:
        run = await retention.anonymise_expired(
            db, now=retention.add_months(ends_at, 36) + timedelta(hours=1), policy=settings)
        assert [(e.contact_erased, e.erased) for e in run.events] == [(0, 1)]
        assert await find_personal_data(db, [DORA, DORA_ADDRESS]) == []
        assert [q.question for q in await list_questions(db, consultation.event.id)] == [
            "Do you accept refurbished screens?", "Is a take-back scheme required?"]


async def test_group_members_go_a_retention_period_after_leaving_or_after_the_group_ends(
    db_sessionmaker: Sessionmaker, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Ana left and Bruno was declined (later): each goes 12 months after; Carla, a member,
    is kept while the group runs and goes 12 months after its end (31 August 2028). A group
    whose anonymisation fails holds up no other."""
    left_at, declined_at = datetime(2026, 10, 1, 9, tzinfo=UTC), datetime(2026, 12, 1, 9, tzinfo=UTC)
    async with session_scope(db_sessionmaker) as db:
        group = await make_group(db)
        broken = await make_group(db, "broken-group", topic="Broken")
        members = {}
        for (name, address, _, _), status, at in zip(
                PEOPLE, (GroupMemberStatus.LEFT, GroupMemberStatus.DECLINED,
                         GroupMemberStatus.MEMBER), (left_at, declined_at, None), strict=True):
            member = await make_group_member(db, group, name=name, email=address, status=status)
            member.left_at = at if status == GroupMemberStatus.LEFT else None
            member.decided_at = at if status == GroupMemberStatus.DECLINED else BUILT_AT
            members[name] = member.id
        stuck = await make_group_member(db, broken, name="Dora Duarte", email=DORA_ADDRESS,
                                        status=GroupMemberStatus.LEFT)
        stuck.left_at = left_at
        await db.flush()
    real = retention.strip_group_members

    async def strip(db: AsyncSession, ids: list[int], **options: Any) -> Any:
        if stuck.id in ids:
            raise RuntimeError("disk full")
        return await real(db, ids, **options)

    monkeypatch.setattr(retention, "strip_group_members", strip)

    async def run_at(now: datetime) -> tuple[list[tuple[int, int]], list[str]]:
        async with session_scope(db_sessionmaker) as db:
            run = await retention.anonymise_expired(db, now=now, policy=settings)
        async with session_scope(db_sessionmaker) as db:
            names = list(await db.scalars(select(GroupMember.name).where(
                GroupMember.group_id == group.id).order_by(GroupMember.id)))
        failing = now > retention.add_months(left_at, 12)  # the broken group's member is due
        assert run.group_failures == ([(broken.id, "RuntimeError: disk full")] if failing
                                      else [])
        return run.groups, names

    erased = erasure.ERASED_NAME
    assert await run_at(retention.add_months(left_at, 12) - timedelta(hours=1)) == (
        [], ["Ana Ferreira", "Bruno Costa", "Carla Canal"])
    assert await run_at(retention.add_months(left_at, 12) + timedelta(hours=1)) == (
        [(group.id, 1)], [erased, "Bruno Costa", "Carla Canal"])
    assert await run_at(retention.add_months(declined_at, 12) + timedelta(hours=1)) == (
        [(group.id, 1)], [erased, erased, "Carla Canal"])
    group_end = datetime(2028, 8, 31, 22, tzinfo=UTC)  # midnight in Brussels
    assert await run_at(retention.add_months(group_end, 12) - timedelta(hours=1)) == (
        [], [erased, erased, "Carla Canal"])
    assert await run_at(retention.add_months(group_end, 12) + timedelta(hours=1)) == (
        [(group.id, 1)], [erased, erased, erased])
    async with session_scope(db_sessionmaker) as db:
        assert await find_personal_data(db, NEEDLES) == []
        statuses = list(await db.scalars(select(GroupMember.status).where(
            GroupMember.group_id == group.id).order_by(GroupMember.id)))
        assert statuses == [GroupMemberStatus.LEFT, GroupMemberStatus.DECLINED,
                            GroupMemberStatus.MEMBER]
        # Each row says when it was erased: the run that found it due.
        erased_at = list(await db.scalars(select(GroupMember.erased_at).where(
            GroupMember.group_id == group.id).order_by(GroupMember.id)))
        assert erased_at == [retention.add_months(at, 12) + timedelta(hours=1)
                             for at in (left_at, declined_at, group_end)]


async def test_a_meeting_guest_goes_a_retention_period_after_the_meeting_and_emails_sooner(
    db_sessionmaker: Sessionmaker, settings: Settings, monkeypatch: pytest.MonkeyPatch,
) -> None:
    """Greta is a guest of the March meeting, Gus of the May one: each one's name and address
    go 12 months after their meeting; the invitations (written in December, before) lose
    their body and address 12 months after they were written. The members stay. A series
    whose guests fail holds up no other."""
    march = datetime(2026, 3, 10, 9, tzinfo=UTC)  # 10:00 Brussels, second Tuesday
    may = datetime(2026, 5, 12, 8, tzinfo=UTC)
    stuck_at = datetime(2026, 3, 17, 9, tzinfo=UTC)  # third Tuesday
    made_at = datetime(2025, 12, 1, 8, tzinfo=UTC)
    async with session_scope(db_sessionmaker) as db:
        group = await make_group(db)
        member = await make_group_member(db, group, name="Ana Ferreira",
                                         email="ana.ferreira@lisboa.example.pt")
        rule = RecurrenceRule("monthly", interval=2, weekday=1, ordinal=2,
                              until=date(2026, 12, 31))
        series = await create_series(
            db, group, title="Circular procurement meetings", starts_at_local="2026-01-13T10:00",
            timezone="Europe/Brussels", duration_minutes=90, rule=rule,
            mode=SessionMode.ONLINE, join_url="https://meet.example.org/circular", venue=None,
            agenda="", now=made_at, settings=settings)
        other = await create_series(
            db, group, title="Working group", starts_at_local="2026-01-20T10:00",
            timezone="Europe/Brussels", duration_minutes=60, rule=replace(rule, ordinal=3),
            mode=SessionMode.ONLINE, join_url="https://meet.example.org/working", venue=None,
            agenda="", now=made_at, settings=settings)
        await invite_guest(db, series, march, name="Greta Gast", email="greta@gast.example.de",
                           now=made_at, settings=settings)
        await invite_guest(db, series, may, name="Gus Guest", email="gus@guest.example.org",
                           now=made_at, settings=settings)
        stuck = await invite_guest(db, other, stuck_at, name="Stella Stuck",
                                   email="stella@stuck.example.org", now=made_at,
                                   settings=settings)
        stuck_id, member_id = stuck.id, member.id
    real = retention.strip_meeting_guests

    async def strip(db: AsyncSession, guest_ids: list[int], *, now: datetime) -> int:
        if stuck_id in guest_ids:
            raise RuntimeError("disk full")
        return await real(db, guest_ids, now=now)

    monkeypatch.setattr(retention, "strip_meeting_guests", strip)

    async def run_at(now: datetime) -> tuple[list[tuple[int, int]], int, list[str]]:
        async with session_scope(db_sessionmaker) as db:
            run = await retention.anonymise_expired(db, now=now, policy=settings)
        async with session_scope(db_sessionmaker) as db:
            names = list(await db.scalars(select(MeetingGuest.name).where(
                MeetingGuest.series_id == series.id).order_by(MeetingGuest.id)))
        stuck_due = now >= retention.add_months(stuck_at, 12)
        assert run.guest_failures == ([(other.id, "RuntimeError: disk full")] if stuck_due
                                      else [])
        return run.guests, run.guest_emails, names

    async def guest_addresses() -> list[str]:
        async with session_scope(db_sessionmaker) as db:
            return list(await db.scalars(select(OutboxEmail.to_address).where(
                OutboxEmail.template == GUEST_TEMPLATE).order_by(OutboxEmail.id)))

    erased = erasure.ERASED_NAME
    written_plus_year = retention.add_months(made_at, 12)
    assert await run_at(written_plus_year - timedelta(hours=1)) == (
        [], 0, ["Greta Gast", "Gus Guest"])
    assert await run_at(written_plus_year + timedelta(hours=1)) == (
        [], 3, ["Greta Gast", "Gus Guest"])
    assert await guest_addresses() == [
        erasure.address_hash(settings.secret_key, address) for address in (
            "greta@gast.example.de", "gus@guest.example.org", "stella@stuck.example.org")]
    assert await run_at(retention.add_months(march, 12) + timedelta(hours=1)) == (
        [(series.id, 1)], 0, [erased, "Gus Guest"])
    assert await run_at(retention.add_months(may, 12) + timedelta(hours=1)) == (
        [(series.id, 1)], 0, [erased, erased])
    async with session_scope(db_sessionmaker) as db:
        assert await find_personal_data(db, ["Greta Gast", "greta@gast.example.de",
                                             "Gus Guest", "gus@guest.example.org"]) == []
        kept = await db.get(GroupMember, member_id)
        assert kept is not None and (kept.name, kept.erased_at) == ("Ana Ferreira", None)
        assert list(await db.scalars(select(MeetingGuest.erased_at).where(
            MeetingGuest.series_id == series.id).order_by(MeetingGuest.id))) == [
            retention.add_months(at, 12) + timedelta(hours=1) for at in (march, may)]
