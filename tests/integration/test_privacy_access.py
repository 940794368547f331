"""Consent, the privacy notice and a person's own copy of their data (issue 16).

The notice is kept in versions and every registration points at the one it consented to;
the optional "keep me informed" consent is separate, unticked and can be withdrawn; a person
asks for their data by email and gets it through a link delivered by the real outbox and
SMTP server; the export holds every row a scan of the whole database finds about them; and
every personal-data export is in the audit log.
"""

from __future__ import annotations

import asyncio
import json
import re
from collections.abc import AsyncIterator, Iterator
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from pathlib import Path
from typing import Any

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.delivery import deliver_due_emails
from notifications.transport import SmtpTransport
from service.clock import utc_now
from service.db.models import (
    AccessPurpose,
    AuditEntry,
    DataRequest,
    OutboxEmail,
    PrivacyNotice,
    Registration,
)
from service.domain import access, accounts, groups, privacy
from service.domain import registration as registrations
from service.domain.accounts.audit import Actor, set_actor
from service.domain.errors import InvalidInputError
from service.domain.privacy.export import exported_rows
from service.domain.privacy.notice import DEFAULT_SOURCE
from service.settings import Settings
from tests.databases import until_a_connection_waits_for_a_lock
from tests.factories import (
    JOIN_URL,
    EventSpec,
    make_agenda_item,
    make_event,
    make_group,
    make_group_member,
    make_organisation,
    make_person,
)
from tests.integration.backoffice import SignedInClient
from tests.integration.meeting_fixtures import make_consultation, make_supplier_with_meeting
from tests.integration.test_pages import parse
from tests.integration.test_registration import compose_emails, register, token_of
from tests.personal_data import rows_about
from tests.smtp_server import SmtpTestServer

Client = AsyncTestClient[Litestar]
Sessionmaker = async_sessionmaker[AsyncSession]

START = datetime(2026, 9, 10, 8, 0, tzinfo=UTC)
ANA = "ana.silva@lisboa.example.pt"
BEN = "ben.weber@koeln.example.de"
DATA_LINK = re.compile(r"http://events\.test(/privacy/my-data/[A-Za-z0-9_-]+)")


@pytest.fixture
def clock() -> Iterator[time_machine.Coordinates]:
    with time_machine.travel(START, tick=False) as traveller:
        yield traveller


pytestmark = pytest.mark.usefixtures("clock")


@pytest.fixture
def mail_settings(settings: Settings, smtp_server: SmtpTestServer) -> Settings:
    return replace(settings, smtp=smtp_server.smtp_settings(connections=1))


@pytest.fixture
async def transport(mail_settings: Settings) -> AsyncIterator[SmtpTransport]:
    smtp = SmtpTransport(mail_settings.smtp, local_hostname="procura.test")
    yield smtp
    await smtp.close()


def form_for(name: str, email: str, **extra: Any) -> registrations.RegistrationForm:
    return registrations.RegistrationForm(name=name, email=email, consent=True, **extra)


async def page_token(client: Client, path: str) -> str:
    response = await client.get(path)
    return parse(response.text).one("input", name="csrf_token").attrs["value"]


# --- the notice and its versions -------------------------------------------------------------


async def test_an_edited_notice_is_a_new_version_and_earlier_registrations_keep_theirs(
    db: AsyncSession, settings: Settings,
) -> None:
    first = await privacy.current_notice(db, now=START, settings=settings)
    event = await make_event(db, settings)
    ana = await registrations.register_participant(db, event.slug, form_for("Ana Silva", ANA),
                                                   now=START, settings=settings)
    later = START + timedelta(days=1)
    second = await privacy.publish_notice(db, "Who we are\nA new text.", author="Ada Admin",
                                          now=later, settings=settings)
    ben = await registrations.register_participant(db, event.slug, form_for("Ben Weber", BEN),
                                                   now=later, settings=settings)
    await db.commit()

    versions = await privacy.list_notice_versions(db)
    assert [(v.id, v.created_by, v.created_at) for v in versions] == [
        (second.id, "Ada Admin", later), (first.id, "installation (default text)", START)]
    assert first.text.startswith("Who is responsible\nProcura+ Network runs these events")
    assert versions[1].text == first.text  # the earlier version is not rewritten
    stored = {r.email: (r.privacy_notice_version_id, r.consent_at) for r in await db.scalars(
        select(Registration).order_by(Registration.id))}
    assert stored == {ANA: (first.id, START), BEN: (second.id, later)}
    assert (ana.registration.id, ben.registration.id) != (None, None)
    with pytest.raises(InvalidInputError) as unchanged:
        await privacy.publish_notice(db, "Who we are\nA new text.", author="Ada Admin",
                                     now=later, settings=settings)
    assert unchanged.value.field == "text"


