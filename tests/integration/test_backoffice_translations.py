"""The back office's translations page of an event: editors give the texts per language
and choose the default language; a refused form names each field and stores nothing;
viewers and other teams cannot change anything."""

from __future__ import annotations

from sqlalchemy import func, select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import AuditEntry, ContentTranslation
from service.domain import programme
from service.domain.programme.translations import localised
from service.settings import Settings
from tests.factories import make_agenda_item, make_event
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse


async def test_an_editor_translates_an_event_and_chooses_its_language(
    organiser_client: SignedInClient, viewer_client: SignedInClient,
    other_team_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, commit=False)
    first, second = event.sessions
    item = await make_agenda_item(db, settings, first, "10:00", "10:30", "Welcome")
    await db.commit()
    url = f"/organiser/events/{event.id}/translations"
    names = {"event-title": "Faire IKT-Beschaffung", "event-summary": "",
             "event-description": "Zwei Webinare.",
             f"session-{first.id}-title": "Soziale Kriterien",
             f"session-{first.id}-description": "Kriterien schreiben.\r\n\r\nUnd prüfen.",
             f"session-{second.id}-title": "",
             f"agenda-item-{item.id}-title": "Begrüßung",
             f"agenda-item-{item.id}-description": "Eröffnung durch die Gastgeberin."}

    page = await organiser_client.get(url, params={"language": "de"})
    editor = await organiser_client.get(f"/organiser/events/{event.id}")
    refused = [await viewer_client.post_form(url, {"language": "de", **names}),
               await other_team_client.post_form(url, {"language": "de", **names})]
    bad = await organiser_client.post_form(url, {"language": "de", **names,
                                                 "event-title": "Zwei\u0007Zeilen"})
    stored_after_bad = await db.scalar(select(func.count(ContentTranslation.id)))
    saved = await organiser_client.post_form(url, {"language": "de", **names})
    shown = await organiser_client.get(saved.headers["location"])
    wrong_language = await organiser_client.post_form(url, {"language": "en", **names})
    default = await organiser_client.post_form(f"{url}/default-language",
                                               {"default_language": "fr"})
    bad_default = await organiser_client.post_form(f"{url}/default-language",
                                                   {"default_language": "pt"})

    assert page.status_code == 200
    labels = [label.text for label in parse(page.text).find_all("label")]
    assert labels == ["The language the event's own texts are written in",
                      "Title (optional)", "Summary (optional)", "Description (optional)",
                      "What registrants need to know (optional)",
                      "Title (optional)", "Description (optional)",
                      "Agenda item at 10:00: title (optional)",
                      "Agenda item at 10:00: description (optional)",
                      "Title (optional)", "Description (optional)"]
    assert [parse(page.text).one(id=f"{name}-description").tag for name in (
        f"session-{first.id}", f"agenda-item-{item.id}")] == ["textarea", "textarea"]
    assert url in [a.attrs.get("href") for a in parse(editor.text).find_all("a")]
    assert [r.status_code for r in refused] == [403, 403]
    assert (bad.status_code, stored_after_bad) == (422, 0)
    assert parse(bad.text).one("div", cls="field-error").one("span", cls="error-message").text \
        == "Error: Must be a single line without control characters."
    assert (saved.status_code, saved.headers["location"]) == (303, f"{url}?language=de&saved=texts")
    assert "The translations are saved." in shown.text
    assert 'value="Faire IKT-Beschaffung"' in shown.text
    # Per language, how many of the event's own texts are translated: the event's title and
    # the three titles below it (its summary and descriptions are empty: nothing to translate).
    assert [a.text for a in parse(page.text).one("nav", aria_label="Languages").find_all("a")] \
        == [f"{name} (0/4 translated)" for name in (
            "Deutsch", "Français", "Español", "Italiano", "Nederlands")]
    assert [a.text for a in parse(shown.text).one("nav", aria_label="Languages").find_all("a")
            ][:2] == ["Deutsch (3/4 translated)", "Français (0/4 translated)"]
    assert wrong_language.status_code == 422
    assert "Choose a language other than the event&#39;s own." in wrong_language.text
    assert (default.status_code, bad_default.status_code) == (303, 422)
    event = await programme.get_event(db, event.id)
    assert event.default_language == "fr"
    assert [localised(event, "title", "de", target) for target in (event, first, second, item)] \
        == ["Faire IKT-Beschaffung", "Soziale Kriterien", "Contract management", "Begrüßung"]
    assert localised(event, "summary", "de") == ""
    assert [localised(event, "description", "de", target) for target in (first, second, item)] \
        == ["Kriterien schreiben.\n\nUnd prüfen.", "", "Eröffnung durch die Gastgeberin."]
    logged = await db.execute(select(AuditEntry.action, AuditEntry.after).where(
        AuditEntry.subject_type == "content_translation").order_by(AuditEntry.id))
    assert [(action, after["field"], after["text"]) for action, after in logged] == [
        ("created", "title", "Faire IKT-Beschaffung"), ("created", "description", "Zwei Webinare."),
        ("created", "title", "Soziale Kriterien"),
        ("created", "description", "Kriterien schreiben.\n\nUnd prüfen."),
        ("created", "title", "Begrüßung"),
        ("created", "description", "Eröffnung durch die Gastgeberin.")]
