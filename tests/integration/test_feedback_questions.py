"""An event's own feedback questions, through real HTTP: an organiser asks "How well was it
moderated?" (a rating, required) and "Which topic should come next?" (words, optional);
a third row answered in no known way is refused beside its row with nothing stored. Once
her webinar is over, Ana finds both on the form (the words one in German when she reads
German), is refused without the required rating, then answers; her answers come back on
the form. Organisers read the average and the words without names (page, spreadsheet,
API). Through the API: the questions replaced whole (every problem named
`questions[1].kind`), a question answered cannot change its kind, an answer to a question
the event does not ask is named `answers.N`; erasing Ana blanks her words and keeps her
rating; her export has her answers; a copy of the event asks the same questions; a question
removed goes with its answers. A question answered by one of the organiser's choices: its
choices checked, translated line for line, chosen on the form and counted for organisers,
kept once answered. Both databases.
"""

from __future__ import annotations

from typing import Any

from httpx import Response
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession

from service.db.models import FeedbackAnswer, FeedbackQuestion, Registration
from service.domain import privacy
from service.domain.errors import InvalidInputError
from service.domain.programme.translations import TextChange, set_translations
from service.settings import Settings
from tests.factories import BUILT_AT, make_event, make_registration, webinars_around_now
from tests.integration.backoffice import SignedInClient
from tests.integration.test_feedback import _tokens
from tests.integration.test_pages import csrf_token, parse

TOPIC = "Which topic should come next?"
MODERATION = "How well was it <moderated>?"


def _rows(*rows: tuple[str, str, str, bool], choices: str = "") -> dict[str, str]:
    form: dict[str, str] = {}
    for number, (question_id, text, kind, required) in enumerate(rows, start=1):
        form.update({f"question-{number}-id": question_id, f"question-{number}-text": text,
                     f"question-{number}-kind": kind,
                     f"question-{number}-choices": choices if kind == "choice" else ""})
        if required:
            form[f"question-{number}-required"] = "on"
    return form


async def _ana_after_the_first_webinar(db: AsyncSession, settings: Settings
                                       ) -> tuple[int, int, int, str]:
    """A webinar series whose first session is over, Ana registered for it: the event's,
    the session's and Ana's ids, and her private link's token (committed)."""
    event = await make_event(db, settings, webinars_around_now())
    held = min(event.sessions, key=lambda s: s.starts_at)
    ana = await make_registration(db, event, held, "Ana Silva",
                                  email_address="ana@lisboa.example.pt")
    tokens = await _tokens(db, settings, {"ana": ana.id})
    await db.commit()
    return event.id, held.id, ana.id, tokens["ana"]


async def _copy_export_and_erase(client: AsyncTestClient[Litestar], headers: dict[str, str],
                                 db: AsyncSession, settings: Settings, event_id: int,
                                 ana_id: int) -> tuple[Response, dict[str, Any]]:
    """The event copied (its copy's questions, as the API gives them), then Ana's export,
    then Ana erased (committed)."""
    copied = await client.post(f"/api/organiser/events/{event_id}/copy", headers=headers,
                               json={"title": "Run again", "first_day": "2031-03-03"})
    copy_questions = await client.get(
        f"/api/organiser/events/{copied.json()['id']}/feedback/questions", headers=headers)
    exported = await privacy.export_personal_data(db, "ana@lisboa.example.pt", now=BUILT_AT)
    await privacy.erase_registration(db, await db.get_one(Registration, ana_id), now=BUILT_AT,
                                     reason="registrant", settings=settings)
    await db.commit()
    return copy_questions, exported


