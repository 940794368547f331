"""A session's materials, through real HTTP: organisers share links with a session in the back
office, for everyone (the event page and its API show them) or for registrants only (only
the private page and API of someone holding a place in that session show them, never the
public output, nor someone waiting); a refused list keeps nothing and names each problem;
a viewer reads but cannot change; titles are translated with the event's texts and their
translations go with their material. Both databases.
"""

from __future__ import annotations

from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import (
    AccessPurpose,
    AuditEntry,
    ContentTranslation,
    EnrolmentStatus,
    RegistrationStatus,
    SessionMaterial,
)
from service.domain import programme
from service.domain.access import current_access_token
from service.domain.link_lists import Link
from service.domain.programme.materials import MAX_MATERIALS, set_materials
from service.domain.programme.translations import TextChange, set_translations
from service.settings import Settings
from service.web.backoffice.materials import MATERIALS_TEXT
from tests.factories import BUILT_AT, EventSpec, make_event, make_registration
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

SLIDES = "https://docs.example.org/winter-slides.pdf"
REPORT = "https://docs.example.org/winter-report"
RECORDING = "https://video.example.org/recording-winter-7f3a"


async def _token(db: AsyncSession, settings: Settings, registration_id: int) -> str:
    return await current_access_token(db, AccessPurpose.REGISTRATION_MANAGE,
                                      secret_key=settings.secret_key, now=BUILT_AT,
                                      registration_id=registration_id)


async def _stored(db: AsyncSession) -> list[tuple[str, str, bool]]:
    db.expire_all()
    rows = await db.scalars(select(SessionMaterial).order_by(SessionMaterial.is_for_registrants,
                                                             SessionMaterial.position))
    return [(m.title, m.url, m.is_for_registrants) for m in rows]


async def test_materials_for_everyone_and_for_those_holding_a_place(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    client: AsyncTestClient[Litestar], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(commit=False))
    winter, spring = sorted(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, winter, "Ana Silva")
    carla = await make_registration(db, event, winter, "Carla Waiting",
                                    status=RegistrationStatus.WAITING,
                                    enrolment=EnrolmentStatus.WAITING)
    tokens = {"ana": await _token(db, settings, ana.id),
              "carla": await _token(db, settings, carla.id)}
    await db.commit()
    ids = {"event": event.id, "winter": winter.id, "spring": spring.id}
    url = f"/organiser/sessions/{ids['winter']}/materials"

    event_page = await organiser_client.get(f"/organiser/events/{ids['event']}")
    form = await organiser_client.get(url)
    saved = await organiser_client.post_form(url, {
        "public": f"Slides | {SLIDES}\n\n{REPORT}\n",
        "for_registrants": f"Recording <b>in full</b> | {RECORDING}"})
    after = await organiser_client.get(url, params={"done": "saved"})
    public_page = await client.get(f"/events/{event.slug}")
    public_api = await client.get(f"/api/events/{event.slug}")
    private = {name: await client.get(f"/registrations/{token}") for name, token in tokens.items()}
    private_api = {name: await client.get(f"/api/registrations/{token}")
                   for name, token in tokens.items()}
    message_form = await organiser_client.get(f"/organiser/events/{ids['event']}/message",
                                              params={"session": ids["winter"]})
    as_viewer = await viewer_client.get(url)
    viewer_post = await viewer_client.post_form(url, {"public": "", "for_registrants": ""})

    assert url in [a.attrs.get("href") for a in parse(event_page.text).find_all("a")]
    assert form.status_code == 200
    assert parse(form.text).one("textarea", id="public").attrs["maxlength"] == str(MATERIALS_TEXT)
    assert saved.status_code == 303 and saved.headers["location"].endswith("?done=saved")
    assert await _stored(db) == [("Slides", SLIDES, False), (REPORT, REPORT, False),
                                 ("Recording <b>in full</b>", RECORDING, True)]
    notice = parse(after.text).one("p", cls="notice")
    assert "The materials are saved." in notice.text
    assert (f"/organiser/events/{ids['event']}/message?session={ids['winter']}"
            in [a.attrs.get("href") for a in notice.find_all("a")])
    # Public output: the public materials under their session, never the recording.
    winter_article = parse(public_page.text).one("article", **{"aria-labelledby":
                                                              f"session-{ids['winter']}"})
    assert [(a.text, a.attrs["href"]) for a in winter_article.one(cls="materials").find_all("a")
            ] == [("Slides", SLIDES), (REPORT, REPORT)]
    sessions = {s["id"]: s for s in public_api.json()["sessions"]}
    assert sessions[ids["winter"]]["materials"] == [{"title": "Slides", "url": SLIDES},
                                                    {"title": REPORT, "url": REPORT}]
    assert sessions[ids["spring"]]["materials"] == []
    assert RECORDING not in public_page.text and RECORDING not in public_api.text
    # The public page says there is more for registrants, without showing it.
    more = "People registered for this session find more materials on their private page."
    assert more in winter_article.text
    assert more not in parse(public_page.text).one("article", **{
        "aria-labelledby": f"session-{ids['spring']}"}).text
    # Ana holds a place: she has the recording too (its title escaped); Carla waits: not.
    ana_links = [a.attrs["href"] for a in parse(private["ana"].text).one(cls="materials")
                 .find_all("a")]
    assert ana_links == [SLIDES, REPORT, RECORDING]
    assert "Recording &lt;b&gt;in full&lt;/b&gt;" in private["ana"].text
    assert RECORDING not in private["carla"].text and SLIDES in private["carla"].text
    assert private_api["ana"].json()["sessions"][0]["materials"][-1] == {
        "title": "Recording <b>in full</b>", "url": RECORDING}
    assert [m["url"] for m in private_api["carla"].json()["sessions"][0]["materials"]] == [
        SLIDES, REPORT]
    chosen = parse(message_form.text).one("select", id="session_id").find_all("option")
    assert [o.attrs["value"] for o in chosen if "selected" in o.attrs] == [str(ids["winter"])]
    # A viewer reads the list but has no form, and cannot change it.
    assert as_viewer.status_code == 200 and "<textarea" not in as_viewer.text
    assert RECORDING in as_viewer.text
    assert viewer_post.status_code == 403
    assert len(await _stored(db)) == 3
    audited = await db.scalar(select(func.count()).select_from(AuditEntry).where(
        AuditEntry.subject_type == "session_material", AuditEntry.event_id == ids["event"]))
    assert audited == 3


