"""Who attended a webinar, through real HTTP: before the session starts attendance cannot be
recorded; after it, the organiser pastes the webinar tool's attendee report (a CSV as Zoom
exports it, addresses in any case and inside angle brackets) and exactly the session's
registrants found there count as having attended: not who cancelled, not who registered for
another session, not a guest; a second paste changes nothing. Then certificates, figures
and the messages to who attended follow, as after a check-in at a door. A viewer reads the
list but cannot record. Both databases.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    Enrolment,
    EnrolmentStatus,
    Registration,
    RegistrationStatus,
)
from service.domain.access import current_access_token
from service.domain.times import iso_utc
from service.settings import Settings
from tests.factories import BUILT_AT, make_event, make_registration, webinars_around_now
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse


def _attendees(page: str) -> list[str]:
    """The names on the page's list of who attended (each before its button)."""
    return [li.text.split("Take back")[0].strip()
            for li in parse(page).one("ul", cls="attendees").find_all("li")]


def _report(slug: str) -> str:
    """An attendee report as Zoom writes it: a header block, then one row per attendee."""
    return "\n".join([
        "Attendee Report,", "Report Generated:,11/12/2035 12:00 PM", "Attendee Details,",
        "Attended,User Name (Original Name),First Name,Last Name,Email,Time in Session (minutes)",
        f"Yes,Ana Silva,Ana,Silva,ANA@{slug}.example.org,104",
        f'Yes,Bruno,Bruno,Costa,"Bruno Costa <bruno@{slug}.example.org>",97',
        f"Yes,Carla Canal,Carla,Canal,carla@{slug}.example.org,60",
        f"Yes,Dora Weiss,Dora,Weiss,dora@{slug}.example.org,30",
        "Yes,Guest,Guest,,guest@elsewhere.example.org,12",
        f"Yes,Ana Silva,Ana,Silva,ana@{slug}.example.org,5",
    ])


async def test_a_pasted_attendee_report_marks_the_sessions_registrants_who_attended(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    winter, spring = sorted(event.sessions, key=lambda s: s.starts_at)
    people = {
        "ana": await make_registration(db, event, winter, "Ana Silva"),
        "bruno": await make_registration(db, event, winter, "Bruno Costa"),
        "carla": await make_registration(db, event, winter, "Carla Canal",
                                         status=RegistrationStatus.CANCELLED,
                                         enrolment=EnrolmentStatus.CANCELLED),
        "dora": await make_registration(db, event, spring, "Dora Weiss"),
        "emil": await make_registration(db, event, winter, "Emil Novak"),
    }
    ids = {name: person.id for name, person in people.items()}
    token = await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                       secret_key=settings.secret_key, now=BUILT_AT,
                                       registration_id=ids["ana"])
    await db.commit()
    event_id, slug, winter_id, spring_id = event.id, event.slug, winter.id, spring.id
    winter_start = winter.starts_at
    url = f"/organiser/sessions/{winter_id}/attendance"
    message_form = f"/organiser/events/{event_id}/message"

    no_attendance_yet = await organiser_client.get(message_form)
    tomorrow = f"/organiser/sessions/{spring_id}/attendance"
    early_page = await organiser_client.get(tomorrow)
    early = await organiser_client.post_form(tomorrow, {"report": _report(slug)})
    recorded = await organiser_client.post_form(url, {"report": _report(slug)})
    again = await organiser_client.post_form(url, {"report": _report(slug)})
    empty = await organiser_client.post_form(url, {"report": "  "})
    as_viewer = await viewer_client.get(url)
    viewer_post = await viewer_client.post_form(url, {"report": _report(slug)})
    certificate = await client.get(f"/registrations/{token}/certificate")
    private_page = await client.get(f"/registrations/{token}")
    private_api = await client.get(f"/api/registrations/{token}")
    figures = await organiser_client.get(f"/organiser/events/{event_id}/figures")
    with_attendance = await organiser_client.get(message_form)

    assert "Attendance can be recorded once the session has started." in early_page.text
    assert "<textarea" not in early_page.text
    assert early.status_code == 409
    assert recorded.status_code == 200
    notice = parse(recorded.text).one(cls="notice")
    assert "2 people now count as having attended." in notice.text
    assert notice.text.endswith(f"carla@{slug}.example.org, dora@{slug}.example.org, "
                                "guest@elsewhere.example.org")
    assert _attendees(recorded.text) == ["Ana Silva", "Bruno Costa"]
    assert "0 people now count as having attended. 2 already did." in again.text
    take_back = f"{url}/{ids['bruno']}/take-back"
    assert take_back in [form.attrs.get("action") for form in parse(again.text).find_all("form")]
    assert empty.status_code == 422
    db.expire_all()
    attended = dict((await db.execute(
        select(Registration.name, Enrolment.checked_in_at)
        .join(Enrolment, Enrolment.registration_id == Registration.id)
        .where(Registration.event_id == event_id))).all())
    assert attended == {"Ana Silva": winter_start, "Bruno Costa": winter_start,
                        "Carla Canal": None, "Dora Weiss": None, "Emil Novak": None}
    assert as_viewer.status_code == 200 and "<textarea" not in as_viewer.text
    assert "Bruno Costa" in as_viewer.text
    assert viewer_post.status_code == 403
    # What follows a check-in follows: Ana's certificate, who came, whom to write to.
    assert certificate.status_code == 200 and "Social criteria in ICT tenders" in certificate.text
    badges = [b.text for b in parse(private_page.text).one("ul", cls="enrolments")
              .find_all("span", cls="badge")]
    assert badges == ["Confirmed", "Attended"]
    assert private_api.json()["sessions"][0]["attended_at"] == iso_utc(winter_start)
    assert "Registered: 4 with a place; came: 2" in figures.text
    labels = [label.text for label in parse(with_attendance.text).find_all("label")
              if label.attrs.get("for", "").startswith("audience")]
    assert labels[-2:] == ["Attended", "Confirmed, did not attend"]
    assert "Attended" not in [label.text for label in parse(no_attendance_yet.text)
                              .find_all("label")]

    # A mark made by mistake is taken back on the same page (an online session has no
    # check-in list); a viewer cannot, and Dora has no place in this session.
    viewer_take_back = await viewer_client.post_form(take_back, {})
    taken_back = await organiser_client.post_form(take_back, {})
    not_here = await organiser_client.post_form(f"{url}/{ids['dora']}/take-back", {})
    assert viewer_take_back.status_code == 403
    assert taken_back.status_code == 200
    assert parse(taken_back.text).one(cls="notice").text == (
        "Bruno Costa no longer counts as having attended.")
    assert _attendees(taken_back.text) == ["Ana Silva"]
    assert not_here.status_code == 404
    db.expire_all()
    bruno = await db.get(Registration, ids["bruno"])
    assert bruno is not None and bruno.checked_in_at is None
    assert await db.scalar(select(Enrolment.checked_in_at)
                           .where(Enrolment.registration_id == ids["bruno"])) is None