async def test_the_first_notice_comes_from_the_configured_file(
    db: AsyncSession, settings: Settings, tmp_path: Path,
) -> None:
    path = tmp_path / "notice.txt"
    path.write_text("Controller\nCity of Example, Data Office.\n", encoding="utf-8")

    notice = await privacy.current_notice(
        db, now=START, settings=replace(settings, privacy_notice_file=path))

    assert (notice.text, notice.created_by) == (
        "Controller\nCity of Example, Data Office.",
        "installation (PROCURA_PRIVACY_NOTICE_FILE notice.txt)")


@pytest.mark.postgres_only
async def test_two_processes_needing_the_first_notice_at_once_write_one_version(
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    """The first writes it and holds its transaction open; the second waits for it and
    then finds its version instead of writing another."""
    if not settings.database_url.startswith("postgresql"):
        pytest.skip("two open write transactions at once need PostgreSQL")

    async def second() -> int:
        async with db_sessionmaker() as other, other.begin():
            return (await privacy.current_notice(other, now=START, settings=settings)).id

    async with db_sessionmaker() as first, first.begin():
        written = await privacy.current_notice(first, now=START, settings=settings)
        racing = asyncio.ensure_future(second())
        await until_a_connection_waits_for_a_lock(db_sessionmaker)
    found = await racing

    assert found == written.id
    async with db_sessionmaker() as check:
        assert await check.scalar(select(func.count()).select_from(PrivacyNotice)) == 1


async def test_the_notice_page_and_the_form_that_links_it(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)

    notice_page = parse((await client.get("/privacy")).text)
    form_page = parse((await client.get(f"/events/{event.slug}/register")).text)

    current = await privacy.find_current_notice(db)
    assert current is not None
    assert notice_page.one("h1").text == "Privacy notice"
    assert notice_page.one("p", cls="lead").text == f"Version {current.id}, in force since 2026-09-10."
    assert [h.text for h in notice_page.find_all("h2")][:2] == ["Who is responsible",
                                                              "What we keep and why"]
    assert form_page.one("input", name="privacy_notice_version_id").attrs["value"] == str(current.id)
    assert form_page.one("a", id="privacy-notice-link").attrs["href"] == "/privacy"
    keep_informed = form_page.one("input", name="keep_informed")
    assert (keep_informed.attrs["type"], "checked" in keep_informed.attrs,
            "required" in keep_informed.attrs) == ("checkbox", False, False)
    footer = form_page.one("footer")
    assert [a.attrs["href"] for a in footer.find_all("a")] == ["/privacy", "/privacy/my-data"]


async def test_the_default_notice_is_read_in_each_language_and_a_written_one_as_written(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    """The installation's default text has a translation in every language (pages and the
    API); once an operator publishes their own text, every reader gets that text as
    written."""
    pages = {language: parse((await client.get(f"/privacy?lang={language}")).text)
             for language in ("en", "de", "fr", "es", "it", "nl")}
    first = {language: page.find_all("h2")[0].text for language, page in pages.items()}
    api_notices = [(await client.get(f"/api/privacy-notice?lang={lang}")).json()
                   for lang in ("en", "de")]
    await privacy.publish_notice(db, "Who we are\nThe network.", author="Ada Admin",
                                 now=START, settings=settings)
    await db.commit()
    written = parse((await client.get("/privacy?lang=de")).text)
    written_api = (await client.get("/api/privacy-notice?lang=de")).json()

    assert first == {"en": "Who is responsible", "de": "Wer verantwortlich ist",
                     "fr": "Qui est responsable", "es": "Quién es responsable",
                     "it": "Chi è responsabile", "nl": "Wie verantwoordelijk is"}
    german = pages["de"].one("main").text
    assert f"Schreiben Sie an {settings.organiser_email}" in german
    assert [(n["language"], n["text"].split("\n")[0]) for n in api_notices] == [
        ("en", "Who is responsible"), ("de", "Wer verantwortlich ist")]
    assert (written_api["language"], written_api["text"]) == (None, "Who we are\nThe network.")
    assert "{organiser" not in german
    assert [s.attrs.get("lang") for s in pages["de"].find_all("section", cls="prose")] == [
        None] * 6
    assert written.find_all("h2")[0].text == "Who we are"
    assert {s.attrs.get("lang") for s in written.find_all("section", cls="prose")} == {None}


async def test_an_earlier_default_text_is_shown_as_stored_in_every_language(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    """An installation whose first version is an earlier default text: the translations are
    of today's text, so every reader is shown the version people agreed to."""
    earlier = "Who is responsible\nAn earlier default text."
    db.add(PrivacyNotice(text=earlier, created_at=START, created_by=DEFAULT_SOURCE))
    await db.commit()

    german = (await client.get("/api/privacy-notice?lang=de")).json()
    page = parse((await client.get("/privacy?lang=fr")).text)

    assert (german["language"], german["text"]) == ("en", earlier)
    assert page.find_all("h2")[0].text == "Who is responsible"
    assert "An earlier default text." in page.one("main").text


# --- consents given with a registration -------------------------------------------------------


async def test_the_api_records_the_notice_version_and_the_optional_consent_apart(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    notice = (await client.get("/api/privacy-notice")).json()

    plain = await register(client, event.slug)
    informed = await register(client, event.slug, name="Ben Weber", email_address=BEN,
                              keep_informed=True, privacy_notice_version_id=notice["version"])
    unknown = await register(client, event.slug, name="Carla Canal",
                             email_address="carla@bcn.example.es",
                             privacy_notice_version_id=notice["version"] + 1)

    plain_view = (await client.get(f"/api/registrations/{token_of(plain)}")).json()
    informed_view = (await client.get(f"/api/registrations/{token_of(informed)}")).json()
    assert (plain.status_code, plain_view["privacy_notice_version_id"],
            plain_view["keep_informed_at"]) == (201, notice["version"], None)
    assert (informed.status_code, informed_view["keep_informed_at"]) == (
        201, "2026-09-10T08:00:00Z")
    assert (unknown.status_code, [e["field"] for e in unknown.json()["errors"]]) == (
        422, ["privacy_notice_version_id"])
    count = await db.scalar(select(func.count(Registration.id)).where(
        Registration.email_normalised == "carla@bcn.example.es"))
    assert count == 0


async def test_the_form_stores_the_version_shown_and_the_optional_consent_can_be_withdrawn(
    client: Client, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    page = parse((await client.get(f"/events/{event.slug}/register")).text)
    version = page.one("input", name="privacy_notice_version_id").attrs["value"]
    answer = await client.post(f"/events/{event.slug}/register", data={
        "csrf_token": page.one("input", name="csrf_token").attrs["value"],
        "name": "Ana Silva", "email": ANA, "consent": "yes", "keep_informed": "yes",
        "privacy_notice_version_id": version})
    assert answer.status_code == 200
    row = await db.scalar(select(Registration).where(Registration.email_normalised == ANA))
    assert row is not None
    assert (row.privacy_notice_version_id, row.keep_informed_at) == (int(version), START)
    token = await access.issue_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                            secret_key=settings.secret_key, now=START,
                                            registration_id=row.id)
    await db.commit()

    manage = await client.get(f"/registrations/{token}")
    button = parse(manage.text).one("form", action=f"/registrations/{token}/keep-informed")
    withdrawn = await client.post(f"/registrations/{token}/keep-informed", data={
        "csrf_token": parse(manage.text).find_all("input", name="csrf_token")[0].attrs["value"]},
        follow_redirects=False)
    after = await client.get(f"/registrations/{token}?done=keep-informed")

    assert button.one("button").text == "Stop informing me of future events"
    assert (withdrawn.status_code, withdrawn.headers["location"]) == (
        303, f"/registrations/{token}?done=keep-informed#keep-informed")
    await db.refresh(row)
    assert row.keep_informed_at is None
    assert parse(after.text).one(id="keep-informed").one("p", role="status").text == (
        "We will no longer write to you about other events.")


# --- a person's own copy ------------------------------------------------------------------------


async def test_asking_for_ones_data_by_email_end_to_end(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    transport: SmtpTransport, smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings)
    assert (await register(client, event.slug)).status_code == 201
    await compose_emails(db_sessionmaker, mail_settings)
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=utc_now(),
                             worker_id="test")
    smtp_server.handler.clear()

    token = await page_token(client, "/privacy/my-data")
    known = await client.post("/privacy/my-data", data={"csrf_token": token,
                                                        "email": "  Ana.Silva@Lisboa.example.pt"})
    unknown = await client.post("/privacy/my-data", data={"csrf_token": token,
                                                          "email": "nobody@example.org"})
    report = await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings,
                                      now=utc_now(), worker_id="test")

    status = parse(known.text).one(id="link-sent")
    assert (known.status_code, unknown.status_code) == (200, 200)
    assert status.text.replace("Ana.Silva@Lisboa.example.pt", "X") == \
        parse(unknown.text).one(id="link-sent").text.replace("nobody@example.org", "X")
    assert report.sent == 1
    [received] = smtp_server.messages
    assert (received.rcpt_tos, str(received.message["Subject"])) == (
        ("Ana.Silva@lisboa.example.pt",), "Your personal data at Procura+ Events")
    text = received.message.get_body(preferencelist=("plain",)).get_content().replace("\r\n", "\n")
    html = received.message.get_body(preferencelist=("html",)).get_content()
    assert "How we use your details (privacy notice): http://events.test/privacy\n" in text
    assert 'href="http://events.test/privacy"' in html
    found = DATA_LINK.search(text)
    assert found is not None
    link = found.group(1)

    page = parse((await client.get(link)).text)
    assert page.one("p", cls="lead").text == (
        "Everything Procura+ Events holds about ana.silva@lisboa.example.pt .")
    download = await client.post(f"{link}/export", data={
        "csrf_token": page.one("input", name="csrf_token").attrs["value"]})

    assert (download.status_code, download.headers["content-disposition"]) == (
        200, 'attachment; filename="my-data-procura-events.json"')
    export = json.loads(download.content)
    [registered] = export["registrations"]
    assert (registered["event"]["slug"], registered["name"], registered["email"]) == (
        event.slug, "Ana Silva", ANA)
    notice = await privacy.find_current_notice(db)
    assert notice is not None
    assert registered["consents"]["event"]["privacy_notice"] == {
        "version": notice.id, "created_at": notice.created_at.isoformat(), "text": notice.text,
        "language": "en", "translations": {}}
    subjects = sorted(e["subject"] for e in export["emails"])
    assert subjects == ["Registration confirmed: Fair ICT procurement webinars",
                        "Your personal data at Procura+ Events"]
    confirmation = next(e for e in export["emails"] if e["subject"].startswith("Registration"))
    assert confirmation["body_text"].startswith("Dear Ana Silva,")
    assert [a["outcome"] for a in confirmation["attempts"]] == ["sent"]
    entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "exported")))
    assert [(e.actor_label, e.subject_type, e.after) for e in entries] == [
        ("The person themselves (emailed link to their data)", "personal_data_export",
         {"rows": export["row_count"], "address": privacy.address_hash(mail_settings, ANA)})]
    assert ANA not in json.dumps(entries[0].after)


