"""Meet-your-Buyer through the JSON API: the public consultation, a supplier's requests,
withdrawals and questions through their private link, and the organisers' meetings."""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    ConsultationQuestion,
    MeetingRequest,
    OneToOneMeeting,
    OutboxEmail,
)
from service.domain import consultation
from service.domain.access import current_access_token
from service.domain.consultation import meetings
from service.settings import Settings
from tests.factories import BUILT_AT, make_person
from tests.integration.meeting_fixtures import grid_input, make_consultation

Client = AsyncTestClient[Litestar]


async def _token(db: AsyncSession, settings: Settings, registration_id: int) -> str:
    return await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                      secret_key=settings.secret_key, now=BUILT_AT,
                                      registration_id=registration_id)


async def test_the_public_consultation_names_hosts_but_never_their_addresses(
    db: AsyncSession, settings: Settings, client: Client
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=1)
    buyer = await make_person(db, "Rudie de Vries", "rudie@haarlem.example.nl",
                              organisation="Municipality of Haarlem")
    assert buyer.organisation_id is not None
    await consultation.save_profile(db, c.event.id, consultation.ProfileInput(
        buyer_organisation_id=str(buyer.organisation_id),
        subject="Fair and circular ICT workplace hardware", cpv_codes="30213000-5",
        estimated_value="1 250 000,50", planned_publication_on="2036-03-15",
        procedure="competitive_with_negotiation",
        market_questions="Can you take back used laptops?",
        notice_text="Haarlem consults the market before its tender.",
        host_person_ids=[str(buyer.id)]), now=BUILT_AT)
    question = await consultation.ask_question(db, c.suppliers[0], "Refurbished screens?",
                                               may_name_asker=False, now=BUILT_AT)
    await consultation.publish_answer(db, c.event.id, question.id, "Yes, with a warranty.",
                                      now=BUILT_AT, settings=settings)
    await db.commit()

    answer = await client.get(f"/api/events/{c.event.slug}/consultation")

    assert answer.status_code == 200
    body = answer.json()
    assert (body["buyer"], body["subject"], body["estimated_value_eur"],
            body["planned_publication_on"], body["procedure"]) == (
        "Municipality of Haarlem", "Fair and circular ICT workplace hardware", "1250000.50",
        "2036-03-15", "competitive_with_negotiation")
    assert body["cpv_codes"] == [{"code": "30213000-5", "label": "Personal computers"}]
    german = await client.get(f"/api/events/{c.event.slug}/consultation",
                              headers={"Accept-Language": "de"})
    assert german.json()["cpv_codes"] == [{"code": "30213000-5", "label": "Personalcomputer"}]
    assert body["hosts"] == [{"name": "Rudie de Vries", "job_title": None}]
    assert [(q["question"], q["answer"]) for q in body["questions"]] == [
        ("Refurbished screens?", "Yes, with a warranty.")]
    assert "@" not in answer.text  # no host's or asker's address
    missing = await client.get("/api/events/no-such-event/consultation")
    assert missing.status_code == 404
    assert [e["field"] for e in missing.json()["errors"]] == ["slug"]


async def test_a_supplier_requests_withdraws_and_asks_through_the_private_link(
    db: AsyncSession, settings: Settings, client: Client, organiser_headers: dict[str, str]
) -> None:
    c = await make_consultation(db, settings, suppliers=1, hosts=2,
                                grid=grid_input(accepts_automatically=True))
    token = await _token(db, settings, c.suppliers[0].id)
    await db.commit()
    hosts = [h.id for h in c.hosts]

    refused = await client.post(f"/api/registrations/{token}/meeting-requests",
                                json={"host_ids": [hosts[0]], "topic": " "})
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["topic"]
    assert await db.scalar(select(MeetingRequest.id)) is None

    asked = await client.post(f"/api/registrations/{token}/meeting-requests",
                              json={"host_ids": [hosts[1], hosts[0]], "topic": "Laptops"})
    assert asked.status_code == 201
    assert asked.headers["cache-control"] == "no-store"
    assert [(r["rank"], r["status"]) for r in asked.json()["requests"]] == [
        (1, "accepted"), (2, "accepted")]

    scheduled = await client.post(f"/api/organiser/events/{c.event.id}/meetings/schedule",
                                  headers=organiser_headers)
    assert (scheduled.status_code, scheduled.json()["placed"]) == (200, 2)
    listed = await client.get(f"/api/organiser/events/{c.event.id}/meetings",
                              headers=organiser_headers)
    assert [m["status"] for m in listed.json()] == ["scheduled", "scheduled"]
    assert (await client.get(f"/api/organiser/events/{c.event.id}/meetings")).status_code == 401

    mine = await client.get(f"/api/registrations/{token}/meetings")
    assert [m["status"] for m in mine.json()["meetings"]] == ["scheduled", "scheduled"]
    request_id = mine.json()["requests"][0]["id"]
    withdrawn = await client.delete(f"/api/registrations/{token}/meeting-requests/{request_id}")
    assert withdrawn.status_code == 200
    assert [r["status"] for r in withdrawn.json()["requests"]] == ["withdrawn", "accepted"]
    assert len(withdrawn.json()["meetings"]) == 1
    await db.rollback()
    cancelled = await db.scalar(select(OneToOneMeeting).where(
        OneToOneMeeting.request_id == request_id))
    assert cancelled is not None and str(cancelled.status) == "cancelled"
    told = (await db.scalars(select(OutboxEmail.to_address).where(
        OutboxEmail.template == meetings.TEMPLATE, OutboxEmail.subject.like("%ancelled%"))
        .order_by(OutboxEmail.to_address))).all()
    assert told == ["host2@haarlem.example.nl", "sales1@vendor1.example.com"]
    again = await client.delete(f"/api/registrations/{token}/meeting-requests/{request_id}")
    assert again.status_code == 200
    other = await client.delete(f"/api/registrations/{token}/meeting-requests/999999")
    assert other.status_code == 404

    question = await client.post(f"/api/registrations/{token}/questions",
                                 json={"question": "Do you take back old docks?"})
    assert question.status_code == 201
    await db.rollback()
    stored = await db.scalar(select(ConsultationQuestion))
    assert stored is not None
    assert (stored.question, stored.may_name_asker) == ("Do you take back old docks?", False)
    empty = await client.post(f"/api/registrations/{token}/questions", json={"question": ""})
    assert [e["field"] for e in empty.json()["errors"]] == ["question"]