async def test_the_organiser_api_records_an_attendee_report(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    held, coming = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, held, "Ana Silva")
    await db.commit()
    ana_id = ana.id
    slug, urls = event.slug, (f"/api/organiser/sessions/{held.id}/attendance",
                              f"/api/organiser/sessions/{coming.id}/attendance")

    recorded = await client.post(urls[0], headers=organiser_headers,
                                 json={"report": _report(slug)})
    again = await client.post(urls[0], headers=organiser_headers,
                              json={"report": _report(slug)})
    early = await client.post(urls[1], headers=organiser_headers,
                              json={"report": _report(slug)})
    empty = await client.post(urls[0], headers=organiser_headers, json={"report": ""})
    read_only = await client.post(urls[0], headers=viewer_headers,
                                  json={"report": _report(slug)})
    viewer_take_back = await client.delete(f"{urls[0]}/{ana_id}", headers=viewer_headers)
    taken_back = await client.delete(f"{urls[0]}/{ana_id}", headers=organiser_headers)
    not_there = await client.delete(f"{urls[1]}/{ana_id}", headers=organiser_headers)
    marked_again = await client.post(urls[0], headers=organiser_headers,
                                     json={"report": _report(slug)})

    assert recorded.status_code == 200
    assert recorded.json() == {"marked": ["Ana Silva"], "already": 0, "unknown": [
        f"bruno@{slug}.example.org", f"carla@{slug}.example.org", f"dora@{slug}.example.org",
        "guest@elsewhere.example.org"]}
    assert (again.json()["marked"], again.json()["already"]) == ([], 1)
    assert early.status_code == 409 and early.json()["errors"][0]["field"] == "report"
    assert empty.status_code == 400 and "report" in empty.text
    assert read_only.status_code == 403
    assert viewer_take_back.status_code == 403
    assert taken_back.status_code == 204
    assert not_there.status_code == 404 and not_there.json()["errors"][0]["field"] == (
        "registration_id")
    assert marked_again.json()["marked"] == ["Ana Silva"]


async def test_a_big_webinars_report_is_read_whole(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str], db: AsyncSession,
    settings: Settings,
) -> None:
    """Three thousand attendees' addresses (more than some databases take as one
    statement's parameters): the registrant last in the report is found."""
    event = await make_event(db, settings, webinars_around_now())
    held = sorted(event.sessions, key=lambda s: s.starts_at)[0]
    await make_registration(db, event, held, "Ana Silva")
    await db.commit()
    lines = [f"Yes,Guest {n},guest{n}@elsewhere.example.org,60" for n in range(3_000)]
    report = "\n".join([*lines, f"Yes,Ana Silva,ana@{event.slug}.example.org,90"])

    answer = await client.post(f"/api/organiser/sessions/{held.id}/attendance",
                               headers=organiser_headers, json={"report": report})

    assert answer.status_code == 200
    assert (answer.json()["marked"], len(answer.json()["unknown"])) == (["Ana Silva"], 3_000)