async def test_a_refused_list_keeps_what_was_shared_and_names_each_problem(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec())
    url = f"/organiser/sessions/{event.sessions[0].id}/materials"
    await organiser_client.post_form(url, {"public": f"Slides | {SLIDES}",
                                           "for_registrants": ""})

    bad = await organiser_client.post_form(url, {
        "public": f"Slides | {SLIDES}\nAgenda | javascript:alert(1)",
        "for_registrants": "\n".join(f"https://video.example.org/{n}"
                                     for n in range(MAX_MATERIALS + 1))})
    too_long = await organiser_client.post_form(url, {
        "public": "x" * (MATERIALS_TEXT + 1), "for_registrants": "Recording | ftp://x.example"})

    assert bad.status_code == 422
    page = parse(bad.text)
    assert page.one(id="public-error").text.endswith(
        "Material 2: Give each material's address, starting with https://.")
    assert page.one(id="for_registrants-error").text.endswith(
        f"At most {MAX_MATERIALS} materials.")
    assert "javascript:alert(1)" in page.one("textarea", id="public").text
    assert too_long.status_code == 422
    page = parse(too_long.text)
    assert page.one(id="public-error").text.endswith(f"At most {MATERIALS_TEXT} characters.")
    assert page.one(id="for_registrants-error").text.endswith("Material 1: Give each "
                                                              "material's address, starting "
                                                              "with https://.")
    assert await _stored(db) == [("Slides", SLIDES, False)]


