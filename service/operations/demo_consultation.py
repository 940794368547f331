"""The demo's Meet-your-Buyer market consultation (sample data): Haarlem's buyer profile for
fair and circular ICT workplace hardware (its subject also in German and French), its hosts,
and a published question and answer.

Loaded with the demo programme, through the consultation's own functions, only when the
Haarlem event is being added. The people and figures are illustrations, marked as samples.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import Event, OrganisationKind
from service.domain import consultation, programme
from service.domain.programme.translations import (
    TextChange,
    consultation_profile,
    set_translations,
)
from service.settings import Settings

HAARLEM_SLUG = "meet-your-buyer-haarlem-fair-circular-ict"
BUYER = "Municipality of Haarlem"
HOSTS = (("Rudie de Vries", "Procurement adviser, ICT (sample)"),
         ("Marieke Jansen (sample)", "Sustainability adviser (sample)"))
SUBJECTS = {
    "de": "Faire und kreislauffähige IKT-Hardware für den Arbeitsplatz: Laptops, Monitore "
          "und Dockingstationen",
    "fr": "Matériel informatique équitable et circulaire pour le poste de travail : "
          "ordinateurs portables, écrans et stations d'accueil",
}
QUESTIONS = (
    ("Will refurbished laptops with a warranty of three years meet the requirements, or do "
     "you expect new devices only?",
     "Refurbished devices are welcome: the tender will ask for the same performance and a "
     "warranty of at least three years whether a device is new or refurbished (sample answer)."),
    ("Which social criteria will you ask for in the supply chain: audits, or membership of "
     "an independent monitoring organisation?",
     "We plan to ask for supply-chain transparency down to final assembly and for a "
     "remediation plan; independent monitoring counts as evidence. We welcome your views on "
     "what is feasible (sample answer)."),
)


async def load_haarlem_consultation(db: AsyncSession, *, now: datetime,
                                    settings: Settings) -> None:
    """The Haarlem event's consultation, when the event is there and has none yet."""
    event_id = await db.scalar(select(Event.id).where(Event.slug == HAARLEM_SLUG))
    if event_id is None or await consultation.find_profile(db, event_id) is not None:
        return
    buyer = await programme.find_or_create_organisation(
        db, name=BUYER, kind=OrganisationKind.PUBLIC_AUTHORITY, country="NL", now=now)
    host_ids = []
    for name, job_title in HOSTS:
        person = await programme.find_or_create_person(db, name=name, organisation_id=buyer.id,
                                                       now=now)
        if person.job_title is None:
            person.job_title = job_title
        host_ids.append(str(person.id))
    await consultation.save_profile(db, event_id, consultation.ProfileInput(
        buyer_organisation_id=str(buyer.id),
        subject="Fair and circular ICT workplace hardware: laptops, monitors and docking "
                "stations",
        cpv_codes="30213000-5, 30213100-6, 30231300-0, 30237000-9",
        estimated_value="1200000",
        planned_publication_on="2027-04-15",
        procedure="competitive_with_negotiation",
        market_questions="Can you supply refurbished devices at scale? How do you take back "
                         "and reuse devices at the end of the contract? Which evidence of "
                         "working conditions in your supply chain can you give?",
        notice_text="Gemeente Haarlem consults the market before its tender for workplace "
                    "hardware, as Directive 2014/24/EU (Art. 40) allows. Whatever is shared "
                    "with one supplier is shared with all. Sample data: the figures and people "
                    "illustrate the service.",
        host_person_ids=host_ids,
    ), now=now)
    profile = await consultation_profile(db, event_id)
    assert profile is not None
    await set_translations(db, event_id, [
        TextChange(profile, language, "subject", subject, f"consultation.{language}.subject")
        for language, subject in SUBJECTS.items()], now=now)
    for question, answer in QUESTIONS:
        asked = await consultation.record_question(db, event_id, question,
                                                   asked_by="A supplier (sample)",
                                                   may_name_asker=False, now=now)
        await consultation.publish_answer(db, event_id, asked.id, answer, now=now,
                                          settings=settings)
