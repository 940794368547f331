"""Interest Groups in the back office over HTTP (both databases): the group editor (a bad
form answered with every field named and nothing stored), an organisation's standing, and
the members page, where only a Participant's person is approved and each decision is
emailed, and minutes published from the series' page.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    GroupMemberStatus,
    InterestGroup,
    MeetingSeries,
    NetworkStanding,
    Organisation,
    OutboxEmail,
    SessionMode,
)
from service.domain import groups
from service.settings import Settings
from tests.factories import (
    BUILT_AT,
    make_approved_member,
    make_group,
    make_organisation,
    make_person,
)
from tests.integration.backoffice import SignedInClient

GROUP_FORM = {"topic": "Socially Responsible Public Procurement of ICT",
              "slug": "socially-responsible-ict", "summary": "ICT supply chains.",
              "description": "", "visibility": "members", "timezone": "Europe/Brussels",
              "starts_on": "2026-09-01", "ends_on": "2028-08-31"}


async def test_the_editor_adds_a_group_and_refuses_a_bad_form_naming_every_field(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    refused = await organiser_client.post_form("/organiser/groups/new", {
        **GROUP_FORM, "slug": "Bad Slug", "topic": "", "starts_on": "someday",
        "timezone": "Mars/Olympus"})
    added = await organiser_client.post_form("/organiser/groups/new", GROUP_FORM)
    listing = await organiser_client.get("/organiser/groups")

    assert refused.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', refused.text) == [
        "starts_on", "slug", "topic", "timezone"]
    stored = list(await db.scalars(select(InterestGroup)))
    assert [(g.slug, g.visibility.value, g.ends_on and g.ends_on.isoformat()) for g in stored] \
        == [("socially-responsible-ict", "members", "2028-08-31")]
    assert (added.status_code, added.headers["location"]) == (
        303, f"/organiser/groups/{stored[0].id}?done=created")
    assert "Socially Responsible Public Procurement of ICT" in listing.text
    again = await organiser_client.post_form("/organiser/groups/new", {
        **GROUP_FORM, "topic": "", "timezone": "Mars/Olympus"})
    assert again.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', again.text) == ["topic", "timezone"]


async def test_an_organisations_standing_is_edited_on_its_page(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    lisboa = await make_organisation(db, "Lisboa", standing=NetworkStanding.NONE)
    await db.commit()

    saved = await organiser_client.post_form(f"/organiser/organisations/{lisboa.id}", {
        "name": "Lisboa", "kind": "public_authority", "standing": "strategic_partner"})
    refused = await organiser_client.post_form(f"/organiser/organisations/{lisboa.id}", {
        "name": "Lisboa", "kind": "public_authority", "standing": "emperor"})
    page = await organiser_client.get(f"/organiser/organisations/{lisboa.id}")

    assert (saved.status_code, refused.status_code) == (303, 422)
    await db.refresh(lisboa)
    assert lisboa.standing == NetworkStanding.STRATEGIC_PARTNER
    assert re.search(r'value="strategic_partner" checked', page.text) is not None


async def test_members_are_approved_only_for_participants_and_each_decision_is_emailed(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    lisboa = await make_organisation(db, "Lisboa")
    vendor = await make_organisation(db, "Vendor Ltd", standing=NetworkStanding.NONE)
    ana = await groups.express_interest(db, group, groups.InterestForm(
        name="Ana Silva", email="ana@lisboa.example.pt", organisation_name="Lisboa"),
        now=BUILT_AT, settings=settings)
    ivo = await groups.express_interest(db, group, groups.InterestForm(
        name="Ivo Vendor", email="ivo@vendor.example.org", organisation_name="Vendor Ltd"),
        now=BUILT_AT, settings=settings)
    await db.commit()

    page = await organiser_client.get(f"/organiser/groups/{group.id}/members")
    refused = await organiser_client.post_form(f"/organiser/group-members/{ivo.id}/approve", {
        "organisation_id": str(vendor.id)})
    approved = await organiser_client.post_form(f"/organiser/group-members/{ana.id}/approve", {
        "organisation_id": str(lisboa.id), "note": "Welcome <Ana>"})
    declined = await organiser_client.post_form(f"/organiser/group-members/{ivo.id}/decline", {
        "note": "Ask us about joining the network."})

    assert ("Ana Silva" in page.text, "Ivo Vendor" in page.text) == (True, True)
    assert refused.status_code == 409
    assert "Participants and Strategic Partners" in refused.text
    assert (approved.status_code, declined.status_code) == (303, 303)
    rows = (await db.execute(select(OutboxEmail.template, OutboxEmail.to_address)
                             .where(OutboxEmail.template.like("group_member_%"))
                             .order_by(OutboxEmail.id))).all()
    assert [tuple(r) for r in rows] == [
        ("group_member_approved_to_member", "ana@lisboa.example.pt"),
        ("group_member_declined_to_member", "ivo@vendor.example.org")]
    group_id, vendor_id = group.id, vendor.id
    db.expire_all()
    statuses = {row.member.name: row.member.status
                for row in await groups.list_members(db, group_id)}
    assert statuses == {"Ana Silva": GroupMemberStatus.MEMBER,
                        "Ivo Vendor": GroupMemberStatus.DECLINED}
    assert await db.scalar(select(Organisation.standing).where(
        Organisation.id == vendor_id)) == NetworkStanding.NONE


MET_AT = datetime(2026, 10, 13, 8, 0, tzinfo=UTC)


async def _web_meeting(db: AsyncSession, uid: str) -> tuple[InterestGroup, MeetingSeries]:
    """A group and its one 90-minute web meeting (at `MET_AT`), whose minutes are due."""
    group = await make_group(db)
    series = MeetingSeries(group_id=group.id, uid=uid, title="Web meeting", starts_at=MET_AT,
                           duration_minutes=90, timezone="Europe/Brussels",
                           mode=SessionMode.ONLINE, agenda="", created_at=BUILT_AT,
                           updated_at=BUILT_AT)
    db.add(series)
    await db.commit()
    return group, series


async def test_minutes_are_published_from_the_series_page(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    group, series = await _web_meeting(db, "series-minutes@events.test")
    url = f"/organiser/meeting-series/{series.id}/minutes"

    refused = await organiser_client.post_form(url, {
        "meeting_at": "2026-10-13T10:00", "minutes": "", "documents": "ftp://x"})
    # Every problem at once: an unreadable start, a wrong one, and the text's.
    unreadable = await organiser_client.post_form(url, {
        "meeting_at": "13 October", "minutes": "", "documents": "ftp://x"})
    not_a_meeting = await organiser_client.post_form(url, {
        "meeting_at": "2026-10-13T11:00", "minutes": "", "documents": ""})
    published = await organiser_client.post_form(url, {
        "meeting_at": "2026-10-13T10:00", "minutes": "Criteria agreed.",
        "documents": "Draft criteria | https://docs.example.org/criteria.pdf"})
    page = await organiser_client.get(url)

    assert (refused.status_code, published.status_code) == (422, 303)
    assert sorted(re.findall(r'<li><a href="#(\w+)">', refused.text)) == ["documents", "minutes"]
    assert re.findall(r'<li><a href="#(\w+)">', unreadable.text) == [
        "meeting_at", "minutes", "documents"]
    assert re.findall(r'<li><a href="#(\w+)">', not_a_meeting.text) == ["meeting_at", "minutes"]
    assert "This series has no meeting at that time." in not_a_meeting.text
    minutes = await groups.list_published_minutes(db, group.id)
    assert [(m.starts_at, m.minutes, [d.url for d in m.documents]) for m in minutes] == [
        (MET_AT, "Criteria agreed.", ["https://docs.example.org/criteria.pdf"])]
    assert "Criteria agreed." in page.text


async def test_a_long_list_of_documents_is_kept_whole_or_refused_whole(
    organiser_client: SignedInClient, db: AsyncSession,
) -> None:
    """Twenty documents with long addresses (about 20,000 characters) are kept as typed (the
    list was read cut short before: the last address lost its end and was kept so); a list
    longer than the form takes is refused naming it, and nothing is published."""
    group, series = await _web_meeting(db, "series-long-minutes@events.test")
    url = f"/organiser/meeting-series/{series.id}/minutes"
    addresses = [f"https://docs.example.org/{n:02d}/" + "a" * 960 for n in range(20)]
    documents = "\n".join(f"Document {n} | {address}" for n, address in enumerate(addresses))
    meeting = {"meeting_at": "2026-10-13T10:00", "minutes": "Criteria agreed."}

    too_long = await organiser_client.post_form(url, meeting | {
        "documents": documents.replace("\n", "\n" * 600)})  # blank lines between them
    nothing = await groups.list_published_minutes(db, group.id)
    published = await organiser_client.post_form(url, meeting | {"documents": documents})
    minutes = await groups.list_published_minutes(db, group.id)

    assert too_long.status_code == 422 and nothing == []
    assert '<a href="#documents">At most 30000 characters.</a>' in too_long.text
    assert len(documents) > 20_000 and published.status_code == 303
    assert [d.url for d in minutes[0].documents] == addresses


async def test_a_series_is_created_from_the_form_and_one_meeting_moved_and_one_cancelled(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    await make_approved_member(db, settings, group, "Ana Silva",
                               await make_organisation(db, "Lisboa"))
    await db.commit()
    new = f"/organiser/groups/{group.id}/series/new"
    form = {"title": "Bi-monthly web meeting", "starts_at_local": "2035-01-09T10:00",
            "duration_minutes": "90", "mode": "online", "join_url": "https://meet.example.org/ict",
            "repeats": "monthly", "interval": "2", "weekday": "1", "ordinal": "2", "count": "6"}

    refused = await organiser_client.post_form(new, {**form, "title": "", "interval": "13",
                                                     "starts_at_local": "2035-01-10T10:00"})
    created = await organiser_client.post_form(new, form)
    series = await db.scalar(select(MeetingSeries))
    assert series is not None
    url = f"/organiser/meeting-series/{series.id}"
    moved = await organiser_client.post_form(f"{url}/move", {
        "recurrence_id": "2035-03-13T09:00:00Z", "starts_at_local": "2035-03-14T11:00"})
    cancelled = await organiser_client.post_form(f"{url}/cancel", {
        "recurrence_id": "2035-05-08T08:00:00Z"})
    guest = await organiser_client.post_form(f"{url}/guests", {
        "recurrence_id": "2035-07-10T08:00:00Z", "name": "Gus Guest",
        "email": "gus@guest.example.org"})
    page = await organiser_client.get(url)
    occurrence = await organiser_client.get(f"{url}/occurrence?at=2035-07-10T08:00:00Z")
    split = await organiser_client.post_form(f"{url}/following", {
        "recurrence_id": "2035-09-11T08:00:00Z", "following_starts_at_local": "2035-09-11T14:00",
        "following_title": "Bi-monthly web meeting (afternoons)"})

    assert refused.status_code == 422
    assert re.findall(r'<li><a href="#(\w+)">', refused.text) == ["title", "interval"]
    assert (created.status_code, created.headers["location"]) == (303, f"{url}?done=created")
    assert (series.recurrence, moved.status_code, cancelled.status_code,
            occurrence.status_code) == (
        "FREQ=MONTHLY;COUNT=6;INTERVAL=2;BYDAY=2TU", 303, 303, 200)
    rows = re.findall(r"<tr>\s*<td><a [^>]+>([^<]+)</a>(?:<br><span class=\"muted\">moved from "
                      r"([^<]+)</span>)?</td>\s*<td>(\w+)</td>", page.text)
    assert rows[:4] == [
        ("Tuesday 9 January 2035 at 10:00 CET", "", "Scheduled"),
        ("Wednesday 14 March 2035 at 11:00 CET", "Tuesday 13 March 2035 at 10:00 CET",
         "Scheduled"),
        ("Tuesday 8 May 2035 at 10:00 CEST", "", "Cancelled"),
        ("Tuesday 10 July 2035 at 10:00 CEST", "", "Scheduled")]
    templates = list(await db.scalars(select(OutboxEmail.template).where(
        OutboxEmail.to_address == "ana@circular-procurement.example.org")
        .order_by(OutboxEmail.id)))
    assert templates[-4:] == ["group_meeting_series_to_member",
                              "group_meeting_occurrence_to_member",
                              "group_meeting_occurrence_to_member",
                              "group_meeting_series_to_member"]
    assert (guest.status_code, split.status_code) == (303, 303)
    assert await db.scalar(select(OutboxEmail.template).where(
        OutboxEmail.to_address == "gus@guest.example.org")) == "group_meeting_invitation_to_guest"
    titles = list(await db.scalars(select(MeetingSeries.title).order_by(MeetingSeries.id)))
    assert titles == ["Bi-monthly web meeting", "Bi-monthly web meeting (afternoons)"]

    # The series that carries on is cancelled from its first meeting: the whole of it.
    new_url = f"/organiser/meeting-series/{split.headers['location'].split('/')[-1].split('?')[0]}"
    cancelled_all = await organiser_client.post_form(f"{new_url}/cancel-following", {
        "recurrence_id": "2035-09-11T12:00:00Z"})
    done = await organiser_client.get(cancelled_all.headers["location"])
    assert (cancelled_all.status_code, cancelled_all.headers["location"]) == (
        303, f"{new_url}?done=cancelled-following")
    assert "This and the following meetings are cancelled" in done.text
    db.expire_all()
    assert [str(s) for s in await db.scalars(select(MeetingSeries.status)
                                             .order_by(MeetingSeries.id))] == [
        "scheduled", "cancelled"]


async def test_a_series_gets_its_own_reminders_from_its_form_and_its_page(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    await db.commit()
    new = f"/organiser/groups/{group.id}/series/new"
    form = {"title": "Quarterly market call", "starts_at_local": "2035-01-09T10:00",
            "duration_minutes": "60", "mode": "online", "repeats": "monthly", "interval": "3",
            "count": "4", "policy": "custom", "offset-1-amount": "2", "offset-1-unit": "days"}

    empty = await organiser_client.get(new)
    created = await organiser_client.post_form(new, form)
    series = await db.scalar(select(MeetingSeries))
    assert series is not None
    url = f"/organiser/meeting-series/{series.id}"
    refused = await organiser_client.post_form(f"{url}/reminders", {
        "policy": "custom", "offset-1-amount": "3", "offset-1-unit": "hours",
        "offset-2-amount": "soon", "offset-2-unit": "days"})
    changed = await organiser_client.post_form(f"{url}/reminders", {
        "policy": "custom", "offset-1-amount": "3", "offset-1-unit": "hours"})
    page = await organiser_client.get(url)

    assert (empty.status_code, 'id="offset-5-amount"' in empty.text) == (200, True)
    assert (created.status_code, created.headers["location"]) == (303, f"{url}?done=created")
    assert refused.status_code == 422
    assert re.findall(r'<li><a href="#([\w-]+)">', refused.text) == ["offset-2-amount"]
    assert (changed.status_code, changed.headers["location"]) == (303, f"{url}?done=reminders")
    assert "Members are reminded <strong>3 hours</strong> before each meeting" in page.text
    db.expire_all()
    stored = await db.scalar(select(MeetingSeries.reminder_offsets_minutes))
    assert stored == [180]


async def test_the_facilitator_choice_is_narrowed_by_a_search(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    group = await make_group(db)
    await make_person(db, "Anna Facilitadora", "anna@bcn.example.es")
    await make_person(db, "Bruno Other", "bruno@gent.example.be")
    await db.commit()
    url = f"/organiser/groups/{group.id}"

    everyone = await organiser_client.get(url)
    found = await organiser_client.get(url, params={"person": "facilita"})

    def offered(html: str) -> list[str]:
        choice = html.split('id="person_id"', 1)[1].split("</select>", 1)[0]
        return re.findall(r'<option value="\d+"[^>]*>([^<]+)</option>', choice)

    assert (everyone.status_code, found.status_code) == (200, 200)
    assert offered(everyone.text) == ["Anna Facilitadora (anna@bcn.example.es)",
                                      "Bruno Other (bruno@gent.example.be)"]
    assert offered(found.text) == ["Anna Facilitadora (anna@bcn.example.es)"]
    assert 'value="facilita"' in found.text