async def test_titles_are_translated_and_their_translations_go_with_them(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar], db: AsyncSession,
    settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec())
    session_id, slug, event_id = event.sessions[0].id, event.slug, event.id
    url = f"/organiser/sessions/{session_id}/materials"
    translations = f"/organiser/events/{event_id}/translations"
    await organiser_client.post_form(url, {"public": f"Slides | {SLIDES}", "for_registrants": ""})
    material_id = await db.scalar(select(SessionMaterial.id))
    field = f"material-{material_id}-title"

    page = await organiser_client.get(translations, params={"language": "de"})
    saved = await organiser_client.post_form(translations, {"language": "de", field: "Folien"})
    german_page = await client.get(f"/events/{slug}", params={"lang": "de"})
    german_api = await client.get(f"/api/events/{slug}", headers={"Accept-Language": "de"})
    # Retitled, the same link keeps its row and its translation; left out, both go.
    await organiser_client.post_form(url, {"public": f"Slide deck | {SLIDES}",
                                           "for_registrants": ""})
    kept = await db.scalar(select(func.count()).select_from(ContentTranslation)
                           .where(ContentTranslation.target == f"material-{material_id}"))
    await organiser_client.post_form(url, {"public": REPORT, "for_registrants": ""})
    gone = await db.scalar(select(func.count()).select_from(ContentTranslation)
                           .where(ContentTranslation.target == f"material-{material_id}"))

    label = parse(page.text).one("label", **{"for": field})
    assert label.text.startswith("Material 1: title")
    assert saved.status_code == 303
    link = parse(german_page.text).one(cls="materials").one("a")
    assert (link.text, link.attrs.get("lang")) == ("Folien", None)
    assert german_api.json()["sessions"][0]["materials"] == [{"title": "Folien", "url": SLIDES}]
    assert (kept, gone) == (1, 0)
    assert await _stored(db) == [(REPORT, REPORT, False)]


async def test_the_organiser_api_reads_and_replaces_a_sessions_materials(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec())
    url = f"/api/organiser/sessions/{event.sessions[0].id}/materials"

    empty = await client.get(url, headers=organiser_headers)
    saved = await client.put(url, headers=organiser_headers, json={
        "public": [{"title": "Slides", "url": SLIDES}, {"url": REPORT}],
        "for_registrants": [{"title": "Recording", "url": RECORDING}]})
    refused = await client.put(url, headers=organiser_headers, json={
        "public": [{"url": REPORT}, {"url": "javascript:alert(1)"}],
        "for_registrants": [{"url": "ftp://video.example.org/1"}]})
    unreadable = await client.put(url, headers=organiser_headers, json={
        "for_registrants": [{"title": "Two\nlines", "url": RECORDING}]})
    read_only = await client.put(url, headers=viewer_headers, json={"public": []})
    read = await client.get(url, headers=viewer_headers)
    unknown = await client.get("/api/organiser/sessions/999999/materials",
                               headers=organiser_headers)

    assert empty.json() == {"public": [], "for_registrants": []}
    assert saved.status_code == 200
    assert saved.json() == {
        "public": [{"title": "Slides", "url": SLIDES}, {"title": REPORT, "url": REPORT}],
        "for_registrants": [{"title": "Recording", "url": RECORDING}]}
    # Every problem at once, each named; a body of the wrong shape is a 400 naming its field.
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == ["public[1].url",
                                                              "for_registrants[0].url"]
    assert unreadable.status_code == 400
    assert [e["field"] for e in unreadable.json()["errors"]] == ["for_registrants[0].title"]
    assert read_only.status_code == 403
    assert read.json() == saved.json()
    assert unknown.status_code == 404
    assert len(await _stored(db)) == 3


async def test_a_deleted_session_takes_its_materials_and_their_translations(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, EventSpec(commit=False, publish=False))
    session_id, event_id = event.sessions[0].id, event.id
    shared = await set_materials(db, session_id, public=[Link("Slides", SLIDES)],
                                 for_registrants=[Link("Recording", RECORDING)], now=BUILT_AT)
    slides = shared[session_id][0]
    await set_translations(db, event_id, [TextChange(slides, "de", "title", "Folien", "t")],
                           now=BUILT_AT)
    await db.commit()

    await programme.delete_session(db, session_id)
    await db.commit()

    assert await _stored(db) == []
    assert await db.scalar(select(func.count()).select_from(ContentTranslation)) == 0
