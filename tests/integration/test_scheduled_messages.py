"""Messages written ahead and sent at their time, through real HTTP and the scheduler's
job: an organiser writes a thank-you, chooses tomorrow 09:00 in the event's zone, sees the
preview say when, schedules it; nothing goes before its time; at its time it goes once to
whoever is confirmed then (Bruno, confirmed meanwhile, too), each copy with its private
link, and the form lists it as sent; a second run sends nothing more. A time past, in a
DST gap or unreadable is refused naming `send_at`; a viewer cannot; a message cancelled is
never sent, and cancelling it again is a conflict. One message that cannot go out
(nobody in its group, or a broken draft) is recorded with why and the next still goes.
Both databases.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import time_machine
from litestar import Litestar
from litestar.testing import AsyncTestClient
from sqlalchemy import select
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications.transport import MaildirTransport
from scheduling.jobs import JOB_NAMES, JobContext, job_send_scheduled_messages
from service.db.models import (
    AuditEntry,
    EnrolmentStatus,
    MessageTiming,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    ScheduledMessage,
    ScheduledMessageStatus,
)
from service.domain.programme import cancel_session
from service.domain.registration.organiser_messages import MessageDraft
from service.domain.registration.scheduled_messages import (
    NOTHING_TO_COUNT_FROM,
    RelativeTime,
    schedule_message,
    send_due_messages,
)
from service.domain.times import iso_utc
from service.settings import Settings
from tests.factories import make_event, make_registration, webinars_around_now
from tests.integration.backoffice import SignedInClient
from tests.integration.test_pages import parse

ZONE = ZoneInfo("Europe/Brussels")


def _form(send_at: str, **more: str) -> dict[str, str]:
    return {"audience": "confirmed", "session_id": "", "subject": "Thank you",
            "text": "Thanks for coming!", "send_at": send_at, **more}


async def test_a_message_written_ahead_goes_once_at_its_time_to_who_is_in_its_group_then(
    organiser_client: SignedInClient, viewer_client: SignedInClient, db: AsyncSession,
    db_sessionmaker: async_sessionmaker[AsyncSession], settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    held = min(event.sessions, key=lambda s: s.starts_at)
    await make_registration(db, event, held, "Ana Silva")
    bruno = await make_registration(db, event, held, "Bruno Costa",
                                    status=RegistrationStatus.WAITING,
                                    enrolment=EnrolmentStatus.WAITING)
    await db.commit()
    event_id, bruno_id = event.id, bruno.id
    tomorrow = (datetime.now(ZONE) + timedelta(days=1)).date()
    wall = f"{tomorrow.isoformat()}T09:00"
    due = datetime(tomorrow.year, tomorrow.month, tomorrow.day, 9, tzinfo=ZONE).astimezone(UTC)
    url = f"/organiser/events/{event_id}/message"

    preview = await organiser_client.post_form(f"{url}/preview", _form(wall))
    past = await organiser_client.post_form(f"{url}/preview", _form("2020-01-01T09:00"))
    in_a_gap = await organiser_client.post_form(f"{url}/preview", _form("2035-03-25T02:30"))
    unreadable = await organiser_client.post_form(f"{url}/schedule", _form("tomorrow"))
    by_viewer = await viewer_client.post_form(f"{url}/schedule", _form(wall))
    scheduled = await organiser_client.post_form(f"{url}/schedule", _form(wall))
    listed = await organiser_client.get(scheduled.headers["location"])
    [message_id] = list(await db.scalars(select(ScheduledMessage.id)))
    # Bruno gets a place before the message's time: he is in its group then.
    await db.execute(Registration.__table__.update()
                     .where(Registration.id == bruno_id)
                     .values(status=RegistrationStatus.CONFIRMED))
    await db.commit()
    early = await send_due_messages(db, now=due - timedelta(minutes=1), settings=settings)
    await db.rollback()  # the job takes its own connections
    context = JobContext(sessionmaker=db_sessionmaker, settings=settings,
                         transport=MaildirTransport(settings.var_dir / "mail"))
    with time_machine.travel(due + timedelta(seconds=30), tick=False):
        sent = await job_send_scheduled_messages(context)
        again = await job_send_scheduled_messages(context)
    after = await organiser_client.get(url)

    notice = parse(preview.text).one(id="send-at").text
    assert notice.startswith("It will be sent on ") and "09:00" in notice
    assert "Schedule it" in preview.text and "Send to 1 person" not in preview.text
    for refused in (past, in_a_gap, unreadable):
        assert refused.status_code == 422
        assert "#send_at" in [a.attrs["href"] for a in parse(refused.text)
                              .one(cls="error-summary").find_all("a")]
    assert "Choose a time still to come" in past.text
    assert by_viewer.status_code == 403
    assert scheduled.status_code == 303
    assert scheduled.headers["location"].endswith("/message?done=scheduled#scheduled")
    table = parse(listed.text).one("section", id="scheduled")
    assert "Thank you" in table.text and "Waiting to be sent" in table.text
    assert "The message is scheduled" in parse(listed.text).one(cls="notice").text
    assert (early.claimed, sent, again) == (0, 1, 0)
    await db.rollback()
    rows = list(await db.scalars(select(OutboxEmail).order_by(OutboxEmail.id)))
    assert sorted(row.to_address.split("@")[0] for row in rows) == ["ana", "bruno"]
    message = await db.get(ScheduledMessage, message_id)
    assert message is not None
    assert (message.status, message.recipients) == (ScheduledMessageStatus.SENT, 2)
    assert "Sent to 2 people" in parse(after.text).one("section", id="scheduled").text
    assert "Cancel" not in parse(after.text).one("section", id="scheduled").text
    # Who scheduled it is in the event's audit log (the scheduler acts for nobody).
    assert list(await db.scalars(select(AuditEntry.action).where(
        AuditEntry.subject_type == "scheduled_message"))) == ["created"]


async def test_a_cancelled_message_is_never_sent(
    organiser_client: SignedInClient, db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    await make_registration(db, event, event.sessions[0], "Ana Silva")
    now = datetime.now(UTC)
    message = await schedule_message(
        db, event.id, MessageDraft(audiences=("confirmed",), subject="Later", text="Hello"),
        send_at=now + timedelta(hours=1), now=now)
    await db.commit()
    ids = (event.id, message.id)
    cancel = f"/organiser/events/{ids[0]}/message/scheduled/{ids[1]}/cancel"

    cancelled = await organiser_client.post_form(cancel)
    again = await organiser_client.post_form(cancel)
    listed = await organiser_client.get(cancelled.headers["location"])
    report = await send_due_messages(db, now=now + timedelta(hours=2), settings=settings)

    assert cancelled.status_code == 303
    assert again.status_code == 409
    assert "Cancelled" in parse(listed.text).one("section", id="scheduled").text
    assert report.claimed == 0
    assert list(await db.scalars(select(OutboxEmail))) == []
    assert [(entry.action, entry.after) for entry in await db.scalars(
        select(AuditEntry).where(AuditEntry.subject_type == "scheduled_message"))] == [
        ("changed", {"status": "cancelled"})]


async def test_a_message_that_cannot_go_out_is_recorded_and_the_next_one_goes(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    await make_registration(db, event, event.sessions[0], "Ana Silva")
    now = datetime.now(UTC)
    send_at = now + timedelta(hours=1)
    nobody = await schedule_message(
        db, event.id, MessageDraft(audiences=("pending",), subject="To nobody", text="Hi"),
        send_at=send_at, now=now)
    broken = await schedule_message(
        db, event.id, MessageDraft(audiences=("confirmed",), subject="Broken", text="Hi"),
        send_at=send_at, now=now)
    broken.translations = {"de": ["Only a subject"]}  # as a damaged row would hold it
    good = await schedule_message(
        db, event.id, MessageDraft(audiences=("confirmed",), subject="Good", text="Hi"),
        send_at=send_at, now=now)
    await db.commit()
    ids = (nobody.id, broken.id, good.id)

    report = await send_due_messages(db, now=send_at, settings=settings)
    await db.commit()

    found = {m.id: (m.status, m.problem) for m in await db.scalars(select(ScheduledMessage))}
    assert (report.claimed, report.sent, report.failed) == (3, 1, 2)
    assert found[ids[0]] == (ScheduledMessageStatus.FAILED,
                             "Nobody in this group: the message would reach no one.")
    assert found[ids[1]] == (ScheduledMessageStatus.FAILED,
                             "It could not be sent (IndexError).")
    assert found[ids[2]] == (ScheduledMessageStatus.SENT, "")
    assert [row.subject for row in await db.scalars(select(OutboxEmail))] == ["Good"]
    assert "send_scheduled_messages" in JOB_NAMES


def _relative_form(amount: str, timing: str = "after_end", **more: str) -> dict[str, str]:
    return _form("", send_offset=amount, send_unit="days", send_timing=timing, **more)


async def test_a_message_counted_from_the_end_follows_its_session_when_it_moves(
    organiser_client: SignedInClient, client: AsyncTestClient[Litestar],
    organiser_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    held, coming = sorted(event.sessions, key=lambda s: s.starts_at)
    await make_registration(db, event, coming, "Ana Silva")
    await db.commit()
    event_id, coming_id, coming_ends = event.id, coming.id, coming.ends_at
    url = f"/organiser/events/{event_id}/message"
    one_day_after = _relative_form("1", session_id=str(coming_id))

    preview = await organiser_client.post_form(f"{url}/preview", one_day_after)
    both = await organiser_client.post_form(
        f"{url}/preview", {**one_day_after, "send_at": "2035-01-01T09:00"})
    unreadable = await organiser_client.post_form(f"{url}/preview", _relative_form("soon"))
    already_past = await organiser_client.post_form(
        f"{url}/schedule", _relative_form("1", "before_start", session_id=str(held.id)))
    scheduled = await organiser_client.post_form(f"{url}/schedule", one_day_after)
    # The webinar moves a week later: the message moves with it.
    moved = await client.patch(f"/api/organiser/sessions/{coming_id}", headers=organiser_headers,
                               json={"starts_at": (coming.starts_at + timedelta(days=7)).isoformat(),
                                     "ends_at": (coming_ends + timedelta(days=7)).isoformat()})
    listed = await organiser_client.get(url)
    at_first_time = await send_due_messages(db, now=coming_ends + timedelta(days=1, minutes=1),
                                            settings=settings)
    await db.commit()
    [message] = list(await db.scalars(select(ScheduledMessage)))
    planned = message.send_at
    at_new_time = await send_due_messages(db, now=coming_ends + timedelta(days=8),
                                          settings=settings)
    await db.commit()

    notice = parse(preview.text).one(id="send-at").text
    assert notice.startswith("It will be sent 1 day after the end: as the programme stands")
    assert "if a session moves, it moves too" in notice
    assert [field for field in ("send_at", "send_offset")
            for page in (both, unreadable, already_past)
            if f"#{field}" in [a.attrs["href"] for a in parse(page.text)
                               .one(cls="error-summary").find_all("a")]] == [
        "send_at", "send_offset", "send_offset"]
    assert {page.status_code for page in (both, unreadable, already_past)} == {422}
    assert "not both" in both.text and "whole number" in unreadable.text
    assert "already past" in already_past.text
    assert scheduled.status_code == 303 and moved.status_code == 200
    row = parse(listed.text).one("section", id="scheduled").one("tbody").text
    new_due = (coming_ends + timedelta(days=8)).astimezone(ZONE)
    assert "1 day after the end:" in row and f"{new_due:%H:%M}" in row
    assert f"{new_due:%d %b %Y}".lstrip("0") in row or f"{new_due:%d %b %Y}" in row
    assert at_first_time.claimed == 0 and planned == coming_ends + timedelta(days=8)
    assert (at_new_time.claimed, at_new_time.sent) == (1, 1)
    assert [row.subject for row in await db.scalars(select(OutboxEmail))] == ["Thank you"]


async def test_a_message_counted_from_a_cancelled_session_is_recorded_as_not_sent(
    db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    coming = max(event.sessions, key=lambda s: s.starts_at)
    await make_registration(db, event, coming, "Ana Silva")
    now = datetime.now(UTC)
    message = await schedule_message(
        db, event.id, MessageDraft(audiences=("confirmed",), subject="See you", text="Hi",
                                   session_id=coming.id),
        relative=RelativeTime(MessageTiming.BEFORE_START, 60), now=now)
    await db.commit()
    assert message.send_at == coming.starts_at - timedelta(hours=1)
    message_id = message.id
    await cancel_session(db, coming.id, now=now, settings=settings)
    await db.commit()

    report = await send_due_messages(db, now=now, settings=settings)
    await db.commit()

    found = await db.get(ScheduledMessage, message_id)
    assert found is not None and report.claimed == 0
    assert (found.status, found.problem) == (ScheduledMessageStatus.FAILED,
                                             NOTHING_TO_COUNT_FROM)
    assert list(await db.scalars(select(OutboxEmail).where(
        OutboxEmail.subject == "See you"))) == []


async def test_the_api_writes_to_registrants_now_and_later(
    client: AsyncTestClient[Litestar], organiser_headers: dict[str, str],
    viewer_headers: dict[str, str], db: AsyncSession, settings: Settings,
) -> None:
    event = await make_event(db, settings, webinars_around_now())
    coming = max(event.sessions, key=lambda s: s.starts_at)
    await make_registration(db, event, coming, "Ana Silva")
    await make_registration(db, event, coming, "Bruno Costa")
    await db.commit()
    api = f"/api/organiser/events/{event.id}"
    message = {"audiences": ["confirmed"], "subject": "Slides", "text": "Here they are.",
               "translations": {"de": {"subject": "Folien", "text": "Hier sind sie."}}}

    preview = await client.post(f"{api}/messages/preview", json=message,
                                headers=organiser_headers)
    stale = await client.post(f"{api}/messages", headers=organiser_headers,
                              json={**message, "expected_recipients": 5})
    refused = await client.post(f"{api}/messages", headers=organiser_headers, json={
        "audiences": ["everybody"], "subject": "", "text": "Hi",
        "translations": {"de": {"subject": "", "text": "Nur Text"}}})
    sent = await client.post(f"{api}/messages", headers=organiser_headers,
                             json={**message, "expected_recipients": 2})
    later = f"{api}/scheduled-messages"
    fixed = await client.post(later, headers=organiser_headers,
                              json={**message, "send_at": "2099-01-05T09:00"})
    relative = await client.post(later, headers=organiser_headers, json={
        **message, "session_id": coming.id, "send_timing": "after_end",
        "send_offset_minutes": 90})
    no_time = await client.post(later, headers=organiser_headers, json=message)
    no_anchor = await client.post(later, headers=organiser_headers,
                                  json={**message, "send_offset_minutes": 60})
    by_viewer = await client.post(later, headers=viewer_headers,
                                  json={**message, "send_at": "2099-01-05T09:00"})
    listed = await client.get(later, headers=viewer_headers)
    cancel = f"{later}/{fixed.json()['id']}/cancel"
    cancelled = await client.post(cancel, headers=organiser_headers)
    cancelled_again = await client.post(cancel, headers=organiser_headers)

    assert preview.status_code == 200
    assert preview.json()["recipients"] == 2
    assert [v["language"] for v in preview.json()["versions"]] == ["en"]
    assert preview.json()["versions"][0]["subject"] == "Slides"
    assert stale.status_code == 409 and stale.json()["errors"][0]["field"] == "recipients"
    assert refused.status_code == 422
    assert [e["field"] for e in refused.json()["errors"]] == [
        "audiences", "subject", "translations.de.subject"]
    assert sent.status_code == 200 and sent.json()["recipients"] == 2
    assert len(sent.json()["email_ids"]) == 2
    assert fixed.status_code == 201, fixed.text
    assert fixed.json()["send_at"] == "2099-01-05T08:00:00Z"
    assert fixed.json()["translations"] == {"de": {"subject": "Folien", "text": "Hier sind sie."}}
    assert relative.status_code == 201, relative.text
    assert relative.json()["send_at"] == iso_utc(coming.ends_at + timedelta(minutes=90))
    assert (relative.json()["send_timing"], relative.json()["send_offset_minutes"]) == (
        "after_end", 90)
    assert no_time.status_code == 422 and no_time.json()["errors"][0]["field"] == "send_at"
    assert no_anchor.status_code == 422
    assert no_anchor.json()["errors"][0]["field"] == "send_timing"
    assert by_viewer.status_code == 403
    assert [m["id"] for m in listed.json()] == [relative.json()["id"], fixed.json()["id"]]
    assert cancelled.status_code == 200 and cancelled.json()["status"] == "cancelled"
    assert cancelled_again.status_code == 409
