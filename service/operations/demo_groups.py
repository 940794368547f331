"""The demo's Interest Groups: the three groups of the network's Interest Groups page, each
with a facilitator, a few member organisations and their people (all marked as sample
data), and meeting series as the groups describe them: the ICT group every second Tuesday
of every other month online, the market group quarterly, the circular group three times a
year plus one meeting in person. One meeting of the ICT and market series is moved and
one cancelled, so calendars show both.

Dates follow the day the demo is loaded (the first meetings are in the coming months), so
the demo always has meetings ahead. Loaded through the domain functions, invitations and
changes included (they land in the demo's Maildir). Loading twice changes nothing.
"""

from __future__ import annotations

import calendar
from dataclasses import dataclass, field
from datetime import date, datetime, time, timedelta
from zoneinfo import ZoneInfo

from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    GroupMember,
    GroupMemberStatus,
    GroupVisibility,
    InterestGroup,
    NetworkStanding,
    OrganisationKind,
    SessionMode,
)
from service.domain import groups, programme
from service.domain.groups import meetings
from service.domain.groups.translations import (
    meeting_field,
    series_field,
    set_group_translations,
)
from service.settings import Settings

ZONE = "Europe/Brussels"
ICLEI = "ICLEI Local Governments for Sustainability"


@dataclass(frozen=True)
class DemoSeries:
    title: str
    rule: meetings.RecurrenceRule | None
    weekday: int  # of the first meeting (0 Monday)
    ordinal: int  # its week in the month
    months_ahead: int  # the first meeting's month, counted from the loading month
    at: time
    duration_minutes: int
    mode: SessionMode
    join_url: str | None = None
    venue: str | None = None
    agenda: str = ""
    # Which occurrences (0-based) are moved by a day and cancelled.
    moved: int | None = None
    cancelled: int | None = None
    # The title and the agenda in other languages.
    titles: dict[str, str] = field(default_factory=dict)
    agendas: dict[str, str] = field(default_factory=dict)
    # One occurrence (0-based) with an agenda of its own, and that agenda in other languages.
    own_agenda: tuple[int, str] | None = None
    own_agendas: dict[str, str] = field(default_factory=dict)


@dataclass(frozen=True)
class DemoGroup:
    slug: str
    topic: str
    summary: str
    description: str
    visibility: GroupVisibility
    facilitator: str
    members: tuple[tuple[str, str], ...]  # (person, organisation), all sample data
    series: tuple[DemoSeries, ...]
    # The topic and summary in other languages (the description stays English).
    translations: dict[str, dict[str, str]]


