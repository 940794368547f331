"""Each person's language: every email to them is written in it, whoever causes the email.

A German-speaking and a French-speaking registrant of the same session get their
confirmation, their reminder (through the scheduler's real jobs) and a change notice (an
organiser moves the session while reading English) each in their own language: the message
says so (Content-Language, the HTML's `lang`), and everything in it that is worded (times,
dates, labels) is what the wording gives in that language. The expected texts are computed
with `use_language`, so they hold whatever the catalogues translate. Runs on SQLite and
PostgreSQL.
"""

from __future__ import annotations

import email
import email.policy
from collections.abc import AsyncIterator
from datetime import UTC, datetime, timedelta
from email.message import EmailMessage as MimeMessage
from typing import Any

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from scheduling.jobs import JobContext, job_compose_welcome_emails, job_prepare_reminders
from service.db.engine import session_scope
from service.db.models import AccessPurpose, Account, OutboxEmail, Registration, Session
from service.domain import access, groups, programme, wording
from service.domain.accounts import (
    create_account,
    invite_account,
    request_password_reset,
    set_account_language,
)
from service.domain.errors import InvalidInputError
from service.domain.notices.changes import process_due_change_notices
from service.i18n import gettext as _
from service.i18n import use_language
from service.settings import Settings
from service.web.app import create_app
from tests.conftest import TEST_BASE_URL
from tests.factories import (
    make_event,
    make_group,
    make_group_member,
    make_interest_group,
    make_organisation,
    make_person,
    registration_form,
)
from tests.integration.backoffice import csrf_in, make_account, sign_in

Client = AsyncTestClient[Litestar]
Sessionmaker = async_sessionmaker[AsyncSession]
ZONE = "Europe/Brussels"
# The organiser's edit, long before the first session (12 November 2035, 10:00 CET).
EDIT = datetime(2035, 10, 1, 12, 0, tzinfo=UTC)
# The moved session's one-day reminder falls due (11:00 CET on 12 November: 10:00 UTC).
DAY_BEFORE_FIRST = datetime(2035, 11, 11, 10, 0, tzinfo=UTC)


class NoMail:
    """The jobs here queue emails; none is sent."""

    async def send(self, *args: Any, **kwargs: Any) -> None:  # pragma: no cover
        raise AssertionError("nothing is sent in these tests")

    async def close(self) -> None:  # pragma: no cover
        return None


def public_csrf_in(html: str) -> str:
    """The form token of a public page."""
    return html.split('name="csrf_token" value="', 1)[1].split('"', 1)[0]


def mime(row: OutboxEmail) -> MimeMessage:
    assert row.raw_message is not None
    message = email.message_from_bytes(row.raw_message, policy=email.policy.default)
    assert isinstance(message, MimeMessage)
    return message


def text_of(row: OutboxEmail) -> str:
    body = mime(row).get_body(preferencelist=("plain",))
    assert body is not None
    return str(body.get_content())


def html_of(row: OutboxEmail) -> str:
    body = mime(row).get_body(preferencelist=("html",))
    assert body is not None
    return str(body.get_content())


def language_of(row: OutboxEmail) -> str:
    """The message's own word for its language: Content-Language (absent for English) and
    the HTML's `lang`, which must agree."""
    html_lang = html_of(row).split('<html lang="', 1)[1].split('"', 1)[0]
    header = mime(row).get("Content-Language", "en")
    assert header == html_lang, (header, html_lang)
    return str(header)


async def emails(sessionmaker: Sessionmaker) -> list[OutboxEmail]:
    async with sessionmaker() as db:
        return list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))


@pytest.fixture
async def english_client(app: Litestar) -> AsyncIterator[Client]:
    """A browser that asks for English."""
    async with AsyncTestClient(app=app, base_url=TEST_BASE_URL) as client:
        client.headers["Accept-Language"] = "en-GB,en;q=0.9"
        yield client


