"""The back office's personal data page of an event: its retention dates, what happens then
and how many rows it will touch; editors set the event's own period, others cannot. And an
Interest Group's: when its members' data goes."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AuditEntry, Event, GroupMemberStatus, OrganisationKind
from service.domain.privacy import retention
from service.domain.privacy.erasure import ERASED_NAME, erased_address
from service.settings import Settings
from service.web.backoffice.event_pages import local_and_utc
from tests.factories import (
    EventSpec,
    SessionSpec,
    make_event,
    make_group,
    make_group_member,
    make_registration,
)
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

NOW = datetime(2026, 9, 1, 8, tzinfo=UTC)
SPEC = EventSpec(slug="lisbon-visit", title="CityMatch Lisbon",
                 sessions=(SessionSpec("Study visit", "2035-09-18T10:00", "2035-09-18T12:00"),),
                 commit=False, now=NOW)


async def test_the_page_shows_the_dates_and_an_organiser_sets_the_period(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, SPEC)
    event_id, session = event.id, event.sessions[0]
    for name in ("Ana Ferreira", "Bruno Costa"):
        row = await make_registration(db, event, session, name, now=NOW)
        row.organisation_kind, row.country = OrganisationKind.PUBLIC_AUTHORITY, "PT"
    await db.commit()
    url = f"/organiser/events/{event.id}/personal-data"

    page = await organiser_client.get(url)
    text = parse(page.text).one("main").text
    assert page.status_code == 200
    assert "The event ends Tue 18 Sep 2035 12:00 CEST (10:00 UTC)" in text
    assert ("Registrants' personal data is kept 12 months after that (the installation's "
            "default).") in text
    rows = [r.text for r in parse(page.text).one("tbody").find_all("tr")]
    assert rows == [
        "Thu 18 Oct 2035 12:00 CEST 10:00 UTC Accessibility and dietary notes are deleted "
        "(30 days after the event). 0 notes",
        "Thu 18 Sep 2036 12:00 CEST 10:00 UTC Names, email addresses, organisations, job "
        "titles, notes and private links are removed; the bodies of emails sent are dropped "
        "and their addresses replaced by a keyed hash. 2 registrations, 0 emails",
    ]
    assert "Registrants with a place, by type of organisation: Public authority 2." in text
    editor = await organiser_client.get(f"/organiser/events/{event.id}")
    assert url in [a.attrs.get("href") for a in parse(editor.text).find_all("a")]

    refused = [await viewer_client.post_form(f"{url}/retention", {"retention_months": "3"}),
               await other_team_client.post_form(f"{url}/retention",
                                                 {"retention_months": "3"})]
    bad = await organiser_client.post_form(f"{url}/retention", {"retention_months": "121"})
    # Not read as its first digits ("000000" months, 123,456 months): 3, or out of range.
    long_ones = [await organiser_client.post_form(f"{url}/retention", {"retention_months": typed})
                 for typed in ("0000003", "1234567", "9" * 5000)]
    assert [r.status_code for r in refused] == [403, 403]
    assert bad.status_code == 422
    assert [r.status_code for r in long_ones] == [303, 422, 422]
    assert parse(bad.text).one("div", cls="field-error").one("label").text == (
        "Months to keep registrants' data after the event (optional)")
    assert "from 0 to 120" in parse(bad.text).one("main").text
    saved = await organiser_client.post_form(f"{url}/retention", {"retention_months": "3"})
    assert (saved.status_code, saved.headers["location"]) == (303, f"{url}?saved=true")
    shown = parse((await organiser_client.get(saved.headers["location"])).text).one("main").text
    assert "kept 3 months after that (this event's own period; the installation's default " \
           "is 12)" in shown
    assert "Tue 18 Dec 2035 11:00 CET" in shown

    db.expire_all()
    assert await db.scalar(select(Event.retention_months).where(Event.id == event_id)) == 3
    audit = list(await db.scalars(select(AuditEntry.after).where(
        AuditEntry.subject_type == "event", AuditEntry.subject_id == event_id,
        AuditEntry.action == "changed")))
    assert audit == [{"retention_months": 3}]


async def test_a_groups_page_shows_when_its_members_data_goes(
    organiser_client: SignedInClient, other_team_client: SignedInClient, db: AsyncSession,
) -> None:
    """Members and people waiting go 12 months after the group's last day (31 August 2028,
    midnight in Brussels); someone who left or was declined 12 months after that, the one
    past it at the next run; an erased member is counted as anonymised."""
    now = datetime.now(UTC)
    group = await make_group(db)
    group_id = group.id
    await make_group_member(db, group, name="Ana Ferreira", email="ana@lisboa.example.pt")
    await make_group_member(db, group, name="Bruno Costa", email="bruno@porto.example.pt",
                            status=GroupMemberStatus.INTERESTED)
    carla = await make_group_member(db, group, name="Carla Canal", email="carla@bcn.example.es",
                                    status=GroupMemberStatus.LEFT)
    carla.left_at = now - timedelta(days=1)
    dora = await make_group_member(db, group, name="Dora Duarte", email="dora@faro.example.pt",
                                   status=GroupMemberStatus.DECLINED)
    dora.decided_at = datetime(2020, 1, 6, tzinfo=UTC)
    address = erased_address()
    erased = await make_group_member(db, group, name=ERASED_NAME, email=address)
    erased.erased_at = now - timedelta(days=2)  # as erasure leaves the row
    undated = await make_group(db, "open-ended", topic="Open-ended")
    undated.ends_on = None
    await db.commit()
    url = f"/organiser/groups/{group_id}/personal-data"

    page = await organiser_client.get(url)
    text = parse(page.text).one("main").text
    rows = [r.text for r in parse(page.text).one("tbody").find_all("tr")]
    carla_goes = local_and_utc(retention.add_months(carla.left_at, 12), "Europe/Brussels")

    assert page.status_code == 200
    assert "The group ends Fri 01 Sep 2028 00:00 CEST (Thu 31 Aug 22:00 UTC)" in text
    assert ("Its members' personal data is kept 12 months after that (the installation's "
            "default); that of people who left or were declined, 12 months after they left "
            "or the decision; that of guests invited to one meeting, 12 months after that "
            "meeting.") in text
    assert rows == [
        "Sat 01 Sep 2029 00:00 CEST Fri 31 Aug 22:00 UTC Members, and people still waiting for a "
        "decision 2 people",
        f"From {carla_goes[0]} {carla_goes[1]} People who left or were declined 2 people",
        "12 months after the meeting each one was invited to Guests invited to one meeting "
        "0 people",
    ]
    assert "1 person is past their date: the next run anonymises them." in text
    assert "1 person of this group is anonymised already." in text
    editor = await organiser_client.get(f"/organiser/groups/{group_id}")
    assert url in [a.attrs.get("href") for a in parse(editor.text).find_all("a")]
    open_ended = parse((await organiser_client.get(
        f"/organiser/groups/{undated.id}/personal-data")).text).one("main").text
    assert "The group has no last day yet, so its members' personal data is kept" in open_ended
    refused = await other_team_client.get(url)
    assert refused.status_code in (403, 404)
    assert "Ana Ferreira" not in refused.text