async def test_organisers_ask_their_own_questions_and_read_the_answers(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event_id, held_id, _ana_id, token = await _ana_after_the_first_webinar(db, settings)
    questions_url = f"/organiser/events/{event_id}/feedback/questions"
    form_url = f"/registrations/{token}/feedback"

    before = await organiser_client.get(f"/organiser/events/{event_id}/feedback")
    empty = await organiser_client.get(questions_url)
    refused = await organiser_client.post_form(questions_url, _rows(
        ("", MODERATION, "rating", True), ("", TOPIC, "text", False),
        ("", "Anything else?", "yes_or_no", False)))
    nothing_stored = list(await db.scalars(select(FeedbackQuestion)))
    saved = await organiser_client.post_form(questions_url, _rows(
        ("", MODERATION, "rating", True), ("", TOPIC, "text", False)))
    listed = await organiser_client.get(saved.headers["location"])
    moderation_id, topic_id = [q.id for q in await db.scalars(
        select(FeedbackQuestion).order_by(FeedbackQuestion.position))]
    moderation_field, topic_field = f"question-{moderation_id}", f"question-{topic_id}"
    await set_translations(db, event_id, [TextChange(
        await db.get_one(FeedbackQuestion, topic_id), "de", "text",
        "Welches Thema soll als Nächstes kommen?", "text")], now=BUILT_AT)
    await db.commit()

    opened = await client.get(form_url)
    in_german = await client.get(form_url, params={"lang": "de"})
    csrf = await csrf_token(client, form_url)
    without_rating = await client.post(form_url, data={
        "csrf_token": csrf, "session_id": str(held_id), "rating": "4",
        topic_field: "Circular <b>ICT</b>"})
    answers_before = list(await db.scalars(select(FeedbackAnswer)))
    answered = await client.post(form_url, follow_redirects=False, data={
        "csrf_token": csrf, "session_id": str(held_id), "rating": "4", moderation_field: "5",
        topic_field: "Circular <b>ICT</b>"})
    again = await client.get(answered.headers["location"])
    results = await organiser_client.get(f"/organiser/events/{event_id}/feedback")
    spreadsheet = await organiser_client.get(f"/organiser/events/{event_id}/feedback.csv")
    api = await client.get(f"/api/organiser/events/{event_id}/feedback",
                           headers=organiser_headers)

    assert empty.status_code == 200
    assert "Ask questions of your own" in before.text
    assert [[o.attrs["value"] for o in parse(empty.text).one("select", id=f"question-{n}-kind")
             .find_all("option") if "selected" in o.attrs] for n in (1, 2, 3)] == [["text"]] * 3
    assert refused.status_code == 422
    assert [a.attrs["href"] for a in parse(refused.text).one(cls="error-summary")
            .find_all("a")] == ["#question-3-kind"]
    assert nothing_stored == []
    assert saved.status_code == 303
    assert "The questions are saved." in listed.text
    assert parse(listed.text).one("input", id="question-1-text").attrs["value"] == MODERATION
    assert "checked" in parse(listed.text).one("input", id="question-1-required").attrs
    assert "checked" not in parse(listed.text).one("input", id="question-2-required").attrs

    page = parse(opened.text)
    assert "How well was it &lt;moderated&gt;?" in opened.text
    assert [i.attrs["value"] for i in page.find_all("input", type="radio")
            if i.attrs["name"] == moderation_field] == ["1", "2", "3", "4", "5"]
    assert page.one("textarea", id=topic_field) is not None
    assert "Welches Thema soll als Nächstes kommen?" in in_german.text
    # Not translated: marked as the English it is written in.
    assert '<span lang="en">How well was it &lt;moderated&gt;?</span>' in in_german.text
    assert without_rating.status_code == 422
    assert [a.attrs["href"] for a in parse(without_rating.text).one(cls="error-summary")
            .find_all("a")] == [f"#{moderation_field}"]
    assert answers_before == []
    assert answered.status_code == 303
    assert "checked" in parse(again.text).one("input", id=f"{moderation_field}-5").attrs
    assert parse(again.text).one("textarea", id=topic_field).text == "Circular <b>ICT</b>"

    assert "How well was it &lt;moderated&gt;?" in results.text
    assert "Circular &lt;b&gt;ICT&lt;/b&gt;" in results.text and "Ana" not in results.text
    assert "Average: 5.0 out of 5." in results.text
    lines = spreadsheet.content.decode("utf-8-sig").splitlines()
    assert lines[0] == "session,rating,answers,most useful,to improve,day,question,answer"
    assert f",5,1,,,,{MODERATION}," in lines
    assert any(line.endswith(f",{TOPIC},Circular <b>ICT</b>") for line in lines)
    body = api.json()
    assert [(q["text"], q["kind"], q["answers"], q["average"]) for q in body["questions"]] == [
        (MODERATION, "rating", 1, 5.0), (TOPIC, "text", 1, None)]
    assert body["questions"][0]["ratings"]["5"] == 1
    assert [w["text"] for w in body["questions"][1]["words"]] == ["Circular <b>ICT</b>"]


async def test_the_api_keeps_questions_and_answers_and_personal_data_rules_hold(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    db: AsyncSession, settings: Settings,
) -> None:
    event_id, held_id, ana_id, token = await _ana_after_the_first_webinar(db, settings)
    questions = f"/api/organiser/events/{event_id}/feedback/questions"
    mine = f"/api/registrations/{token}/feedback"

    refused = await client.put(questions, headers=organiser_headers, json={"questions": [
        {"text": "", "kind": "rating"}, {"text": TOPIC, "kind": "yes_or_no"}]})
    created = await client.put(questions, headers=organiser_headers, json={"questions": [
        {"text": MODERATION, "kind": "rating", "required": True},
        {"text": TOPIC, "kind": "text"}]})
    moderation_id, topic_id = [q["id"] for q in created.json()["questions"]]
    unknown = await client.put(mine, json={
        "session_id": held_id, "rating": 4, "answers": {str(moderation_id): 6, "999": "x"}})
    answered = await client.put(mine, json={
        "session_id": held_id, "rating": 4,
        "answers": {str(moderation_id): 3, str(topic_id): "Social clauses"}})
    kind_changed = await client.put(questions, headers=organiser_headers, json={"questions": [
        {"id": moderation_id, "text": MODERATION, "kind": "text"},
        {"id": topic_id, "text": TOPIC, "kind": "text"}]})
    copy_questions, exported = await _copy_export_and_erase(
        client, organiser_headers, db, settings, event_id, ana_id)
    kept = {a.question_id: (a.rating, a.text) for a in await db.scalars(
        select(FeedbackAnswer).execution_options(populate_existing=True))}
    removed = await client.put(questions, headers=organiser_headers, json={"questions": [
        {"id": topic_id, "text": TOPIC, "kind": "text"}]})
    left = list(await db.scalars(select(FeedbackAnswer.question_id)))

    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "questions[0].text", "questions[1].kind"]
    assert created.status_code == 200
    assert [(q["text"], q["kind"], q["required"]) for q in created.json()["questions"]] == [
        (MODERATION, "rating", True), (TOPIC, "text", False)]
    assert unknown.status_code == 422
    assert sorted(e["field"] for e in unknown.json()["errors"]) == sorted([
        "answers.999", f"answers.{moderation_id}"])
    assert answered.status_code == 200
    [session] = answered.json()["sessions"]
    assert session["answers"] == {str(moderation_id): 3, str(topic_id): "Social clauses"}
    assert [q["id"] for q in answered.json()["questions"]] == [moderation_id, topic_id]
    assert kind_changed.status_code == 422
    assert kind_changed.json()["errors"][0]["field"] == "questions[0].kind"
    assert [(q["text"], q["kind"]) for q in copy_questions.json()["questions"]] == [
        (MODERATION, "rating"), (TOPIC, "text")]
    [registration] = exported["registrations"]
    assert sorted((a["question"], a["rating"], a["text"])
                  for a in registration["feedback"][0]["answers"]) == [
        (MODERATION, 3, ""), (TOPIC, None, "Social clauses")]
    # Erased: the words go, the rating stays for the figures.
    assert kept == {moderation_id: (3, ""), topic_id: (None, "")}
    assert removed.status_code == 200 and left == [topic_id]


