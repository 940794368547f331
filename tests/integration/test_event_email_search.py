"""The organisers' email pages' queries (domain, both databases): an event's outbox newest
first, filtered by status and by a piece of the address, and one email decoded from the
stored bytes as its recipient gets it.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.ext.asyncio import AsyncSession

from notifications.outbox import OutboxEntry, queue_emails
from service.db.models import OutboxEmail, OutboxStatus
from service.domain.errors import InvalidInputError, NotFoundError
from service.domain.outbox_emails import find_event_emails, get_email_preview
from service.domain.registration.organiser_messages import MessageDraft, send_organiser_message
from service.settings import Settings
from tests.factories import EventSpec, make_email_message, make_event, make_registration

NOW = datetime(2035, 10, 1, 9, 0, tzinfo=UTC)


async def _outbox(db: AsyncSession, settings: Settings) -> tuple[int, dict[str, int]]:
    event = await make_event(db, settings, EventSpec(sessions=(), publish=False, commit=False, now=NOW))
    ids = {}
    for minutes, address in enumerate(("ana@lisboa.example.pt", "ben@wien.example.at",
                                       "ana_b@gent.example.be", "x%y@gent.example.be")):
        [ids[address]] = await queue_emails(  # type: ignore[list-item]
            db, [OutboxEntry(make_email_message(address), event_id=event.id)],
            settings=settings, now=NOW + timedelta(minutes=minutes))
    await db.execute(update(OutboxEmail).where(OutboxEmail.id == ids["ben@wien.example.at"])
                     .values(status=OutboxStatus.FAILED, last_error="550 No such user"))
    return event.id, ids


async def test_newest_first_filtered_by_status_and_by_a_piece_of_the_address(
    db: AsyncSession, settings: Settings
) -> None:
    event_id, ids = await _outbox(db, settings)

    everything = await find_event_emails(db, event_id)
    failed = await find_event_emails(db, event_id, statuses=["failed"])
    gent = await find_event_emails(db, event_id, recipient=" GENT.example ")
    underscore = await find_event_emails(db, event_id, recipient="ana_")
    percent = await find_event_emails(db, event_id, recipient="x%")
    second_page = await find_event_emails(db, event_id, page=2, page_size=3)

    assert [e.to_address for e in everything.emails] == [
        "x%y@gent.example.be", "ana_b@gent.example.be", "ben@wien.example.at",
        "ana@lisboa.example.pt"]
    assert (everything.total, everything.counts[OutboxStatus.QUEUED],
            everything.counts[OutboxStatus.FAILED]) == (4, 3, 1)
    assert [(e.id, e.last_error) for e in failed.emails] == [
        (ids["ben@wien.example.at"], "550 No such user")]
    assert ([e.to_address for e in gent.emails], gent.total) == (
        ["x%y@gent.example.be", "ana_b@gent.example.be"], 2)
    # LIKE's wildcards typed by the organiser match themselves only.
    assert [e.to_address for e in underscore.emails] == ["ana_b@gent.example.be"]
    assert [e.to_address for e in percent.emails] == ["x%y@gent.example.be"]
    assert ([e.to_address for e in second_page.emails], second_page.total) == (
        ["ana@lisboa.example.pt"], 4)


async def test_a_bad_filter_names_its_field(db: AsyncSession, settings: Settings) -> None:
    event_id, _ = await _outbox(db, settings)

    with pytest.raises(InvalidInputError) as bad_status:
        await find_event_emails(db, event_id, statuses=["lost"])
    with pytest.raises(InvalidInputError) as bad_search:
        await find_event_emails(db, event_id, recipient="a\nb")

    assert (bad_status.value.field, bad_search.value.field) == ("status[0]", "recipient")


async def test_the_preview_decodes_what_was_stored_and_stays_in_its_event(
    db: AsyncSession, settings: Settings
) -> None:
    event = await make_event(db, settings, EventSpec(commit=False, now=NOW))
    await make_registration(db, event, event.sessions[0], "Zoë <Ünal>", now=NOW,
                            email_address="zoe@izmir.example.org")
    sent = await send_organiser_message(
        db, event.id, MessageDraft(audiences=["confirmed"], subject="Programme für Zoë",
                                   text="<script>alert(1)</script>"),
        now=NOW, settings=settings)
    other = await make_event(db, settings, EventSpec(slug="other", sessions=(), publish=False, commit=False,
                                                     now=NOW))

    preview = await get_email_preview(db, sent.email_ids[0], event_id=event.id)

    assert dict(preview.headers)["Subject"] == "Programme für Zoë"
    assert dict(preview.headers)["To"] == '"Zoë <Ünal>" <zoe@izmir.example.org>'
    assert preview.text is not None and "<script>alert(1)</script>" in preview.text
    assert preview.html is not None
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in preview.html
    assert "<script>" not in preview.html
    assert (preview.attachments, list(preview.attempts)) == ((), [])
    with pytest.raises(NotFoundError):
        await get_email_preview(db, sent.email_ids[0], event_id=other.id)
