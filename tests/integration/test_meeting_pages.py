"""A supplier's private page: asking for ranked meetings, taking a free time, seeing them."""

from __future__ import annotations

import re

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AccessPurpose, MeetingRequest, OneToOneMeeting
from service.domain.access import current_access_token
from service.domain.consultation import meetings
from service.settings import Settings
from tests.factories import BUILT_AT
from tests.integration.meeting_fixtures import grid_input, make_consultation


def _csrf(html: str) -> str:
    found = re.search(r'name="csrf_token" value="([^"]+)"', html)
    assert found is not None
    return found.group(1)


async def test_a_supplier_asks_for_ranked_meetings_then_takes_a_free_time(
    db: AsyncSession, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=2,
                                grid=grid_input(accepts_automatically=True, suppliers_pick_slots=True))
    supplier_id, hosts = c.suppliers[0].id, [h.id for h in c.hosts]
    token = await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                       secret_key=settings.secret_key, now=BUILT_AT,
                                       registration_id=supplier_id)
    await db.commit()

    page = await client.get(f"/registrations/{token}")
    assert page.status_code == 200
    assert "Ask for a meeting" in page.text
    refused = await client.post(f"/registrations/{token}/meetings", data={
        "csrf_token": _csrf(page.text), "host_1": str(hosts[1]), "topic": ""})
    assert refused.status_code == 422
    assert '<a href="#topic">Must not be empty.</a>' in refused.text
    sent = await client.post(f"/registrations/{token}/meetings", follow_redirects=False, data={
        "csrf_token": _csrf(page.text), "host_1": str(hosts[1]), "host_2": str(hosts[0]),
        "topic": "Refurbished laptops with a 5-year warranty"})
    assert (sent.status_code, sent.headers["location"]) == (
        303, f"/registrations/{token}?done=meetings#meetings")
    requests = (await db.execute(select(MeetingRequest.host_id, MeetingRequest.rank, MeetingRequest.status)
                                 .order_by(MeetingRequest.rank))).all()
    assert [(h, r, str(s)) for h, r, s in requests] == [(hosts[1], 1, "accepted"), (hosts[0], 2, "accepted")]

    page = await client.get(f"/registrations/{token}")
    assert page.text.count("Take this time") == 2
    request_id = (await db.scalars(select(MeetingRequest.id).where(MeetingRequest.host_id == hosts[1]))).one()
    first_id = (await meetings.free_slots_for(db, supplier_id, request_id))[0].id
    taken = await client.post(f"/registrations/{token}/meetings/pick", follow_redirects=False, data={
        "csrf_token": _csrf(page.text), "request_id": str(request_id), "slot_id": str(first_id)})
    assert (taken.status_code, taken.headers["location"]) == (
        303, f"/registrations/{token}?done=meeting#meetings")
    page = await client.get(f"/registrations/{token}?done=meeting")
    assert "The meeting is yours" in page.text
    assert "<h3>Host 2, Gemeente Haarlem</h3>" in page.text
    db.expire_all()
    assert (await db.execute(select(OneToOneMeeting.slot_id, OneToOneMeeting.is_locked))).all() == [
        (first_id, True)]


async def test_a_hosts_private_page_lists_their_meetings(
    db: AsyncSession, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    await meetings.request_meetings(db, c.suppliers[0].id, [c.hosts[0].id], "Docking <stations>",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    token = await current_access_token(db, AccessPurpose.SPEAKER_PAGE, secret_key=settings.secret_key,
                                       now=BUILT_AT, person_id=c.hosts[0].person_id)
    await db.commit()
    page = await client.get(f"/speakers/{token}")
    assert page.status_code == 200
    assert ("<li><strong>Vendor 1 BV</strong> (Supplier 1): Monday 12 November 2035, 09:00–09:20 CET, "
            "Table 1<br>Topic: Docking &lt;stations&gt;</li>") in page.text


async def test_a_supplier_withdraws_a_request_from_the_private_page(
    db: AsyncSession, settings: Settings, client: AsyncTestClient[Litestar]
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1,
                                grid=grid_input(accepts_automatically=True))
    supplier_id = c.suppliers[0].id
    await meetings.request_meetings(db, supplier_id, [c.hosts[0].id], "Docking stations",
                                    now=BUILT_AT, settings=settings)
    await meetings.schedule_all_meetings(db, c.event.id, now=BUILT_AT, settings=settings)
    token = await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                       secret_key=settings.secret_key, now=BUILT_AT,
                                       registration_id=supplier_id)
    await db.commit()
    request_id = (await db.scalars(select(MeetingRequest.id))).one()

    page = await client.get(f"/registrations/{token}")
    assert "the request to meet Host 1" in page.text
    withdrawn = await client.post(f"/registrations/{token}/meetings/withdraw",
                                  follow_redirects=False,
                                  data={"csrf_token": _csrf(page.text), "request_id": str(request_id)})
    after = await client.get(withdrawn.headers["location"])

    assert (withdrawn.status_code, withdrawn.headers["location"]) == (
        303, f"/registrations/{token}?done=withdrawn#meetings")
    assert "Your request is withdrawn." in after.text
    assert "the request to meet Host 1" not in after.text  # nothing left to withdraw
    await db.rollback()
    statuses = (await db.execute(select(MeetingRequest.status, OneToOneMeeting.status)
                                 .join(OneToOneMeeting,
                                       OneToOneMeeting.request_id == MeetingRequest.id))).all()
    assert [(str(r), str(m)) for r, m in statuses] == [("withdrawn", "cancelled")]
    refused = await client.post(f"/registrations/{token}/meetings/withdraw",
                                data={"csrf_token": _csrf(page.text), "request_id": "x"})
    assert refused.status_code == 422
