"""Feedback on an event, through real HTTP: once her webinar is over, Ana finds the form on
her private page; a form without a rating and with a comment too long is refused with both
named and nothing stored; her answers are saved (escaped wherever shown) and changed; Bruno,
whose session is still to come, is told feedback comes later. Organisers read the ratings
and comments without names (page, spreadsheet, API), viewers too; an organisers' message
carries the form's link to who is asked and has not answered; erasing Ana's registration
blanks her comments and keeps her rating. Both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    EnrolmentStatus,
    Feedback,
    OutboxEmail,
    RegistrationStatus,
)
from service.domain import privacy
from service.domain.access import current_access_token
from service.domain.registration import find_registration_by_token
from service.domain.registration.feedback import (
    FeedbackForm,
    asked_for_feedback,
    give_feedback,
)
from service.domain.registration.organiser_messages import MessageDraft, send_organiser_message
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    EventSpec,
    SessionSpec,
    make_event,
    make_registration,
    webinars_around_now,
)
from tests.integration.backoffice import SignedInClient
from tests.integration.test_organiser_messages import _body
from tests.integration.test_pages import csrf_token, parse

COMMENT = "The <b>market dialogue</b> & the Barcelona case."


async def _tokens(db: AsyncSession, settings: Settings, ids: dict[str, int]) -> dict[str, str]:
    return {name: await current_access_token(
        db, AccessPurpose.REGISTRATION_MANAGE, secret_key=settings.secret_key, now=BUILT_AT,
        registration_id=registration_id) for name, registration_id in ids.items()}


async def test_a_registrant_gives_feedback_and_organisers_read_it_without_names(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    held, coming = sorted(event.sessions, key=lambda s: s.starts_at)
    ids = {
        "ana": (await make_registration(db, event, held, "Ana Silva")).id,
        "bruno": (await make_registration(db, event, coming, "Bruno Costa")).id,
        "carla": (await make_registration(db, event, held, "Carla Canal",
                                          enrolment=EnrolmentStatus.WAITING,
                                          status=RegistrationStatus.WAITING)).id,
    }
    tokens = await _tokens(db, settings, ids)
    await db.commit()
    event_id, slug, held_id, coming_id = event.id, event.slug, held.id, coming.id
    ana_form, bruno_form = (f"/registrations/{tokens['ana']}/feedback",
                            f"/registrations/{tokens['bruno']}/feedback")

    ana_page = await client.get(f"/registrations/{tokens['ana']}")
    bruno_page = await client.get(f"/registrations/{tokens['bruno']}")
    opened = await client.get(ana_form)
    csrf = await csrf_token(client, ana_form)
    refused = await client.post(ana_form, data={
        "csrf_token": csrf, "session_id": str(held_id), "most_useful": "x" * 4_001,
        "to_improve": "More time"})
    refused_rows = await db.scalar(select(Feedback.id))
    saved = await client.post(ana_form, follow_redirects=False, data={
        "csrf_token": csrf, "session_id": str(held_id), "rating": "4", "most_useful": COMMENT,
        "to_improve": ""})
    saved_page = await client.get(saved.headers["location"])
    changed = await client.post(ana_form, follow_redirects=False, data={
        "csrf_token": csrf, "session_id": str(held_id), "rating": "5", "most_useful": COMMENT,
        "to_improve": "Longer\nbreaks"})
    too_early_page = await client.get(bruno_form)
    too_early = await client.post(bruno_form, data={
        "csrf_token": csrf, "session_id": str(coming_id), "rating": "3"})
    no_token = await client.post(ana_form, data={"rating": "1"})
    results = await organiser_client.get(f"/organiser/events/{event_id}/feedback")
    as_viewer = await viewer_client.get(f"/organiser/events/{event_id}/feedback")
    spreadsheet = await organiser_client.get(f"/organiser/events/{event_id}/feedback.csv")
    api = await client.get(f"/api/organiser/events/{event_id}/feedback",
                           headers=organiser_headers)
    event_page = await organiser_client.get(f"/organiser/events/{event_id}")

    # Where it is asked: Ana's private page; not Bruno's (his session is to come).
    assert ana_form in [a.attrs.get("href") for a in parse(ana_page.text).find_all("a")]
    assert "/feedback" not in bruno_page.text
    assert opened.status_code == 200 and opened.headers["cache-control"] == "no-store"
    assert [i.attrs["value"] for i in parse(opened.text).find_all("input", type="radio")] == [
        "1", "2", "3", "4", "5"]
    # Every problem at once, beside its field; nothing stored.
    assert refused.status_code == 422
    assert [a.attrs["href"] for a in parse(refused.text).one(cls="error-summary")
            .find_all("a")] == ["#rating", "#most_useful"]
    assert "At most 4000 characters." in refused.text
    assert refused_rows is None
    assert saved.status_code == 303
    assert saved.headers["location"] == f"{ana_form}?session={held_id}&done=saved"
    assert "Thank you: your feedback is saved." in parse(saved_page.text).one(cls="notice").text
    assert "checked" in parse(saved_page.text).one("input", id="rating-4").attrs
    assert "The &lt;b&gt;market dialogue&lt;/b&gt; &amp; the Barcelona case." in saved_page.text
    assert changed.status_code == 303
    assert too_early.status_code == 409
    for page in (too_early_page.text, too_early.text):
        assert "Feedback is asked for once a session you hold a place in is over." in page
    assert no_token.status_code == 403
    db.expire_all()
    [(rating, most_useful, to_improve)] = (await db.execute(
        select(Feedback.rating, Feedback.most_useful, Feedback.to_improve))).all()
    assert (rating, most_useful, to_improve) == (5, COMMENT, "Longer\nbreaks")

    # Organisers: counts and comments, never a name; Carla waiting was not asked.
    assert f"/organiser/events/{event_id}/feedback" in [
        a.attrs.get("href") for a in parse(event_page.text).find_all("a")]
    main = parse(results.text).one("main")
    assert "1 of 1 asked have answered. Average: 5.0 out of 5." in main.text
    assert [row.text for row in main.one("table").find_all("tr")][1:] == [
        "5: extremely useful 1", "4: very useful 0", "3: useful 0", "2: a little useful 0",
        "1: not useful 0"]
    assert "The &lt;b&gt;market dialogue&lt;/b&gt;" in results.text
    assert "Ana" not in main.text and f"ana@{slug}" not in results.text
    assert as_viewer.status_code == 200 and "Longer" in as_viewer.text
    assert spreadsheet.headers["content-type"].startswith("text/csv")
    assert "5,,The <b>market dialogue</b> & the Barcelona case.,\"Longer\r\nbreaks\"" in (
        spreadsheet.content.decode("utf-8-sig").replace("\r\n", "\n").replace("\n", "\r\n"))
    body = api.json()
    assert (body["answers"], body["asked"], body["average"]) == (1, 1, 5.0)
    assert body["ratings"] == {"1": 0, "2": 0, "3": 0, "4": 0, "5": 1}
    assert [(t["session_id"], t["answers"], t["average"]) for t in body["sessions"]] == [
        (held_id, 1, 5.0)]
    assert [(c["session_id"], c["rating"], c["to_improve"]) for c in body["comments"]] == [
        (held_id, 5, "Longer\nbreaks")]
    assert "Ana" not in api.text


async def test_the_registrant_api_gives_and_reads_feedback(
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    held, coming = sorted(event.sessions, key=lambda s: s.starts_at)
    ids = {"ana": (await make_registration(db, event, held, "Ana Silva")).id,
           "bruno": (await make_registration(db, event, coming, "Bruno Costa")).id}
    tokens = await _tokens(db, settings, ids)
    await db.commit()
    held_id, coming_id, held_title = held.id, coming.id, held.title
    ana, bruno = (f"/api/registrations/{tokens['ana']}/feedback",
                  f"/api/registrations/{tokens['bruno']}/feedback")

    before = await client.get(ana)
    refused = await client.put(ana, json={"session_id": held_id, "rating": 7,
                                          "to_improve": "a\x00b"})
    given = await client.put(ana, json={"session_id": held_id, "rating": 2,
                                        "to_improve": "Sound was poor"})
    read = await client.get(ana)
    not_hers = await client.put(ana, json={"session_id": coming_id, "rating": 3})
    early = await client.put(bruno, json={"session_id": coming_id, "rating": 3})
    bruno_read = await client.get(bruno)

    assert before.json() == {"asked": True, "questions": [], "sessions": [{
        "session_id": held_id, "title": held_title, "rating": None, "most_useful": "",
        "to_improve": "", "given_at": None, "updated_at": None, "answers": {}}]}
    assert before.headers["cache-control"] == "no-store"
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["rating", "to_improve"]
    assert given.status_code == 200 and given.json()["sessions"][0]["rating"] == 2
    [answer] = read.json()["sessions"]
    assert answer["to_improve"] == "Sound was poor" and answer["given_at"]
    for refusal in (not_hers, early):
        assert refusal.status_code == 409
        assert refusal.json()["errors"][0]["field"] == "session_id"
    assert bruno_read.json() == {"asked": False, "questions": [], "sessions": []}


async def test_messages_carry_the_form_to_who_has_not_answered_and_erasure_blanks_comments(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    held, coming = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, held, "Ana Silva")
    await make_registration(db, event, coming, "Bruno Costa")
    draft = MessageDraft(audiences=("confirmed",), subject="Thank you", text="Thanks!")
    now = datetime.now(UTC)

    await send_organiser_message(db, event.id, draft, now=now, settings=settings)
    token = await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                       secret_key=settings.secret_key, now=now,
                                       registration_id=ana.id)
    found = await find_registration_by_token(db, token)
    await give_feedback(db, found, held.id,
                        FeedbackForm(rating=4, most_useful="I am Ana from Lisbon"), now=now)
    await send_organiser_message(db, event.id, draft, now=now, settings=settings)
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    texts = [(row.to_address.split("@")[0], _body(row, "plain")) for row in rows]
    first_page = _body(rows[0], "html")
    await privacy.erase_registration(db, found, now=now, reason="registrant",
                                     settings=settings)

    form = f"/registrations/{token}/feedback"
    assert [(name, form in text) for name, text in texts] == [
        ("ana", True), ("bruno", False), ("ana", False), ("bruno", False)]
    assert f'<a href="{settings.public_base_url}{form}"' in first_page
    db.expire_all()
    [(rating, most_useful)] = (await db.execute(
        select(Feedback.rating, Feedback.most_useful))).all()
    assert (rating, most_useful) == (4, "")


async def test_each_session_over_is_asked_about_in_turn(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar], db: AsyncSession,
    settings: Settings,
) -> None:
    """A webinar series whose two webinars are over: Ana's form is about the first, then
    the second; the messages bring the link until both have an answer; organisers read
    each webinar's figures."""
    now = datetime.now(UTC).replace(second=0, microsecond=0)
    first, second = (SessionSpec(title, (now - timedelta(hours=start)).isoformat(),
                                 (now - timedelta(hours=start - 1)).isoformat())
                     for title, start in (("Market dialogue", 5), ("Contract management", 2)))
    event = await make_event(db, settings, EventSpec(sessions=(first, second), commit=False))
    earlier, later = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, (earlier, later), "Ana Silva")
    tokens = await _tokens(db, settings, {"ana": ana.id})
    await db.commit()
    ids = (event.id, ana.id, earlier.id, later.id)
    form = f"/registrations/{tokens['ana']}/feedback"

    opened = parse((await client.get(form)).text)
    csrf = await csrf_token(client, form)
    await client.post(form, data={"csrf_token": csrf, "session_id": str(ids[2]), "rating": "3"})
    still_asked = await asked_for_feedback(db, [ids[1]], now)
    await db.rollback()
    next_one = parse((await client.get(form)).text)
    await client.post(form, data={"csrf_token": csrf, "session_id": str(ids[3]), "rating": "5"})
    done_asking = await asked_for_feedback(db, [ids[1]], now)
    await db.rollback()
    first_again = parse((await client.get(form, params={"session": ids[2]})).text)
    results = parse((await organiser_client.get(f"/organiser/events/{ids[0]}/feedback")).text)

    sessions = [li.text.split(" (")[0] + ": " + li.text.rsplit(": ", 1)[1]
                for li in opened.one("ul", cls="links").find_all("li")]
    assert sessions == ["Market dialogue: not answered yet",
                        "Contract management: not answered yet"]
    assert opened.one("h2", id="session-heading").text == "Market dialogue"
    assert still_asked == {ids[1]}
    assert next_one.one("h2", id="session-heading").text == "Contract management"
    assert done_asking == set()
    assert "checked" in first_again.one("input", id="rating-3").attrs
    main = results.one("main")
    assert "2 of 2 asked have answered. Average: 4.0 out of 5." in main.text
    assert [row.text for row in main.find_all("table")[1].find_all("tr")][1:] == [
        "Market dialogue 1 1 3.0", "Contract management 1 1 5.0"]