async def test_each_registrant_reads_confirmation_reminder_and_change_notice_in_their_language(
    english_client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    first = min(event.sessions, key=lambda s: s.starts_at)
    await db.commit()
    people = {"de": ("Anna Schmidt", "anna.schmidt@muenchen.example.de"),
              "fr": ("Brigitte Martin", "brigitte.martin@lyon.example.fr")}
    for language, (name, address) in people.items():
        answer = await english_client.post(f"/api/events/{event.slug}/registrations",
                                           json=registration_form(name, address,
                                                                  language=language))
        assert answer.status_code == 201, answer.text
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings, transport=NoMail())
    composed = await job_compose_welcome_emails(context)

    # An organiser reading English moves the first session by an hour.
    with use_language("en"):
        async with session_scope(db_sessionmaker) as edit:
            await programme.update_session(
                edit, first.id, programme.SessionUpdate(starts_at="2035-11-12T11:00",
                                                        ends_at="2035-11-12T12:45"),
                now=EDIT, settings=settings)
    async with session_scope(db_sessionmaker) as job:
        notices = await process_due_change_notices(
            job, now=EDIT + timedelta(seconds=settings.change_notice_window_seconds), settings=settings)
    with time_machine.travel(DAY_BEFORE_FIRST, tick=False):
        reminded = await job_prepare_reminders(context)

    rows = await emails(db_sessionmaker)
    assert (composed, notices.emails, reminded) == (2, 2, 2)
    assert [(row.template, row.to_address, language_of(row)) for row in rows] == [
        ("registration_confirmed_to_registrant", people["de"][1], "de"),
        ("registration_confirmed_to_registrant", people["fr"][1], "fr"),
        ("session_changed_to_registrant", people["de"][1], "de"),
        ("session_changed_to_registrant", people["fr"][1], "fr"),
        ("reminder_to_registrant", people["de"][1], "de"),
        ("reminder_to_registrant", people["fr"][1], "fr"),
    ]
    async with db_sessionmaker() as check:
        moved = await check.get(Session, first.id)
        assert moved is not None
    starts, ends = moved.starts_at, moved.ends_at
    for row in rows:
        language = language_of(row)
        with use_language(language):
            # The worded times each email gives, as the wording says them in that language.
            if row.template == "registration_confirmed_to_registrant":
                expected = wording.session_when(first.starts_at, first.ends_at, ZONE)[0]
            else:
                expected = wording.period_text(starts, ends, ZONE)
        assert expected in text_of(row), (language, row.template, expected)