DEMO_GROUPS = (
    DemoGroup(
        slug="socially-responsible-ict",
        topic="Socially Responsible Public Procurement of ICT",
        summary="Public authorities procuring ICT products in ways that improve the social "
                "responsibility of ICT supply chains.",
        description=(
            "This Interest Group aims to support public authorities in procuring information "
            "and communication technology (ICT) products in ways that improve the social "
            "responsibility of ICT supply chains. Public authorities can use procurement to "
            "create better working conditions and protect the rights of workers and "
            "communities.\n\n"
            "The group develops and shares tailored procurement approaches (technical "
            "specifications, award criteria and contract performance clauses), explores how to "
            "engage with suppliers to send stronger signals of demand, and collaborates on "
            "verification methods for socially responsible contractual obligations.\n\n"
            "It meets online every other month, and in person when members wish."),
        visibility=GroupVisibility.PUBLIC,
        facilitator="Paula Land",
        members=(("Ines Marl", "City of Aldermoor"), ("Jonas Brevik", "Region of Valbruna"),
                 ("Katrin Oduya", "Municipality of Kerstad")),
        series=(DemoSeries(
            title="ICT Interest Group web meeting",
            rule=meetings.RecurrenceRule("monthly", 2, weekday=1, ordinal=2, count=12),
            weekday=1, ordinal=2, months_ahead=1, at=time(10, 0), duration_minutes=90,
            mode=SessionMode.ONLINE, join_url="https://meet.example.org/procura-ig-ict",
            agenda="Round of members' tenders; supplier engagement; verification methods.",
            moved=1, cancelled=2,
            own_agenda=(3, "Guest: a supplier of refurbished laptops on warranties and spare "
                           "parts; then the round of members' tenders."),
            own_agendas={"de": "Zu Gast: ein Anbieter generalüberholter Laptops über Garantien "
                               "und Ersatzteile; danach aktuelle Ausschreibungen der "
                               "Mitglieder.",
                         "fr": "Invité : un fournisseur d'ordinateurs portables "
                               "reconditionnés, sur les garanties et les pièces détachées ; "
                               "puis le tour des appels d'offres des membres."},
            titles={"de": "Webmeeting der Interessengruppe IKT",
                    "fr": "Réunion en ligne du groupe d'intérêt TIC"},
            agendas={"de": "Aktuelle Ausschreibungen der Mitglieder; Dialog mit Lieferanten; "
                           "Nachweismethoden.",
                     "fr": "Tour des appels d'offres des membres ; dialogue avec les "
                           "fournisseurs ; méthodes de vérification."}),),
        translations={
            "de": {"topic": "Sozial verantwortliche öffentliche Beschaffung von IKT",
                   "summary": "Öffentliche Auftraggeber, die IKT-Produkte so beschaffen, dass "
                              "ihre Lieferketten sozial verantwortlicher werden."},
            "fr": {"topic": "Achats publics socialement responsables de TIC",
                   "summary": "Des acheteurs publics qui achètent des produits TIC de manière "
                              "à rendre leurs chaînes d'approvisionnement plus socialement "
                              "responsables."}},
    ),
    DemoGroup(
        slug="circular-procurement",
        topic="Circular procurement",
        summary="Acquiring goods and services with their whole lifetime in mind: use rather "
                "than ownership.",
        description=(
            "Circular procurement is a different way of acquiring goods and services that "
            "promotes consideration of the whole lifetime of the products throughout their "
            "supply chain and focuses on the use of the products and associated services "
            "rather than their ownership.\n\n"
            "As a public procurer, you can be a pioneer and contribute to this process by "
            "implementing circular procurement within your organisation."),
        visibility=GroupVisibility.MEMBERS,
        facilitator="Lotte Verhaeghe",
        members=(("Pietro Calvi", "City of Aldermoor"), ("Hanna Lind", "Port of Lindmouth")),
        series=(
            DemoSeries(
                title="Circular procurement web meeting",
                rule=meetings.RecurrenceRule("monthly", 4, weekday=2, ordinal=3, count=6),
                weekday=2, ordinal=3, months_ahead=1, at=time(11, 0), duration_minutes=60,
                mode=SessionMode.ONLINE, join_url="https://meet.example.org/procura-ig-circular",
                titles={"de": "Webmeeting zur zirkulären Beschaffung",
                        "fr": "Réunion en ligne sur les achats circulaires"}),
            DemoSeries(
                title="Circular procurement workshop and site visit", rule=None,
                weekday=3, ordinal=2, months_ahead=6, at=time(9, 30), duration_minutes=420,
                mode=SessionMode.IN_PERSON, venue="City of Aldermoor, Town Hall (sample)",
                titles={"de": "Workshop und Ortsbesuch zur zirkulären Beschaffung",
                        "fr": "Atelier et visite sur place : achats circulaires"}),
        ),
        translations={
            "de": {"topic": "Zirkuläre Beschaffung",
                   "summary": "Waren und Dienstleistungen mit Blick auf ihren ganzen "
                              "Lebenszyklus beschaffen: Nutzung statt Eigentum."},
            "fr": {"topic": "Achats circulaires",
                   "summary": "Acheter des biens et des services en pensant à tout leur cycle "
                              "de vie : l'usage plutôt que la propriété."}},
    ),
    DemoGroup(
        slug="market-and-supplier-development",
        topic="Market and Supplier Development",
        summary="A friendly forum for sharing experiences of market and supplier engagement, "
                "with shared guidance as its aim.",
        description=(
            "To procure effectively, procurement professionals need to understand the market "
            "they are procuring from, a competitive market that can respond to public "
            "procurement opportunities, and a positive perception as a buyer in the market.\n\n"
            "This Interest Group provides a friendly forum for sharing experiences and "
            "learning from each other, with the aim to produce shared guidance that can help "
            "direct procurers to make smart choices for supplier and market engagement. It "
            "meets online or by phone on a quarterly basis."),
        visibility=GroupVisibility.PUBLIC,
        facilitator="Mervyn Achterberg",
        members=(("Sofia Ruiz", "Region of Valbruna"), ("Tomas Hale", "Port of Lindmouth"),
                 ("Uma Petrov", "Municipality of Kerstad")),
        series=(DemoSeries(
            title="Market and Supplier Development quarterly call",
            rule=meetings.RecurrenceRule.quarterly(weekday=3, ordinal=1, count=8),
            weekday=3, ordinal=1, months_ahead=1, at=time(14, 0), duration_minutes=60,
            mode=SessionMode.ONLINE, join_url="https://meet.example.org/procura-ig-market",
            moved=1, cancelled=3,
            titles={"de": "Quartalsgespräch Markt- und Lieferantenentwicklung",
                    "fr": "Appel trimestriel : développement du marché et des fournisseurs"}),),
        translations={
            "de": {"topic": "Markt- und Lieferantenentwicklung",
                   "summary": "Ein offenes Forum für den Austausch über Markterkundung und "
                              "Lieferantendialog, mit gemeinsamen Leitlinien als Ziel."},
            "fr": {"topic": "Développement du marché et des fournisseurs",
                   "summary": "Un forum convivial pour partager les expériences de dialogue "
                              "avec le marché et les fournisseurs, avec pour but des lignes "
                              "directrices communes."}},
    ),
)
# The sample member organisations are participants of the network (one a strategic partner).
STANDINGS = {"Port of Lindmouth": NetworkStanding.STRATEGIC_PARTNER}