async def test_a_data_link_is_sent_a_few_times_a_day_at_most_and_lapses(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    await registrations.register_participant(db, event.slug, form_for("Ana Silva", ANA),
                                             now=START, settings=settings)

    sent = [await privacy.request_data_link(db, ANA, now=START + timedelta(minutes=m),
                                            settings=settings) for m in (0, 5, 10, 30, 50, 70, 90)]
    unknown = await privacy.request_data_link(db, BEN, now=START, settings=settings)
    # Someone known only as an Interest Group member gets theirs too.
    await make_group_member(db, await make_group(db, now=START), name="Carla Canal",
                            email="carla@bcn.example.cat", now=START)
    member = await privacy.request_data_link(db, "carla@bcn.example.cat", now=START,
                                             settings=settings)
    await db.commit()
    gone = await privacy.expire_data_requests(db, now=START + timedelta(hours=24, minutes=31))
    await db.commit()

    assert sent == [True, False, True, True, True, True, False]
    assert (unknown, member) == (False, True)
    assert gone == 4
    left = await db.scalars(select(DataRequest.created_at).order_by(DataRequest.id))
    assert list(left) == [START + timedelta(minutes=50), START + timedelta(minutes=70)]
    with pytest.raises(InvalidInputError) as refused:
        await privacy.request_data_link(db, "not an address", now=START, settings=settings)
    assert refused.value.field == "email"


async def test_the_export_holds_every_row_a_scan_of_the_database_finds(
    db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    """Two events, a cancelled registration, a speaker record under the same address in
    other letters, an organiser's change (audit log), a data request, an Interest Group
    membership and a guest invitation, a Meet-your-Buyer supplier's question and meeting;
    and someone else."""
    event = await make_event(db, settings)
    visit = await make_event(db, settings, EventSpec(slug="citymatch-lisbon",
                                                     title="CityMatch Lisbon"))
    ana = await registrations.register_participant(
        db, event.slug, form_for("Ana Silva", ANA, keep_informed=True), now=START,
        settings=settings)
    second = await registrations.register_participant(
        db, visit.slug, form_for("Ana Silva", ANA), now=START, settings=settings)
    await registrations.register_participant(db, event.slug, form_for("Ben Weber", BEN),
                                             now=START, settings=settings)
    await registrations.cancel_registration(db, second.registration.id, now=START,
                                            settings=settings)
    await db.commit()
    async with db_sessionmaker() as organiser_db:  # an organiser's changes are in the audit log
        set_actor(organiser_db, Actor(label="Olga Organiser <olga@procura.example.org>"))
        speaker = await make_person(organiser_db, "Ana Silva", "Ana.Silva@Lisboa.example.pt",
                                    organisation="Câmara Municipal de Lisboa")
        await registrations.change_registrant_details(
            organiser_db, ana.registration.id, registrations.DetailsChange(job_title="Head"),
            now=START, settings=settings)
        await organiser_db.commit()
    session = event.sessions[0]
    await make_agenda_item(db, settings, session, "2035-11-12T10:00", "2035-11-12T10:30",
                           "Welcome", [speaker], now=START)
    await access.issue_access_token(db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key,
                                    now=START, person_id=speaker.id)
    await db.commit()
    await compose_emails(db_sessionmaker, settings)
    await privacy.request_data_link(db, ANA, now=START, settings=settings)
    # An Interest Group member (a meeting declined, reminders planned) and a guest of another
    # group's meeting; a supplier with a question and a meeting at a Meet-your-Buyer.
    facilitator = await make_person(db, "Fiona Facilitator", "fiona@procura.example.org")
    group = await make_group(db, facilitator=facilitator, now=START)
    other_group = await make_group(db, "market-development", topic="Market development",
                                   now=START)
    lisboa = await make_organisation(db, "Lisboa City Council")
    series = await groups.create_series(
        db, group, title="Weekly call", starts_at_local="2026-09-17T10:00",
        duration_minutes=60, rule=groups.RecurrenceRule("weekly", weekday=3, count=4),
        join_url=JOIN_URL, now=START, settings=settings)
    other = await groups.create_series(
        db, other_group, title="Market call", starts_at_local="2026-09-24T14:00",
        duration_minutes=60, rule=None, join_url=JOIN_URL, now=START, settings=settings)
    member = await groups.express_interest(db, group, groups.InterestForm(
        name="Ana Silva", email=ANA, organisation_name=lisboa.name), now=START,
        settings=settings)
    await groups.approve_member(db, member.id, now=START, settings=settings)
    await groups.decline_occurrence(db, member, series, series.starts_at, now=START)
    await groups.invite_guest(db, other, other.starts_at, name="Ana Silva", email=ANA,
                              now=START, settings=settings)
    consultation = await make_consultation(db, settings, suppliers=0, hosts=1)
    await make_supplier_with_meeting(db, settings, consultation, "Ana Silva", ANA, now=START)
    # Ana also has an organiser account: a team, a session, a reset link, a failed sign-in
    # and a change of hers in the audit log.
    team = await accounts.default_team_id(db)
    account = await accounts.create_account(db, email=ANA, name="Ana Silva", role="organiser",
                                            team_ids=[team] if team else [], now=START,
                                            password="lantern-quarry-velvet-29")
    await accounts.start_session(db, account, now=START)
    await accounts.request_password_reset(db, ANA, now=START, settings=settings)
    await accounts.authenticate(db, email=ANA, password="not the password",
                                client_address="192.0.2.7", now=START)
    await db.commit()
    async with db_sessionmaker() as own_db:
        set_actor(own_db, Actor(label=f"Ana Silva <{ANA}>", account_id=account.id))
        await registrations.change_registrant_details(
            own_db, ana.registration.id, registrations.DetailsChange(job_title="Director"),
            now=START, settings=settings)
        await own_db.commit()

    export = await privacy.export_personal_data(db, ANA, now=START)
    scanned = await rows_about(db, ANA)
    given = exported_rows(export)

    tables = {table for table, _ in scanned}
    assert {"registrations", "enrolments", "reminders", "access_tokens", "outbox_emails",
            "persons", "agenda_item_speakers", "audit_entries", "data_requests",
            "interest_group_members", "group_meeting_declines", "group_meeting_reminders",
            "group_meeting_guests", "meeting_requests", "one_to_one_meetings",
            "consultation_questions", "accounts", "team_memberships", "account_sessions",
            "account_links", "login_failures"} <= tables
    assert scanned - given == set()
    assert export["row_count"] == len(given)
    assert [e["template"] for e in export["emails_to_others_about_you"]] == [
        "group_interest_to_facilitator", "meeting_to_participant"]
    ben = await db.scalar(select(Registration.id).where(Registration.email_normalised == BEN))
    assert ("registrations", ben) not in given
    ben_emails = set(await db.scalars(select(OutboxEmail.id).where(
        OutboxEmail.to_address == BEN)))
    assert {("outbox_emails", i) for i in ben_emails} & given == set()
    assert [r["consents"]["keep_informed"]["given_at"] for r in export["registrations"]] == [
        START.isoformat(), None, None]
    [own] = export["organiser_accounts"]
    assert "password_hash" not in own
    assert [m["team"] for m in own["team_memberships"]] == ["Programme team"]
    assert [link["purpose"] for link in own["links"]] == ["password_reset"]
    assert "token_hash" not in own["links"][0]
    assert [e["after"] for e in own["audit_entries_made"]] == [{"job_title": "Director"}]
    assert [f["client_address"] for f in export["sign_in_failures"]] == ["192.0.2.7"]


# --- exports of registrations are in the audit log ---------------------------------------------


async def test_registration_csv_exports_are_recorded_with_who_and_how_many(
    client: Client, db: AsyncSession, settings: Settings, organiser_headers: dict[str, str],
    admin_client: SignedInClient,
) -> None:
    event = await make_event(db, settings)
    for name, address in (("Ana Silva", ANA), ("Ben Weber", BEN)):
        await registrations.register_participant(db, event.slug, form_for(name, address),
                                                 now=START, settings=settings)
    await db.commit()

    by_api = await client.get(f"/api/organiser/events/{event.id}/registrations.csv",
                              headers=organiser_headers, params={"status": "confirmed"})
    by_page = await admin_client.get(
        f"/organiser/events/{event.id}/registrations.csv?q=ana")

    assert (by_api.status_code, len(by_api.text.splitlines())) == (200, 3)
    assert (by_page.status_code, len(by_page.text.splitlines())) == (200, 2)
    entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "exported")
                                    .order_by(AuditEntry.id)))
    assert [re.sub(r"#\d+", "#N", e.actor_label) for e in entries] == [
        "API token #N (test organiser)", "Ada Admin <ada@procura.example.org>"]
    assert [(e.subject_type, e.event_id, e.at, e.after) for e in entries] == [
        ("registrations_export", event.id, START,
         {"rows": 2, "format": "csv", "filter": {"status": "confirmed"}}),
        ("registrations_export", event.id, START,
         {"rows": 1, "format": "csv", "filter": {"searched": "yes"}}),
    ]