NEXT = "Which should the next webinar cover?"
CHOICES = ["Cloud services", "Laptops & <screens>", "Data centres"]


async def test_a_question_answered_by_one_of_the_organisers_choices(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event_id, held_id, ana_id, token = await _ana_after_the_first_webinar(db, settings)
    questions_url = f"/organiser/events/{event_id}/feedback/questions"
    api_questions = f"/api/organiser/events/{event_id}/feedback/questions"
    form_url = f"/registrations/{token}/feedback"

    # Refused: one choice only, choices without a question (the form), the same choice twice,
    # choices for a rating (the API).
    too_few = await organiser_client.post_form(questions_url, _rows(
        ("", NEXT, "choice", True), choices="Cloud services\n\n"))
    twice = await client.put(api_questions, headers=organiser_headers, json={"questions": [
        {"text": NEXT, "kind": "choice", "choices": ["Laptops", " laptops"]}]})
    no_wording = await organiser_client.post_form(questions_url, {
        "question-1-text": "", "question-1-kind": "choice", "question-1-choices": "A\nB"})
    stray = await client.put(api_questions, headers=organiser_headers, json={"questions": [
        {"text": NEXT, "kind": "rating", "choices": ["Laptops", "Cloud"]}]})
    saved = await organiser_client.post_form(questions_url, _rows(
        ("", NEXT, "choice", True), choices="\n".join(CHOICES) + "\n"))
    listed = await organiser_client.get(questions_url)
    [question] = list(await db.scalars(select(FeedbackQuestion)))
    question_id, field = question.id, f"question-{question.id}"
    # Translated line for line: as many choices as the question has, in its order.
    try:
        await set_translations(db, event_id, [TextChange(
            question, "de", "choices", "Cloud-Dienste\nLaptops", "choices")], now=BUILT_AT)
    except InvalidInputError as error:
        short_translation = [problem.field for problem in error.errors]
    await db.rollback()
    question = await db.get_one(FeedbackQuestion, question_id)
    await set_translations(db, event_id, [TextChange(
        question, "de", "choices", "Cloud-Dienste\nLaptops und <Bildschirme>\nRechenzentren",
        "choices")], now=BUILT_AT)
    await db.commit()

    in_german = await client.get(form_url, params={"lang": "de"})
    csrf = await csrf_token(client, form_url)
    not_a_choice = await client.post(form_url, data={
        "csrf_token": csrf, "session_id": str(held_id), "rating": "4", field: "4"})
    answered = await client.post(form_url, follow_redirects=False, data={
        "csrf_token": csrf, "session_id": str(held_id), "rating": "4", field: "2"})
    again = await client.get(answered.headers["location"])
    mine = await client.get(f"/api/registrations/{token}/feedback",
                            params={"lang": "de"})
    results = await organiser_client.get(f"/organiser/events/{event_id}/feedback")
    spreadsheet = await organiser_client.get(f"/organiser/events/{event_id}/feedback.csv")
    api = await client.get(f"/api/organiser/events/{event_id}/feedback",
                           headers=organiser_headers)
    # Answered: a choice may be reworded and one added at the end, none taken away.
    dropped = await client.put(api_questions, headers=organiser_headers, json={"questions": [
        {"id": question_id, "text": NEXT, "kind": "choice", "choices": CHOICES[:2]}]})
    reworded = await client.put(api_questions, headers=organiser_headers, json={"questions": [
        {"id": question_id, "text": NEXT, "kind": "choice", "required": True,
         "choices": ["Cloud", *CHOICES[1:], "Printers"]}]})
    copy_questions, exported = await _copy_export_and_erase(
        client, organiser_headers, db, settings, event_id, ana_id)
    kept = [(a.choice, a.rating, a.text) for a in await db.scalars(
        select(FeedbackAnswer).execution_options(populate_existing=True))]

    assert too_few.status_code == 422
    assert [a.attrs["href"] for a in parse(too_few.text).one(cls="error-summary")
            .find_all("a")] == ["#question-1-choices"]
    assert "Give from 2 to 10 choices, one a line." in too_few.text
    assert twice.status_code == 422
    assert [(e["field"], e["message"]) for e in twice.json()["errors"]] == [
        ("questions[0].choices", "Give each choice once.")]
    assert no_wording.status_code == 422
    assert [a.attrs["href"] for a in parse(no_wording.text).one(cls="error-summary")
            .find_all("a")] == ["#question-1-choices"]
    assert stray.status_code == 422
    assert [e["field"] for e in stray.json()["errors"]] == ["questions[0].choices"]
    assert saved.status_code == 303
    assert parse(listed.text).one("textarea", id="question-1-choices").text == \
        " ".join(CHOICES)
    assert (question.choices, question.required) == ("\n".join(CHOICES), True)
    assert short_translation == ["choices"]

    page = parse(in_german.text)
    assert [(i.attrs["value"], page.one("label", for_=i.attrs["id"]).text)
            for i in page.find_all("input", type="radio") if i.attrs["name"] == field] == [
        ("1", "Cloud-Dienste"), ("2", "Laptops und <Bildschirme>"), ("3", "Rechenzentren")]
    assert "Laptops und &lt;Bildschirme&gt;" in in_german.text
    assert not_a_choice.status_code == 422
    assert [a.attrs["href"] for a in parse(not_a_choice.text).one(cls="error-summary")
            .find_all("a")] == [f"#{field}"]
    assert answered.status_code == 303
    assert "checked" in parse(again.text).one("input", id=f"{field}-2").attrs
    [asked] = mine.json()["questions"]
    assert (asked["kind"], asked["choices"]) == ("choice", [
        "Cloud-Dienste", "Laptops und <Bildschirme>", "Rechenzentren"])
    assert mine.json()["sessions"][0]["answers"] == {str(question_id): 2}

    [table] = [t for t in parse(results.text).find_all("table")
               if [c.text for c in t.find_all("caption")] == [NEXT]]
    assert [(row.find_all("th")[0].text, row.find_all("td")[0].text)
            for row in table.find_all("tbody")[0].find_all("tr")] == [
        (CHOICES[0], "0"), (CHOICES[1], "1"), (CHOICES[2], "0")]
    assert "Laptops &amp; &lt;screens&gt;" in results.text and "Ana" not in results.text
    lines = spreadsheet.content.decode("utf-8-sig").splitlines()
    assert f",,1,,,,{NEXT},{CHOICES[1]}" in lines and f",,0,,,,{NEXT},{CHOICES[0]}" in lines
    [result] = api.json()["questions"]
    assert (result["kind"], result["answers"], result["choices"]) == ("choice", 1, [
        {"choice": CHOICES[0], "answers": 0}, {"choice": CHOICES[1], "answers": 1},
        {"choice": CHOICES[2], "answers": 0}])

    assert dropped.status_code == 422
    assert dropped.json()["errors"][0]["field"] == "questions[0].choices"
    assert reworded.status_code == 200
    assert reworded.json()["questions"][0]["choices"] == ["Cloud", *CHOICES[1:], "Printers"]
    assert [(q["kind"], q["choices"]) for q in copy_questions.json()["questions"]] == [
        ("choice", ["Cloud", *CHOICES[1:], "Printers"])]
    [registration] = exported["registrations"]
    [own] = registration["feedback"][0]["answers"]
    assert (own["question"], own["choice"], own["chosen"]) == (NEXT, 2, CHOICES[1])
    # Erased: a choice is no free text, it stays for the figures.
    assert kept == [(2, None, "")]