def _nth_weekday(year: int, month: int, weekday: int, ordinal: int) -> date:
    days = [d for d in calendar.Calendar().itermonthdates(year, month)
            if d.month == month and d.weekday() == weekday]
    return days[ordinal - 1]


def _first_meeting(demo: DemoSeries, now: datetime) -> str:
    local = now.astimezone(ZoneInfo(ZONE))
    month_index = local.year * 12 + local.month - 1 + demo.months_ahead
    day = _nth_weekday(month_index // 12, month_index % 12 + 1, demo.weekday, demo.ordinal)
    return f"{day.isoformat()}T{demo.at:%H:%M}"


async def _load_group(db: AsyncSession, demo: DemoGroup, *, now: datetime,
                      settings: Settings) -> InterestGroup:
    local_day = now.astimezone(ZoneInfo(ZONE)).date().replace(day=1)
    group = await groups.create_group(db, groups.GroupInput(
        slug=demo.slug, topic=demo.topic, summary=demo.summary, description=demo.description,
        visibility=demo.visibility, timezone=ZONE, starts_on=local_day,
        ends_on=local_day.replace(year=local_day.year + 2), is_sample_data=True), now=now)
    for language, texts in demo.translations.items():
        await set_group_translations(db, group.id, language, texts, now=now)
    iclei = await programme.find_or_create_organisation(
        db, name=ICLEI, kind=OrganisationKind.NETWORK, country="DE", now=now)
    facilitator = await programme.find_or_create_person(
        db, name=demo.facilitator, organisation_id=iclei.id, now=now)
    await groups.add_facilitator(db, group.id, facilitator.id, now=now)
    for name, organisation_name in demo.members:
        organisation = await programme.find_or_create_organisation(
            db, name=organisation_name, kind=OrganisationKind.PUBLIC_AUTHORITY, now=now)
        organisation.standing = STANDINGS.get(organisation_name, NetworkStanding.PARTICIPANT)
        email = f"{name.split()[0].lower()}.sample@{demo.slug}.example.org"
        db.add(GroupMember(group_id=group.id, organisation_id=organisation.id,
                           organisation_name=organisation.name, name=name, email=email,
                           email_normalised=email, status=GroupMemberStatus.MEMBER,
                           decided_at=now, is_sample_data=True, created_at=now,
                           updated_at=now))
    await db.flush()
    for spec in demo.series:
        series = await meetings.create_series(
            db, group, title=spec.title, starts_at_local=_first_meeting(spec, now),
            timezone=ZONE, duration_minutes=spec.duration_minutes, rule=spec.rule,
            mode=spec.mode, join_url=spec.join_url, venue=spec.venue, agenda=spec.agenda,
            now=now, settings=settings)
        for language in sorted({*spec.titles, *spec.agendas}):
            series_texts: dict[str, str | None] = {
                series_field(series, "title"): spec.titles.get(language),
                series_field(series, "agenda"): spec.agendas.get(language)}
            await set_group_translations(db, group.id, language, series_texts, now=now)
        planned = meetings.occurrences(series, [])
        if spec.moved is not None:  # to the next day, same time
            moved = planned[spec.moved].starts_at.astimezone(ZoneInfo(ZONE)) + timedelta(days=1)
            await meetings.move_occurrence(
                db, series, planned[spec.moved].recurrence_id,
                starts_at_local=f"{moved:%Y-%m-%dT%H:%M}", now=now, settings=settings)
        if spec.cancelled is not None:
            await meetings.cancel_occurrence(db, series, planned[spec.cancelled].recurrence_id,
                                             now=now, settings=settings)
        if spec.own_agenda is not None:
            index, agenda = spec.own_agenda
            own = await meetings.edit_occurrence(db, series, planned[index].recurrence_id,
                                                 agenda=agenda, now=now, settings=settings)
            row = await meetings.occurrence_row(db, series, own.recurrence_id, now=now)
            for language, text in spec.own_agendas.items():
                await set_group_translations(db, group.id, language,
                                             {meeting_field(row): text}, now=now)
    return group


async def load_demo_groups(db: AsyncSession, *, now: datetime, settings: Settings) -> list[str]:
    """Load the demo groups that are missing; returns the slugs it added."""
    added = []
    for demo in DEMO_GROUPS:
        if await db.scalar(select(InterestGroup.id).where(InterestGroup.slug == demo.slug)) \
                is None:
            await _load_group(db, demo, now=now, settings=settings)
            added.append(demo.slug)
    return added