# --- the administrators' page -------------------------------------------------------------------


async def test_administrators_publish_a_new_notice_and_export_one_person(
    db: AsyncSession, settings: Settings, admin_client: SignedInClient,
    organiser_client: SignedInClient,
) -> None:
    event = await make_event(db, settings)
    await registrations.register_participant(db, event.slug, form_for("Ana Silva", ANA),
                                             now=START, settings=settings)
    await db.commit()

    published = await admin_client.post_form("/organiser/privacy/notice",
                                             {"text": "Who we are\nThe network, <b>briefly</b>."})
    page = parse((await admin_client.get("/organiser/privacy?done=published")).text)
    empty = await admin_client.post_form("/organiser/privacy/notice", {"text": "  "})
    found = parse((await admin_client.post_form("/organiser/privacy/person",
                                                {"email": " ANA.Silva@lisboa.example.pt"})).text)
    download = await admin_client.post_form("/organiser/privacy/person/export", {"email": ANA})
    refused = await organiser_client.post_form("/organiser/privacy/person/export",
                                               {"email": ANA})
    public = parse((await admin_client.get("/privacy")).text)

    assert (published.status_code, published.headers["location"]) == (
        303, "/organiser/privacy?done=published")
    assert [[cell.text for cell in row.iter() if cell.tag in ("th", "td")]
            for row in page.one("table").find_all("tr")[1:]] == [
        ["2 (current)", "2026-09-10 08:00", "Ada Admin <ada@procura.example.org>", "Not said"],
        ["1", "2026-09-10 08:00", "installation (default text)", "English"]]
    assert page.one("textarea", name="text").text == "Who we are The network, <b>briefly</b>."
    assert (empty.status_code, parse(empty.text).one(id="text-error").text) == (
        422, "Error: Must not be empty.")
    assert [p.text for p in public.find_all("p")][:2] == [
        "Version 2, in force since 2026-09-10.", "The network, <b>briefly</b>."]
    assert [(r.one("th").text, r.one("td").text) for r in found.one(id="held").find_all("tr")] == [
        ("Registrations (all events)", "1"), ("Speaker or host records", "0"),
        ("Interest Group memberships", "0"), ("Invitations as a guest to a group meeting", "0"),
        ("Emails sent or queued", "1"), ("Requests for their own copy", "0"),
        ("Audit log entries about them", "0"), ("Organiser accounts", "0"),
        ("Failed sign-ins with the address", "0")]
    assert download.status_code == 200
    assert [r["email"] for r in json.loads(download.content)["registrations"]] == [ANA]
    assert refused.status_code == 403
    entries = list(await db.scalars(select(AuditEntry).where(AuditEntry.action == "exported")))
    assert [(e.actor_label, e.subject_type, e.after) for e in entries] == [
        ("Ada Admin <ada@procura.example.org>", "personal_data_export",
         {"rows": json.loads(download.content)["row_count"],
          "address": privacy.address_hash(settings, ANA)})]


