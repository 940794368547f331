"""The public HTML pages over real HTTP: content, escaping, forms, CSRF, honeypot, rate limit.

The demo programme is loaded as of 1 October 2020 and the clock stands still on 20 October
2020 (three weeks before the first Make ICT Fair webinar) unless a test moves it.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from dataclasses import dataclass, field
from datetime import UTC, datetime
from html.parser import HTMLParser
from itertools import pairwise

import pytest
import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    OutboxEmail,
    Person,
    Registration,
    RegistrationStatus,
)
from service.domain import access, programme, registration
from service.operations.demo import MAKE_ICT_FAIR_SLUG
from service.settings import Settings
from tests.factories import DEMO_LOADED_AT, DEMO_NOW

Client = AsyncTestClient[Litestar]

LOADED_AT = DEMO_LOADED_AT
NOW = DEMO_NOW
SERIES = f"/events/{MAKE_ICT_FAIR_SLUG}"
SERIES_TITLE = "Procura+ webinar series on socially responsible ICT procurement"
SEMINAR = "/events/procura-plus-seminar-2027"
CITYMATCH = "/events/citymatch-zurich-recycled-concrete"
MEET_YOUR_BUYER = "/events/meet-your-buyer-haarlem-fair-circular-ict"


# --- a small HTML reader -----------------------------------------------------------------------


@dataclass
class Element:
    tag: str
    attrs: dict[str, str]
    children: list[Element | str] = field(default_factory=list)

    @property
    def text(self) -> str:
        parts = [c if isinstance(c, str) else c.text for c in self.children]
        return " ".join(" ".join(parts).split())

    @property
    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def iter(self) -> Iterator[Element]:
        for child in self.children:
            if isinstance(child, Element):
                yield child
                yield from child.iter()

    def find_all(self, tag: str | None = None, *, cls: str | None = None,
                 **attrs: str) -> list[Element]:
        return [
            e for e in self.iter()
            if (tag is None or e.tag == tag) and (cls is None or cls in e.classes)
            and all(e.attrs.get(k.rstrip("_").replace("_", "-")) == v for k, v in attrs.items())
        ]

    def one(self, tag: str | None = None, *, cls: str | None = None, **attrs: str) -> Element:
        found = self.find_all(tag, cls=cls, **attrs)
        assert len(found) == 1, f"expected one {tag} .{cls} {attrs}, found {len(found)}"
        return found[0]


class _TreeBuilder(HTMLParser):
    VOID = frozenset({"meta", "link", "input", "br", "img", "hr", "source", "col", "area",
                      "base", "wbr"})

    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.root = Element("document", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        element = Element(tag, {k: v if v is not None else "" for k, v in attrs})
        self.stack[-1].children.append(element)
        if tag not in self.VOID:
            self.stack.append(element)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(data)


def parse(body: str) -> Element:
    builder = _TreeBuilder()
    builder.feed(body)
    builder.close()
    return builder.root


# --- arranging ---------------------------------------------------------------------------------


async def event_id(db: AsyncSession, slug: str) -> int:
    found = await db.scalar(select(Event.id).where(Event.slug == slug))
    assert found is not None
    return found


async def csrf_token(client: Client, path: str) -> str:
    response = await client.get(path)
    token = parse(response.text).one("input", name="csrf_token").attrs["value"]
    return token


def form(**overrides: str | list[str]) -> dict[str, str | list[str]]:
    values: dict[str, str | list[str]] = {
        "name": "Ana Novak", "email": "ana.novak@ljubljana.example.org",
        "organisation_name": "City of Ljubljana", "organisation_kind": "public_authority",
        "country": "SI", "job_title": "Procurement officer", "consent": "yes", "website": "",
    }
    values.update(overrides)
    return values


async def post_registration(client: Client, path: str, data: dict[str, str | list[str]],
                            *, token: str | None = None) -> tuple[int, Element]:
    """Send the form as a browser would: with the token and the sessions ticked by default."""
    if token is None:
        page = parse((await client.get(f"{path}/register")).text)
        token = page.one("input", name="csrf_token").attrs["value"]
        ticked = [e.attrs["value"] for e in page.find_all("input", name="session_ids")
                  if "checked" in e.attrs]
        data = {"session_ids": ticked, **data}
    response = await client.post(f"{path}/register", data={**data, "csrf_token": token})
    return response.status_code, parse(response.text)


async def count_registrations(db: AsyncSession) -> int:
    return await db.scalar(select(func.count(Registration.id))) or 0


async def register_directly(db: AsyncSession, settings: Settings, slug: str = MAKE_ICT_FAIR_SLUG,
                            email: str = "ana.novak@ljubljana.example.org",
                            **extra: object) -> registration.RegistrationOutcome:
    outcome = await registration.register_participant(
        db, slug, registration.RegistrationForm(name="Ana Novak", email=email, consent=True,
                                                **extra),  # type: ignore[arg-type]
        now=NOW, settings=settings,
    )
    await db.commit()
    return outcome


def field_error(page: Element, name: str) -> str:
    return page.one("span", cls="error-message", id=f"{name}-error").text


def h1(page: Element) -> str:
    return page.one("h1").text


pytestmark = [pytest.mark.usefixtures("frozen_clock", "demo"), pytest.mark.one_database]


# --- programme and archive ---------------------------------------------------------------------


async def test_programme_lists_upcoming_events_with_dates_and_places(client: Client) -> None:
    response = await client.get("/")

    page = parse(response.text)
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    assert page.one("html").attrs["lang"] == "en"
    assert h1(page) == "Events programme"
    cards = page.find_all("article", cls="card")
    assert [c.one("h3").text for c in cards] == [
        SERIES_TITLE,
        "Meet your Buyer: Haarlem Municipality on fair and circular ICT (sample)",
        "Procura+ webinar series on circular ICT procurement 2027 (sample)",
        "Procura+ CityMatch Zurich on Recycled Concrete and Circular Procurement (sample)",
        "Procura+ Seminar 2027 (sample)",
    ]
    assert [c.one("p", cls="facts").text for c in cards] == [
        "9 November – 10 December 2020 · Online Hosted by ICLEI Local Governments for "
        "Sustainability",
        "Tuesday 26 January 2027 · Haarlem and online Hosted by Municipality of Haarlem",
        "11 February – 10 June 2027 · Online Hosted by ICLEI Local Governments for "
        "Sustainability",
        "Thursday 18 March 2027 · Zurich Hosted by City of Zurich",
        "15–16 June 2027 · Brussels and online Hosted by ICLEI Local Governments for "
        "Sustainability",
    ]
    assert [c.one("p", cls="availability").text for c in cards] == [
        "Places available", "30 places left", "100 places left",
        "12 places left · places on application", "120 places left",
    ]


async def test_programme_filters_by_kind(client: Client) -> None:
    response = await client.get("/", params={"kind": "citymatch"})

    page = parse(response.text)
    assert [c.one("h3").text for c in page.find_all("article", cls="card")] == [
        "Procura+ CityMatch Zurich on Recycled Concrete and Circular Procurement (sample)"]
    assert page.one("a", aria_current="page", href="/?kind=citymatch").text == \
        "CityMatch study visits"


async def test_full_event_shows_waiting_list(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await programme.update_event(db, await event_id(db, "procura-plus-seminar-2027"),
                                 programme.EventUpdate(capacity=1), now=NOW, settings=settings)
    await db.commit()
    await register_directly(db, settings, "procura-plus-seminar-2027")

    page = parse((await client.get("/", params={"kind": "seminar"})).text)

    assert page.one("article", cls="card").one("p", cls="availability").text == "Waiting list"


async def test_web_addresses_in_a_description_are_links(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await programme.update_event(
        db, await event_id(db, "procura-plus-seminar-2027"), programme.EventUpdate(
            description="The case studies: https://example.org/cases?year=2027&lang=en.\n\n"
                        "<b>Not</b> javascript:alert(1)"), now=NOW, settings=settings)
    await db.commit()

    page = await client.get("/events/procura-plus-seminar-2027")

    assert ('<p>The case studies: <a href="https://example.org/cases?year=2027&amp;lang=en" '
            'rel="noopener">https://example.org/cases?year=2027&amp;lang=en</a>.</p>'
            ) in page.text
    assert "<p>&lt;b&gt;Not&lt;/b&gt; javascript:alert(1)</p>" in page.text


async def test_archive_lists_past_events_newest_first(client: Client) -> None:
    with time_machine.travel(datetime(2027, 7, 1, tzinfo=UTC), tick=False):
        response = await client.get("/archive")
        upcoming = await client.get("/")

    cards = parse(response.text).find_all("article", cls="card")
    assert [c.one("h3").text for c in cards] == [
        "Procura+ Seminar 2027 (sample)",
        "Procura+ CityMatch Zurich on Recycled Concrete and Circular Procurement (sample)",
        "Procura+ webinar series on circular ICT procurement 2027 (sample)",
        "Meet your Buyer: Haarlem Municipality on fair and circular ICT (sample)",
        SERIES_TITLE,
    ]
    assert {c.one("p", cls="availability").text for c in cards} == {"Took place"}
    assert parse(upcoming.text).find_all("article", cls="card") == []


# --- event page --------------------------------------------------------------------------------


async def test_event_page_shows_agenda_in_brussels_time_with_speakers(client: Client) -> None:
    response = await client.get(SERIES)

    page = parse(response.text)
    assert response.status_code == 200
    assert h1(page) == SERIES_TITLE
    first = page.find_all("article", cls="session")[0]
    assert first.one("p", cls="session-meta").text == \
        "Monday 9 November 2020, 10:00–11:45 CET Online"
    rows = first.one("table", cls="agenda").one("tbody").find_all("tr")
    assert [r.one("td", cls="time").text for r in rows] == [
        "10:00–10:10 CET", "10:10–10:40 CET", "10:40–11:10 CET", "11:10–11:30 CET",
        "11:30–11:45 CET"]
    assert [r.find_all("ul", cls="speakers")[0].text if r.find_all("ul", cls="speakers") else ""
            for r in rows] == [
        "Paula Land, ICLEI Local Governments for Sustainability",
        "Carla Canal, Barcelona City Council",
        "Rudie de Vries, Municipality of Haarlem",
        "Elin Seveholt, City of Stavanger",
        "",
    ]
    time_span = rows[0].one("span", cls="event-time")
    assert (time_span.attrs["data-utc-start"], time_span.attrs["data-utc-end"],
            time_span.attrs["data-zone"]) == ("2020-11-09T09:00:00Z", "2020-11-09T09:10:00Z",
                                              "Europe/Brussels")
    facts = page.one("dl", cls="facts-list")
    assert [dt.text for dt in facts.find_all("dt")] == [
        "When", "Time zone", "Where", "Host", "Places"]
    assert [dd.text for dd in facts.find_all("dd")] == [
        "9 November – 10 December 2020", "Brussels time (CET)", "Online",
        "ICLEI Local Governments for Sustainability", "Places available"]


async def test_event_page_offers_calendar_subscriptions_without_private_data(
    client: Client,
) -> None:
    response = await client.get(SERIES)

    page = parse(response.text)
    first = page.find_all("article", cls="session")[0]
    links = [a.attrs["href"] for a in first.one("div", cls="calendar-links").find_all("a")]
    session_id = first.attrs["aria-labelledby"].removeprefix("session-")
    assert links[0] == f"/feeds/sessions/{session_id}.ics"
    assert links[1].startswith("https://calendar.google.com/calendar/render?action=TEMPLATE&")
    assert "dates=20201109T090000Z/20201109T104500Z" in links[1]
    assert links[2].startswith("https://outlook.live.com/calendar/0/deeplink/compose?")
    assert "startdt=2020-11-09T09:00:00Z" in links[2]
    subscribe = page.one("a", href=f"webcal://events.test/feeds/events/{MAKE_ICT_FAIR_SLUG}.ics")
    assert subscribe.text == "Subscribe to the calendar"
    assert "meet.example.org" not in response.text
    assert "@" not in response.text


async def test_summer_event_shows_cest_and_venue(client: Client) -> None:
    page = parse((await client.get(SEMINAR)).text)

    first = page.find_all("article", cls="session")[0]
    assert first.one("p", cls="session-meta").text == \
        "Tuesday 15 June 2027, 09:00–17:30 CEST In person"
    facts = page.one("dl", cls="facts-list")
    assert facts.find_all("dd")[2].text == \
        "Conference centre (sample) Rue de la Loi 42 Brussels, Belgium and online"


async def test_times_across_a_change_of_the_clocks_each_carry_their_own_label(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    """Spring forward (29 March 2026, 02:00 CET -> 03:00 CEST) and fall back (25 October
    2026, 03:00 CEST -> 02:00 CET: the hour from 02:00 comes twice)."""
    event = await programme.create_event(
        db, programme.EventCreate(kind=EventKind.WEBINAR_SERIES, title="Night owls", slug="night-owls"),
        now=LOADED_AT)
    spring = await programme.add_session(
        db, event.id, programme.SessionCreate(title="Spring", starts_at="2026-03-29T01:30",
                                             ends_at="2026-03-29T03:30"),
        now=LOADED_AT, settings=settings)
    autumn = await programme.add_session(
        db, event.id, programme.SessionCreate(title="Autumn", starts_at="2026-10-25T02:15+02:00",
                                             ends_at="2026-10-25T02:45+01:00"),
        now=LOADED_AT, settings=settings)
    for session, times in ((spring, [("01:30", "01:50"), ("03:00", "03:30")]),
                           (autumn, [("2026-10-25T02:15+02:00", "2026-10-25T02:45+02:00"),
                                     ("2026-10-25T02:15+01:00", "2026-10-25T02:45+01:00")])):
        for number, (start, end) in enumerate(times):
            await programme.add_agenda_item(
                db, session.id,
                programme.AgendaItemCreate(title=f"Item {number}", starts_at=start, ends_at=end),
                now=LOADED_AT, settings=settings)
    await programme.publish_event(db, event.id, now=LOADED_AT)
    await db.commit()

    page = parse((await client.get("/events/night-owls")).text)

    sessions = page.find_all("article", cls="session")
    assert [s.one("p", cls="session-meta").text for s in sessions] == [
        "Sunday 29 March 2026, 01:30 CET – 03:30 CEST Online",
        "Sunday 25 October 2026, 02:15 CEST – 02:45 CET Online",
    ]
    assert [s.one("table", cls="agenda").find_all("th")[0].text for s in sessions] == [
        "Time (CET/CEST)", "Time (CEST/CET)"]
    assert [[r.one("td", cls="time").text for r in s.one("tbody").find_all("tr")]
            for s in sessions] == [
        ["01:30–01:50 CET", "03:00–03:30 CEST"],
        ["02:15–02:45 CEST", "02:15–02:45 CET"],
    ]


async def test_unknown_event_and_unknown_links_get_the_same_plain_404(client: Client) -> None:
    responses = [await client.get(path) for path in (
        "/events/no-such-event", "/registrations/not-a-token", "/speakers/not-a-token",
        "/events/no-such-event/register", "/registrations/not-a-token/cancel",
    )]

    assert [r.status_code for r in responses] == [404] * 5
    # The same answer whatever exists (only the language links name the address asked for).
    assert len({str(parse(r.text).one("main")) for r in responses}) == 1
    assert h1(parse(responses[0].text)) == "Page not found"
    assert responses[0].headers["content-type"] == "text/html; charset=utf-8"


async def test_draft_event_is_not_shown(client: Client, db: AsyncSession) -> None:
    await programme.create_event(db, programme.EventCreate(kind=EventKind.SEMINAR,
                                                           title="Secret plans",
                                                           slug="secret-plans"), now=NOW)
    await db.commit()

    response = await client.get("/events/secret-plans")

    assert (response.status_code, h1(parse(response.text))) == (404, "Page not found")


async def test_organiser_text_is_escaped(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await programme.update_event(
        db, await event_id(db, MAKE_ICT_FAIR_SLUG),
        programme.EventUpdate(summary="<script>alert('x')</script> & more"), now=NOW,
        settings=settings,
    )
    await db.commit()

    response = await client.get(SERIES)

    assert "<script>alert" not in response.text
    assert "&lt;script&gt;alert(&#39;x&#39;)&lt;/script&gt; &amp; more" in response.text
    assert parse(response.text).one("p", cls="lead").text == "<script>alert('x')</script> & more"


# --- registration form -------------------------------------------------------------------------


def _field_names(page: Element) -> list[str]:
    form_element = page.one("form", cls="form")
    return [e.attrs["name"] for e in form_element.iter()
            if e.tag in {"input", "select", "textarea"} and e.attrs.get("type") != "hidden"]


async def test_form_fields_follow_the_kind_of_event(client: Client) -> None:
    webinar = parse((await client.get(f"{SERIES}/register")).text)
    dialogue = parse((await client.get(f"{MEET_YOUR_BUYER}/register")).text)
    visit = parse((await client.get(f"{CITYMATCH}/register")).text)

    common = ["name", "email", "job_title", "organisation_name", "organisation_kind", "country",
              "language"]
    assert _field_names(webinar) == [*common, "session_ids", "session_ids", "website", "consent",
                                     "keep_informed"]
    # Asked once: supplier or buyer (the supplier's organisation is the company); only
    # suppliers give sector and offer; a hybrid dialogue asks in person or online.
    assert _field_names(dialogue) == [
        "organisation_kind", "organisation_kind", "name", "email", "job_title",
        "organisation_name", "country", "language", "sector", "offer_note", "attendance",
        "attendance",
        "access_note", "website", "consent", "keep_informed"]
    assert _field_names(visit) == [*common, "access_note", "website", "consent", "keep_informed"]
    for page in (webinar, dialogue, visit):
        labelled = {e.attrs["for"] for e in page.find_all("label")}
        ids = {e.attrs["id"] for e in page.one("form", cls="form").iter()
               if e.tag in {"input", "select", "textarea"} and e.attrs.get("type") != "hidden"}
        assert ids <= labelled
    assert visit.one("button").text == "Apply for a place"
    assert webinar.one("button").text == "Register"


async def test_registering_confirms_and_queues_the_email(
    client: Client, db: AsyncSession
) -> None:
    status, page = await post_registration(client, SERIES, form())

    assert (status, h1(page)) == (200, "You are registered")
    assert page.find_all("strong")[0].text == "ana.novak@ljubljana.example.org"
    row = (await db.execute(select(Registration.name, Registration.status, Registration.country,
                                   Registration.is_whole_event))).one()
    assert tuple(row) == ("Ana Novak", RegistrationStatus.CONFIRMED, "SI", True)
    [(template, status)] = (await db.execute(select(OutboxEmail.template,
                                                    OutboxEmail.status))).all()
    assert (template, status) == ("registration_confirmed_to_registrant", "composing")
    assert "meet.example.org" not in page.text


async def test_registering_for_some_sessions(client: Client, db: AsyncSession) -> None:
    page = parse((await client.get(f"{SERIES}/register")).text)
    first = page.find_all("input", name="session_ids")[0].attrs["value"]

    status, confirmation = await post_registration(client, SERIES, form(session_ids=[first]))

    assert status == 200
    assert [li.one("strong").text for li in confirmation.one("ul", cls="enrolments")
            .find_all("li")] == [
        "On the way towards social criteria – steps towards integrating social criteria in "
        "ICT Procurement tenders"]
    sessions = list(await db.scalars(select(Enrolment.session_id)))
    assert sessions == [int(first)]


async def test_missing_fields_are_shown_inline_keeping_what_was_typed(
    client: Client, db: AsyncSession
) -> None:
    status, page = await post_registration(
        client, SERIES,
        form(name="", consent="", organisation_name='Grad "<Zagreb>"', session_ids=[]),
    )

    assert status == 422
    assert h1(page) == f"Register for {SERIES_TITLE}"
    assert page.one("title").text.startswith("Error: ")
    assert field_error(page, "name") == "Error: Enter your name."
    assert field_error(page, "consent") == \
        "Error: Tick the box to agree that we use your details for this event."
    assert field_error(page, "session_ids") == "Error: Choose at least one session."
    assert page.one("input", name="organisation_name").attrs["value"] == 'Grad "<Zagreb>"'
    assert page.one("input", name="email").attrs["value"] == "ana.novak@ljubljana.example.org"
    assert page.one("input", name="name").attrs["aria-invalid"] == "true"
    assert "checked" not in page.one("input", name="consent").attrs
    assert [a.text for a in page.one("div", cls="error-summary").find_all("a")] == [
        "Enter your name.", "Choose at least one session.",
        "Tick the box to agree that we use your details for this event."]
    assert await count_registrations(db) == 0


async def test_domain_errors_appear_next_to_their_field(client: Client, db: AsyncSession) -> None:
    status, page = await post_registration(
        client, MEET_YOUR_BUYER, form(email="jan@localhost", organisation_kind="supplier",
                                      organisation_name="Fairtech BV", sector="ICT",
                                      offer_note="Refurbished laptops"),
    )

    assert status == 422
    assert field_error(page, "email") == \
        "Error: The part after @ must be a domain such as example.org."
    assert page.one("input", name="organisation_name").attrs["value"] == "Fairtech BV"
    assert page.one("textarea", name="offer_note").text == "Refurbished laptops"
    assert "checked" in page.one("input", name="consent").attrs
    assert await count_registrations(db) == 0


async def test_supplier_fields_are_required_for_meet_your_buyer(client: Client) -> None:
    status, page = await post_registration(client, MEET_YOUR_BUYER,
                                           form(organisation_kind="supplier"))

    assert status == 422
    assert (field_error(page, "sector"), field_error(page, "offer_note")) == (
        "Error: Enter your sector, for example ICT hardware.",
        "Error: Describe in a few sentences what your company can offer the buyers.")


async def test_waiting_list_position_on_the_confirmation(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await programme.update_event(db, await event_id(db, "procura-plus-seminar-2027"),
                                 programme.EventUpdate(capacity=1), now=NOW, settings=settings)
    await db.commit()
    await register_directly(db, settings, "procura-plus-seminar-2027", email="first@example.org")

    status, page = await post_registration(client, SEMINAR, form())

    assert (status, h1(page)) == (200, "You are on the waiting list")
    assert page.one("div", id="next-steps").find_all("p")[0].text == \
        "The event is full. You are number 1 on the waiting list."


async def test_application_for_citymatch_is_pending(client: Client) -> None:
    status, page = await post_registration(client, CITYMATCH, form(access_note="Vegetarian"))

    assert (status, h1(page)) == (200, "Application received")
    assert page.one("div", id="next-steps").one("ul").find_all("li")[2].text == \
        "You will hear from us by email once the organisers have decided."


async def test_registering_again_reveals_nothing_about_the_registration(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await register_directly(db, settings)

    status, page = await post_registration(client, SERIES, form(name="Someone Else"))

    assert (status, h1(page)) == (200, "You are already registered")
    assert page.find_all("ul", cls="enrolments") == []
    assert "Ana Novak" not in page.text
    assert await count_registrations(db) == 1


async def test_closed_registration_is_explained(client: Client) -> None:
    with time_machine.travel(datetime(2021, 1, 5, tzinfo=UTC), tick=False):
        page = parse((await client.get(f"{SERIES}/register")).text)
        # The closed page has no form: take this browser's token from another one.
        token = await csrf_token(client, f"{MEET_YOUR_BUYER}/register")
        status, posted = await post_registration(client, SERIES, form(), token=token)

    assert page.find_all("form", cls="form") == []
    assert page.one("div", cls="panel").find_all("p")[0].text == \
        "This event is over: registration is closed."
    assert status == 409
    assert posted.one("div", cls="panel").find_all("p")[0].text == \
        "This event is over: registration is closed."


# --- protections -------------------------------------------------------------------------------


async def test_post_without_csrf_token_is_refused(client: Client, db: AsyncSession) -> None:
    await client.get(f"{SERIES}/register")  # the browser has the cookie, the form no token

    response = await client.post(f"{SERIES}/register", data=form())

    assert response.status_code == 403
    assert h1(parse(response.text)) == "Please send the form again"
    assert await count_registrations(db) == 0


async def test_csrf_token_from_another_browser_is_refused(
    client: Client, db: AsyncSession
) -> None:
    stolen = await csrf_token(client, f"{SERIES}/register")  # the attacker's own browser
    client.cookies.clear()
    await client.get(f"{SERIES}/register")  # the victim's browser gets its own cookie

    status, page = await post_registration(client, SERIES, form(), token=stolen)

    assert (status, h1(page)) == (403, "Please send the form again")
    assert await count_registrations(db) == 0


async def test_honeypot_pretends_success_but_stores_nothing(
    client: Client, db: AsyncSession
) -> None:
    status, page = await post_registration(client, SERIES, form(website="http://spam.example"))

    assert (status, h1(page)) == (200, "Thank you")
    assert await count_registrations(db) == 0


async def test_eleventh_registration_post_in_a_minute_is_refused(client: Client) -> None:
    token = await csrf_token(client, f"{SEMINAR}/register")
    # A form sent back for its input is not counted: only registrations filed are.
    refused = [
        (await client.post(f"{SEMINAR}/register",
                           data={**form(name=""), "csrf_token": token})).status_code
        for _ in range(10)
    ]
    statuses = [
        (await client.post(f"{SEMINAR}/register", data={
            **form(email=f"ana.novak{n}@ljubljana.example.org"), "csrf_token": token})
         ).status_code
        for n in range(10)
    ]

    limited = await client.post(f"{SEMINAR}/register", data={**form(), "csrf_token": token})

    assert (refused, statuses) == ([422] * 10, [200] * 10)
    assert limited.status_code == 429
    assert limited.headers["retry-after"] == "60"
    assert h1(parse(limited.text)) == "Too many attempts"
    with time_machine.travel(datetime(2020, 10, 20, 8, 1, tzinfo=UTC), tick=False):
        again = await client.post(f"{SEMINAR}/register", data={**form(), "csrf_token": token})
    assert again.status_code == 200


# --- manage page -------------------------------------------------------------------------------


async def test_manage_page_shows_registration_and_join_links(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, organisation_name="City of <Ljubljana>",
                                      country="SI")

    response = await client.get(f"/registrations/{outcome.manage_token}")

    page = parse(response.text)
    assert response.status_code == 200
    assert response.headers["cache-control"] == "no-store"
    assert page.one("meta", name="robots").attrs["content"] == "noindex"
    details = page.one("dl", cls="details")
    assert [(dt.text, dd.text) for dt, dd in zip(details.find_all("dt"), details.find_all("dd"),
                                                 strict=True)] == [
        ("Name", "Ana Novak"), ("Email", "ana.novak@ljubljana.example.org"),
        ("Organisation", "City of <Ljubljana>"), ("Country", "Slovenia")]
    assert [a.attrs["href"] for a in page.find_all("a", cls="join")] == [
        "https://meet.example.org/procura-make-ict-fair-1",
        "https://meet.example.org/procura-make-ict-fair-2"]
    assert page.one("a", download="").attrs["href"] == \
        f"/api/registrations/{outcome.manage_token}/invite.ics"


async def test_no_calendar_download_once_every_session_is_cancelled(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings)
    for session in (await programme.get_event(db, outcome.registration.event_id)).sessions:
        await programme.cancel_session(db, session.id, now=NOW, settings=settings)
    await db.commit()

    page = parse((await client.get(f"/registrations/{outcome.manage_token}")).text)
    download = await client.get(f"/api/registrations/{outcome.manage_token}/invite.ics")

    assert page.find_all("a", download="") == []
    assert download.status_code == 409


async def test_waiting_registrant_sees_no_join_link(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    await programme.update_event(db, await event_id(db, MAKE_ICT_FAIR_SLUG),
                                 programme.EventUpdate(capacity=1), now=NOW, settings=settings)
    await db.commit()
    await register_directly(db, settings, email="first@example.org")
    outcome = await register_directly(db, settings)

    page = parse((await client.get(f"/registrations/{outcome.manage_token}")).text)

    assert page.one("div", id="registration-status").find_all("p")[0].text == \
        "On the waiting list · You are number 1 on the waiting list."
    assert page.find_all("a", cls="join") == []
    assert "meet.example.org" not in page.text


async def test_changing_sessions_on_the_manage_page(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings)
    path = f"/registrations/{outcome.manage_token}"
    page = parse((await client.get(path)).text)
    token = page.one("form", action=f"{path}/sessions").one(
        "input", name="csrf_token").attrs["value"]
    second = page.find_all("input", name="session_ids")[1].attrs["value"]

    response = await client.post(f"{path}/sessions",
                                 data={"csrf_token": token, "session_ids": [second]},
                                 follow_redirects=False)

    assert (response.status_code, response.headers["location"]) == (303, f"{path}?done=sessions")
    after = parse((await client.get(response.headers["location"])).text)
    assert after.one("div", role="status").text == \
        "Your session choices are saved. We have sent you an email with the changes."
    assert [h.text for h in after.one("ul", cls="enrolments").find_all("h3")] == [
        "Keeping social criteria alive – How to follow up through contract management"]
    await db.rollback()
    statuses = dict((await db.execute(select(Enrolment.session_id, Enrolment.status))).all())
    assert statuses[int(second)] == EnrolmentStatus.CONFIRMED
    assert sorted(str(s) for s in statuses.values()) == ["cancelled", "confirmed"]


async def test_choosing_no_session_is_an_inline_error(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings)
    path = f"/registrations/{outcome.manage_token}"
    token = parse((await client.get(path)).text).one("form", action=f"{path}/sessions").one(
        "input", name="csrf_token").attrs["value"]

    response = await client.post(f"{path}/sessions", data={"csrf_token": token})

    page = parse(response.text)
    assert response.status_code == 422
    assert page.one("span", cls="error-message").text == "Choose at least one session."


async def test_cancelling_needs_a_confirmation_step(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings)
    path = f"/registrations/{outcome.manage_token}"

    confirm = parse((await client.get(f"{path}/cancel")).text)
    await db.rollback()
    still = await db.scalar(select(Registration.status))
    token = confirm.one("form").one("input", name="csrf_token").attrs["value"]
    response = await client.post(f"{path}/cancel", data={"csrf_token": token},
                                 follow_redirects=False)
    after = parse((await client.get(response.headers["location"])).text)

    assert h1(confirm) == "Cancel your registration?"
    assert confirm.one("button").text == "Yes, cancel my registration"
    assert still == RegistrationStatus.CONFIRMED
    assert (response.status_code, response.headers["location"]) == (303, f"{path}?done=cancelled")
    assert after.find_all("span", cls="badge")[0].text == "Cancelled"
    assert after.find_all("a", cls="join") == []
    await db.rollback()
    assert await db.scalar(select(Registration.status)) == RegistrationStatus.CANCELLED


async def test_cancel_without_csrf_token_is_refused(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings)

    response = await client.post(f"/registrations/{outcome.manage_token}/cancel", data={})

    assert response.status_code == 403
    await db.rollback()
    assert await db.scalar(select(Registration.status)) == RegistrationStatus.CONFIRMED


# --- speaker page ------------------------------------------------------------------------------


async def test_speaker_page_lists_their_slots(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    paula = await db.scalar(select(Person.id).where(Person.name == "Paula Land"))
    assert paula is not None
    token = await access.issue_access_token(db, AccessPurpose.SPEAKER_PAGE,
                                            secret_key=settings.secret_key, now=NOW,
                                            person_id=paula)
    await db.commit()

    page = parse((await client.get(f"/speakers/{token}")).text)

    assert h1(page) == "Your speaking slots"
    slots = page.find_all("article", cls="session")
    assert [s.one("h3").text for s in slots] == [
        "Welcome and introduction", "Welcome and introduction",
        "Welcome and introduction", "Welcome and introduction",
        "Welcome to the Procura+ Seminar", "Closing"]
    first = slots[0].one("dl", cls="details")
    assert [dd.text for dd in first.find_all("dd")][:1] == [
        "Monday 9 November 2020, 10:00–10:10 CET"]
    assert first.one("a", cls="join").attrs["href"] == \
        "https://meet.example.org/procura-make-ict-fair-1"


# --- accessibility basics ----------------------------------------------------------------------


async def test_headings_are_in_order_and_every_page_has_a_skip_link(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, slug="citymatch-zurich-recycled-concrete")
    paths = ["/", "/archive", SERIES, f"{SERIES}/register", f"{MEET_YOUR_BUYER}/register",
             f"/registrations/{outcome.manage_token}",
             f"/registrations/{outcome.manage_token}/cancel", "/events/nope"]

    for path in paths:
        page = parse((await client.get(path)).text)
        levels = [int(e.tag[1]) for e in page.iter() if re.fullmatch(r"h[1-6]", e.tag)]
        assert levels[0] == 1, path
        assert levels.count(1) == 1, path
        assert all(b <= a + 1 for a, b in pairwise(levels)), (path, levels)
        assert page.find_all("a", cls="skip-link")[0].attrs["href"] == "#main"
        assert page.one("main").attrs["id"] == "main"


async def test_pending_application_shows_sessions_awaiting_approval(
    client: Client, db: AsyncSession, settings: Settings
) -> None:
    outcome = await register_directly(db, settings, slug="citymatch-zurich-recycled-concrete")

    page = parse((await client.get(f"/registrations/{outcome.manage_token}")).text)

    assert page.one("div", id="registration-status").find_all("p")[:2][1].text == \
        "The organisers review each application; you will hear from them by email."
    sessions = page.one("ul", cls="enrolments").find_all("li")
    assert [(li.one("h3").text, li.one("span", cls="badge").text) for li in sessions] == [
        ("Study visit day", "Awaiting approval")]
