"""Erasing a former organiser's account: an administrator's act, once the account is disabled.

The name and the address go from the account, the audit log (the changes stay, credited to
"Former account #N"), the emails sent to it and the sign-in failures; nothing else changes.
Through real HTTP with signed-in clients, on SQLite and PostgreSQL.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime

from sqlalchemy import select

from service.db.models import Account, AuditEntry, Event
from service.domain.accounts import request_password_reset
from service.settings import Settings
from tests.integration.backoffice import SignedInClient, sign_in
from tests.integration.mail_readers import Sessionmaker
from tests.integration.test_backoffice_events import NEW_EVENT
from tests.integration.test_pages import parse
from tests.personal_data import find_personal_data

OLGA = ("Olga Organiser", "olga@procura.example.org")


async def test_an_admin_erases_a_disabled_account_and_its_history_stays(
    admin_client: SignedInClient, organiser_client: SignedInClient,
    db_sessionmaker: Sessionmaker, settings: Settings,
) -> None:
    made = await organiser_client.post_form("/organiser/events", NEW_EVENT)
    assert made.status_code == 303
    async with db_sessionmaker() as db, db.begin():
        await request_password_reset(db, OLGA[1], now=datetime.now(UTC), settings=settings)
    await sign_in(organiser_client.client, OLGA[1], "not her password")
    olga = organiser_client.account_id
    url = f"/organiser/accounts/{olga}"

    too_soon = await admin_client.post_form(f"{url}/erase")
    own = await admin_client.post_form(f"/organiser/accounts/{admin_client.account_id}/erase")
    await admin_client.post_form(f"{url}/disable")
    page = await admin_client.get(url)
    confirm = await admin_client.get(f"{url}/erase")
    erased = await admin_client.post_form(f"{url}/erase")
    after = await admin_client.get(f"{url}?done=erased")
    again = await admin_client.get(f"{url}/erase", follow_redirects=False)

    assert too_soon.status_code == 409
    assert "Disable the account before erasing it." in too_soon.text
    assert own.status_code == 409
    assert "You cannot erase your own account." in own.text
    assert f'href="{url}/erase"' in page.text
    assert confirm.status_code == 200
    assert "Former account #" in confirm.text
    assert erased.status_code == 303, erased.text[:3000]
    assert erased.headers["location"] == f"{url}?done=erased"
    assert "The account&#39;s personal data is erased." in after.text
    assert f'href="{url}/erase"' not in after.text
    assert again.status_code == 303
    async with db_sessionmaker() as db:
        assert await find_personal_data(db, list(OLGA)) == []
        account = await db.get(Account, olga)
        assert account is not None
        assert (account.name, account.password_hash, account.disabled_at is not None,
                account.erased_at is not None) == (f"Former account #{olga}", None, True, True)
        event_id = await db.scalar(select(Event.id))
        made_by = list(await db.scalars(select(AuditEntry.actor_label).where(
            AuditEntry.event_id == event_id, AuditEntry.action == "created")))
        erasure = (await db.execute(select(AuditEntry.actor_label, AuditEntry.after).where(
            AuditEntry.action == "erased"))).one()
    assert made_by and set(made_by) == {f"Former account #{olga}"}
    assert erasure[0] == "Ada Admin <ada@procura.example.org>"
    assert re.fullmatch(r"\{'audit_entries': \d+, 'emails': 1\}", str(erasure[1]))


async def test_erasing_an_address_leaves_its_organiser_account_to_its_own_page(
    admin_client: SignedInClient, organiser_client: SignedInClient,
) -> None:
    """Erase everything held about an address says that its organiser account is erased
    from the account's page, and counts only what it erases."""
    confirm = await admin_client.post_form("/organiser/privacy/person/erase-confirm",
                                           {"email": OLGA[1]})
    held = await admin_client.post_form("/organiser/privacy/person", {"email": OLGA[1]})

    url = f"/organiser/accounts/{organiser_client.account_id}"
    assert confirm.status_code == 200
    assert f'then erase it from <a href="{url}">its page</a>.' in confirm.text
    assert "Organiser accounts" not in confirm.text
    counts = {r.one("th").text: r.one("td").text
              for r in parse(held.text).one(id="held").find_all("tr")}
    assert (counts["Organiser accounts"], counts["Registrations (all events)"]) == ("1", "0")