# --- erasing everything, by the person's link and by an administrator ---------------------------


async def test_the_emailed_link_erases_everything_once(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, mail_settings: Settings,
    transport: SmtpTransport, smtp_server: SmtpTestServer,
) -> None:
    event = await make_event(db, mail_settings)
    assert (await register(client, event.slug, keep_informed=True)).status_code == 201
    await compose_emails(db_sessionmaker, mail_settings)
    token = await page_token(client, "/privacy/my-data")
    await client.post("/privacy/my-data", data={"csrf_token": token, "email": ANA})
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=utc_now(),
                             worker_id="test")
    [link_email] = [m for m in smtp_server.messages
                    if str(m.message["Subject"]) == "Your personal data at Procura+ Events"]
    found = DATA_LINK.search(link_email.message.get_body(preferencelist=("plain",)).get_content())
    assert found is not None
    link = found.group(1)
    delivered_before = len(smtp_server.messages)

    confirm = parse((await client.get(f"{link}/erase")).text)
    still_there = await rows_about(db, ANA)
    await db.commit()
    erased = await client.post(f"{link}/erase", data={
        "csrf_token": confirm.one("input", name="csrf_token").attrs["value"]})
    again = await client.post(f"{link}/erase", data={
        "csrf_token": confirm.one("input", name="csrf_token").attrs["value"]})
    link_page = await client.get(link)
    await deliver_due_emails(db_sessionmaker, transport, settings=mail_settings, now=utc_now(),
                             worker_id="test")

    assert confirm.one("h1").text == f"Erase everything about {ANA}?"
    assert {table for table, _ in still_there} >= {"registrations", "data_requests"}
    assert (erased.status_code, parse(erased.text).one(id="erased").find_all("p")[0].text) == (
        200, "We no longer hold your name or your email address: 1 registration erased, "
        "0 emails not yet sent withdrawn.")
    assert (again.status_code, "This link does not work" in again.text) == (404, True)
    assert (link_page.status_code, parse(link_page.text).one("main").find_all("p")[0].text) == (
        410, "The data held about this address has been erased, and this link no longer "
        "works. Thank you.")
    assert await rows_about(db, ANA) == set()
    assert await rows_about(db, "Ana Silva") == set()
    assert len(smtp_server.messages) == delivered_before