async def test_an_invalid_language_is_refused_naming_the_field_and_nothing_is_stored(
    english_client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    await db.commit()

    answer = await english_client.post(f"/api/events/{event.slug}/registrations",
                                       json=registration_form(language="klingon"))

    assert answer.status_code == 422
    fields = [error.get("field") for error in answer.json().get("errors", [])]
    assert fields == ["language"], answer.text
    async with db_sessionmaker() as check:
        stored = await check.scalar(select(func.count()).select_from(Registration))
        queued = await check.scalar(select(func.count()).select_from(OutboxEmail))
    assert (stored, queued) == (0, 0)


async def test_the_api_defaults_to_the_requests_language_and_the_private_page_changes_it(
    client: Client, db: AsyncSession, db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    await db.commit()

    answer = await client.post(f"/api/events/{event.slug}/registrations",
                               json=registration_form(),
                               headers={"Accept-Language": "nl-BE,nl;q=0.9,en;q=0.5"})
    assert answer.status_code == 201, answer.text
    token = answer.json()["manage_url"].rsplit("/", 1)[1]
    page = await client.get(f"/registrations/{token}")
    chosen = page.text.split('<select id="language"', 1)[1].split("</select>", 1)[0]
    changed = await client.post(f"/registrations/{token}/details", follow_redirects=False,
                                data={"csrf_token": public_csrf_in(page.text),
                                      "name": "Ana Silva",
                                      "organisation_name": "Câmara Municipal de Lisboa",
                                      "language": "it"})

    assert '<option value="nl" lang="nl" selected>Nederlands</option>' in chosen
    assert changed.status_code == 303, changed.text
    async with db_sessionmaker() as check:
        languages = list(await check.scalars(select(Registration.language)))
    assert languages == ["it"]


async def test_a_private_page_speaks_its_owners_language_unless_this_browser_chose_one(
    english_client: Client, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings)
    speaker = await make_person(db, "Femke de Vries", "femke.devries@ams.example.nl")
    speaker.language = "nl"
    group = await make_interest_group(db)
    member = await make_group_member(db, group)
    member.language = "fr"
    speaker_token = await access.issue_access_token(
        db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key, now=EDIT,
        person_id=speaker.id)
    member_token = await access.group_member_token(
        db, member.id, AccessPurpose.GROUP_MEMBER_PAGE, secret_key=settings.secret_key, now=EDIT)
    await db.commit()
    registered = await english_client.post(f"/api/events/{event.slug}/registrations",
                                           json=registration_form(language="de"))
    assert registered.status_code == 201, registered.text
    token = registered.json()["manage_url"].rsplit("/", 1)[1]

    def spoken(response: Any) -> tuple[int, str | None, str]:
        return (response.status_code, response.headers.get("content-language"),
                response.text.split('<html lang="', 1)[1][:2])

    # An English browser: each page in its owner's language, forms' answers too.
    private = await english_client.get(f"/registrations/{token}")
    cancel = await english_client.get(f"/registrations/{token}/cancel")
    refused = await english_client.post(f"/registrations/{token}/details",
                                        data={"csrf_token": public_csrf_in(private.text),
                                              "name": "", "organisation_name": "Lisboa"})
    assert [spoken(r) for r in (private, cancel)] == [(200, "de", "de")] * 2
    assert spoken(refused)[1:] == ("de", "de")
    assert spoken(await english_client.get(f"/speakers/{speaker_token}")) == (200, "nl", "nl")
    assert spoken(await english_client.get(f"/groups/me/{member_token}")) == (200, "fr", "fr")
    # The public pages and the API still follow the browser; an unknown link is a 404.
    assert spoken(await english_client.get(f"/events/{event.slug}")) == (200, "en", "en")
    api = await english_client.get(f"/api/registrations/{token}")
    assert api.headers["content-language"] == "en"
    assert (await english_client.get("/registrations/not-a-link")).status_code == 404

    # A language picked on the page wins, and is kept after a form sent from it.
    picked = await english_client.get(f"/registrations/{token}", params={"lang": "it"})
    after = await english_client.get(f"/registrations/{token}?done=details")
    assert [spoken(r) for r in (picked, after)] == [(200, "it", "it")] * 2


async def test_the_back_office_speaks_the_organisers_own_language_unless_the_address_names_one(
    settings: Settings, db_sessionmaker: Sessionmaker,
) -> None:
    account_id = await make_account(db_sessionmaker, email="dora@procura.example.org",
                                    name="Dora Deutsch", role="viewer")
    async with AsyncTestClient(app=create_app(settings), base_url=TEST_BASE_URL) as client:
        client.headers["Accept-Language"] = "en"
        assert (await sign_in(client, "dora@procura.example.org")).status_code == 303
        page = await client.get("/organiser/account")
        refused = await client.post("/organiser/account", follow_redirects=False,
                                    data={"_csrf": csrf_in(page.text), "language": "xx"})
        saved = await client.post("/organiser/account", follow_redirects=False,
                                  data={"_csrf": csrf_in(page.text), "language": "de"})
        home = await client.get("/organiser/")
        shared = await client.get("/organiser/?lang=fr")

    assert (refused.status_code, saved.status_code, saved.headers.get("location")) == (
        422, 303, "/organiser/account?done=saved")
    assert 'id="language-error"' in refused.text
    assert [(r.headers.get("content-language"), r.text.split('<html lang="', 1)[1][:2])
            for r in (page, home, shared)] == [("en", "en"), ("de", "de"), ("fr", "fr")]
    with use_language("de"):
        your_account = _("Your account")
    assert f'aria-current="page">{your_account}</a>' not in home.text
    assert f">{your_account}</a>" in home.text
    async with db_sessionmaker() as check:
        account = await check.get(Account, account_id)
        assert account is not None
    assert account.language == "de"


async def queued(db: AsyncSession) -> list[tuple[str, str, str]]:
    """Every queued email: (template, address, its language)."""
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    return [(row.template, row.to_address, language_of(row)) for row in rows]


async def test_interest_group_emails_follow_each_persons_language_not_the_deciders(
    db: AsyncSession, settings: Settings,
) -> None:
    facilitator = await make_person(db, "Femke de Vries", "femke.devries@ams.example.nl")
    facilitator.language = "nl"
    group = await make_group(db, facilitator=facilitator)
    lyon = await make_organisation(db, "Ville de Lyon")

    # A French visitor on a German page, then a facilitator reading Spanish decides.
    with use_language("de"):
        member = await groups.express_interest(db, group, groups.InterestForm(
            name="Claire Dubois", email="claire.dubois@lyon.example.fr",
            organisation_name=lyon.name, language="fr"), now=EDIT, settings=settings)
    with use_language("es"):
        await groups.approve_member(db, member.id, now=EDIT, settings=settings)
    with pytest.raises(InvalidInputError) as refused:
        await groups.express_interest(db, group, groups.InterestForm(
            name="Dora Weber", email="dora.weber@example.de", organisation_name=lyon.name,
            language="xx"), now=EDIT, settings=settings)

    assert [problem.field for problem in refused.value.errors] == ["language"]
    assert await queued(db) == [
        ("group_interest_received_to_member", "claire.dubois@lyon.example.fr", "fr"),
        ("group_interest_to_facilitator", "femke.devries@ams.example.nl", "nl"),
        ("group_member_approved_to_member", "claire.dubois@lyon.example.fr", "fr"),
    ]


async def test_organisers_emails_are_in_their_accounts_language_and_a_bad_one_is_refused(
    db: AsyncSession, settings: Settings,
) -> None:
    account = await create_account(db, email="ida@procura.example.org", name="Ida Italiano",
                                   role="organiser", password="a long enough password 1",
                                   team_ids=[], now=EDIT)
    await set_account_language(db, account.id, "it", now=EDIT)
    with pytest.raises(InvalidInputError) as refused:
        await set_account_language(db, account.id, "xx", now=EDIT)

    # An administrator reading English resets one password and invites a French colleague.
    with use_language("en"):
        await request_password_reset(db, "ida@procura.example.org", now=EDIT,
                                     settings=settings)
        await invite_account(db, email="fanny@procura.example.org", name="Fanny Faure",
                             role="viewer", team_ids=[], invited_by="Ada Admin", now=EDIT,
                             settings=settings, language="fr")

    assert [problem.field for problem in refused.value.errors] == ["language"]
    assert (account.language, await queued(db)) == ("it", [
        ("password_reset_to_organiser", "ida@procura.example.org", "it"),
        ("account_invitation_to_organiser", "fanny@procura.example.org", "fr")])