async def test_an_administrator_erases_one_person_after_confirming(
    db: AsyncSession, settings: Settings, admin_client: SignedInClient,
) -> None:
    event = await make_event(db, settings)
    await registrations.register_participant(db, event.slug, form_for("Ana Silva", ANA),
                                             now=START, settings=settings)
    await registrations.register_participant(db, event.slug, form_for("Ben Weber", BEN),
                                             now=START, settings=settings)
    await db.commit()

    confirm = parse((await admin_client.post_form("/organiser/privacy/person/erase-confirm",
                                                  {"email": ANA})).text)
    unconfirmed = await admin_client.post_form("/organiser/privacy/person/erase",
                                               {"email": ANA})
    left = await rows_about(db, ANA)
    await db.commit()
    erased = await admin_client.post_form("/organiser/privacy/person/erase",
                                          {"email": ANA, "confirm": "erase"})

    assert confirm.one("h1").text == f"Erase everything held about {ANA}?"
    assert [(i.attrs["name"], i.attrs["value"]) for i in confirm.find_all("input", type="hidden")
            if i.attrs["name"] != "_csrf"] == [("email", ANA), ("confirm", "erase")]
    assert (unconfirmed.status_code, unconfirmed.headers["location"]) == (
        303, "/organiser/privacy")
    assert ("registrations", (await db.scalar(select(Registration.id).where(
        Registration.email_normalised == BEN)))) not in left and left != set()
    assert (erased.status_code, erased.headers["location"]) == (
        303, "/organiser/privacy?done=erased")
    assert await rows_about(db, ANA) == set()
    assert await db.scalar(select(func.count(Registration.id)).where(
        Registration.email_normalised == BEN)) == 1
    entries = [(e.action, e.actor_label, e.after) for e in await db.scalars(
        select(AuditEntry).where(AuditEntry.action == "erased"))]
    assert entries == [("erased", "Ada Admin <ada@procura.example.org>",
                        {"reason": privacy.ADMIN_ERASURE_REASON})]
