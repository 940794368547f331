"""Benchmark: 10,000 reminders falling due at once, delivered to a local SMTP server.

    .venv/bin/python benchmarks/reminders.py [--count 10000] [--backend sqlite|postgresql]
        [--lead 90] [--steady-seconds 20]

What runs is the service's own machinery: the real `scheduling.Scheduler` (APScheduler,
1-second ticks, draining jobs) with `prepare_reminders` -> outbox -> `drain_due_emails`
-> `SmtpTransport`, against an aiosmtpd server in a separate process on 127.0.0.1 that
records when it accepted each message. Then the very same rendered messages are sent again
with a bare aiosmtplib loop of the same concurrency (one reused connection per worker), as
the baseline.

As in production, the reminders are planned well ahead: they fall due `--lead` seconds
after the scheduler starts, so the preparation job composes them into the outbox (held
until their due time) before they are due, within PROCURA_REMINDER_PREPARE_MINUTES. How
long that took, and its rate, is printed. A second burst of the same size runs with the
preparation window set to 0, so every email is composed at its due time: the end-to-end
figure the service would give without preparing ahead.

Figures:
- lag: from a reminder's due time to the server's acceptance (p50, p99, max), for the burst
  and, separately, for a steady trickle (a few reminders falling due every second: the
  "normal load" of the issue's 5-second p99 target);
- throughput: messages accepted per second, counted from the due time for the service
  (so the database work, the scheduler's wake-up and, without preparation, composing the
  emails count), and from the first connection for the bare loop (run after each burst;
  the mean of both runs is the baseline, as the shared machine's load drifts); their
  ratio is the headline figure. The delivery stage alone (outbox -> SMTP, from the first
  acceptance) is reported too.

Prints the figures and, last, one line of JSON. PostgreSQL comes from TEST_DATABASE_URL or a
throwaway server (tests/databases.py), as in the test suite.
"""

from __future__ import annotations

import argparse
import asyncio
import hashlib
import json
import multiprocessing
import re
import secrets
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import replace
from datetime import UTC, datetime, timedelta
from multiprocessing.connection import Connection
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

import aiosmtplib  # noqa: E402
from sqlalchemy import func, insert, select  # noqa: E402

from notifications.message import envelope_sender  # noqa: E402
from notifications.transport import SmtpTransport  # noqa: E402
from scheduling.jobs import JobContext  # noqa: E402
from scheduling.scheduler import Scheduler  # noqa: E402
from service.db.engine import create_engine, make_sessionmaker, session_scope  # noqa: E402
from service.db.models import (  # noqa: E402
    AccessPurpose,
    AccessToken,
    AgendaItem,
    AgendaItemKind,
    Enrolment,
    EnrolmentStatus,
    Event,
    EventKind,
    EventStatus,
    OutboxEmail,
    Registration,
    RegistrationStatus,
    Reminder,
    ReminderStatus,
    Session,
    SessionMode,
)
from service.domain.access import token_for  # noqa: E402
from service.settings import Settings, SmtpSettings, load_settings  # noqa: E402

MESSAGE_ID = re.compile(rb"^Message-ID:\s*(<[^>\r\n]+>)", re.IGNORECASE | re.MULTILINE)


# --- the SMTP server, in a process of its own -----------------------------------------------


def smtp_server_process(port: int, commands: Connection) -> None:
    """aiosmtpd on 127.0.0.1:port; records (accepted at, Message-ID) of every message."""
    import threading

    from aiosmtpd.controller import Controller

    accepted: list[tuple[float, str]] = []
    # The server's thread appends while this one takes: without the lock, a message
    # accepted between the copy and the clear was lost (and a burst waited for it).
    lock = threading.Lock()

    class Handler:
        async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
            found = MESSAGE_ID.search(envelope.original_content or envelope.content)
            with lock:
                accepted.append((time.time(), found.group(1).decode() if found else ""))
            return "250 2.0.0 Accepted"

    controller = Controller(Handler(), hostname="127.0.0.1", port=port,
                            server_hostname="bench.test")
    controller.start()
    commands.send("ready")
    while True:
        command = commands.recv()
        if command == "count":
            commands.send(len(accepted))
        elif command == "take":
            with lock:
                taken = list(accepted)
                accepted.clear()
            commands.send(taken)
        else:
            break
    controller.stop()


class SmtpServer:
    def __init__(self) -> None:
        import socket

        with socket.socket() as probe:
            probe.bind(("127.0.0.1", 0))
            self.port = int(probe.getsockname()[1])
        context = multiprocessing.get_context("spawn")
        self._commands, child = context.Pipe()
        self._process = context.Process(target=smtp_server_process, args=(self.port, child),
                                        daemon=True)
        self._process.start()
        assert self._commands.recv() == "ready"

    def _ask(self, command: str) -> Any:
        self._commands.send(command)
        return self._commands.recv()

    async def count(self) -> int:
        count: int = await asyncio.to_thread(self._ask, "count")
        return count

    async def take(self) -> list[tuple[float, str]]:
        taken: list[tuple[float, str]] = await asyncio.to_thread(self._ask, "take")
        return taken

    async def wait_for(self, count: int, within: float) -> None:
        deadline = time.monotonic() + within
        while await self.count() < count:
            if time.monotonic() > deadline:
                raise TimeoutError(f"only {await self.count()} of {count} messages arrived")
            await asyncio.sleep(0.05)

    def stop(self) -> None:
        self._commands.send("stop")
        self._process.join(timeout=10)


# --- the database -----------------------------------------------------------------------------


def database(backend: str, directory: Path) -> tuple[str, Any]:
    """A migrated database URL and a function that disposes of it."""
    from service.db.migrate import upgrade_to_head

    if backend == "sqlite":
        url = f"sqlite+aiosqlite:///{directory / 'bench.db'}"
        upgrade_to_head(url)
        return url, lambda: None
    from tests import databases

    server = databases.start_postgres()
    asyncio.run(databases.create_template(server))
    databases.migrate_template(server)
    return server.url_for(databases.TEMPLATE_DB), server.stop


async def arrange(settings: Settings, *, count: int, due_at: datetime, starts_at: datetime,
                  first_id: int, slug: str) -> None:
    """One webinar session with `count` confirmed registrants, each with a reminder due."""
    engine = create_engine(settings.database_url)
    try:
        async with session_scope(make_sessionmaker(engine)) as db:
            event = Event(kind=EventKind.WEBINAR_SERIES, title="Benchmark webinar series",
                          slug=slug, timezone="Europe/Brussels", status=EventStatus.PUBLISHED,
                          contact_email="procurement@iclei.example.org", created_at=due_at,
                          updated_at=due_at)
            db.add(event)
            await db.flush()
            session = Session(event_id=event.id, title="Circular ICT: what buyers can ask for",
                              starts_at=starts_at, ends_at=starts_at + timedelta(minutes=90),
                              mode=SessionMode.ONLINE,
                              join_url="https://meet.example.org/bench", sequence=0,
                              created_at=due_at, updated_at=due_at)
            db.add(session)
            await db.flush()
            agenda = [("Welcome and introduction", 10), ("Ecolabels for ICT: what to ask", 30),
                      ("Market engagement: a city's experience", 30), ("Q&A", 20)]
            at = starts_at
            for title, minutes in agenda:
                db.add(AgendaItem(session_id=session.id, title=title, kind=AgendaItemKind.TALK,
                                  starts_at=at, ends_at=at + timedelta(minutes=minutes),
                                  sequence=0, created_at=due_at, updated_at=due_at))
                at += timedelta(minutes=minutes)
            await db.flush()
            ids = range(first_id, first_id + count)
            stamp = {"created_at": due_at, "updated_at": due_at}
            await db.execute(insert(Registration), [
                {"id": i, "event_id": event.id, "status": RegistrationStatus.CONFIRMED,
                 "name": f"Registrant {i}", "email": f"registrant{i}@bench.example.org",
                 "email_normalised": f"registrant{i}@bench.example.org", "consent_at": due_at,
                 **stamp} for i in ids])
            await db.execute(insert(Enrolment), [
                {"registration_id": i, "session_id": session.id,
                 "status": EnrolmentStatus.CONFIRMED, **stamp} for i in ids])
            tokens = []
            for i in ids:
                nonce = secrets.token_hex(16)
                token = token_for(AccessToken(purpose=AccessPurpose.REGISTRATION_MANAGE,
                                              nonce=nonce), settings.secret_key)
                tokens.append({"purpose": AccessPurpose.REGISTRATION_MANAGE, "nonce": nonce,
                               "token_hash": hashlib.sha256(token.encode()).hexdigest(),
                               "registration_id": i, "created_at": due_at})
            await db.execute(insert(AccessToken), tokens)
            await db.execute(insert(Reminder), [
                {"session_id": session.id, "registration_id": i, "offset_minutes": 60,
                 "due_at": due_at, "status": ReminderStatus.PENDING, **stamp} for i in ids])
    finally:
        await engine.dispose()


# --- runs -------------------------------------------------------------------------------------


def percentile(values: Sequence[float], fraction: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, max(0, round(fraction * len(ordered)) - 1))]


async def due_times(settings: Settings) -> dict[str, datetime]:
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            rows = (await db.execute(select(OutboxEmail.message_id, OutboxEmail.due_at))).all()
        return {row[0]: row[1] for row in rows if row[1] is not None}
    finally:
        await engine.dispose()


async def preparation_span(settings: Settings, slug: str) -> tuple[datetime, datetime]:
    """When the first and the last of an event's reminders were handed to the outbox."""
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            first, last = (await db.execute(
                select(func.min(Reminder.processed_at), func.max(Reminder.processed_at))
                .join(Session, Session.id == Reminder.session_id)
                .join(Event, Event.id == Session.event_id)
                .where(Event.slug == slug))).one()
        assert first is not None and last is not None, "no reminder was prepared"
        return first, last
    finally:
        await engine.dispose()


async def run_service(settings: Settings, server: SmtpServer, *, count: int,
                      lead: float, slug: str) -> dict[str, Any]:
    """The burst through the running scheduler: lag and throughput from the due time."""
    started = datetime.now(UTC)
    due_at = started.replace(microsecond=0) + timedelta(seconds=lead)
    await arrange(settings, count=count, due_at=due_at, starts_at=due_at + timedelta(hours=1),
                  first_id=1 if slug == "burst" else 5_000_000, slug=slug)
    engine = create_engine(settings.database_url)
    transport = SmtpTransport(settings.smtp)
    scheduler = Scheduler(JobContext(sessionmaker=make_sessionmaker(engine), settings=settings,
                                     transport=transport))
    scheduler_started = datetime.now(UTC)
    scheduler.start()
    try:
        await server.wait_for(count, within=900)
    finally:
        await scheduler.stop()
        await transport.close()
        await engine.dispose()
    accepted = await server.take()
    due = due_at.timestamp()
    times = sorted(at for at, _ in accepted)
    lags = [at - due for at in times]
    first_prepared, last_prepared = await preparation_span(settings, slug)
    preparation_s = (last_prepared - scheduler_started).total_seconds()
    return {
        "messages": len(times),
        "lag_p50_s": percentile(lags, 0.50),
        "lag_p99_s": percentile(lags, 0.99),
        "lag_max_s": max(lags),
        "from_due_s": times[-1] - due,
        "throughput_from_due_per_s": len(times) / (times[-1] - due),
        "delivery_window_s": times[-1] - times[0],
        "throughput_delivery_per_s": len(times) / (times[-1] - times[0]),
        # From the scheduler's start to the last reminder handed to the outbox.
        "preparation_s": preparation_s,
        "preparation_per_s": count / max(preparation_s, 1e-9),
        "prepared_before_due": last_prepared < due_at,
        "first_prepared_before_due_s": (due_at - first_prepared).total_seconds(),
    }


async def run_bare(settings: Settings, server: SmtpServer, raws: list[tuple[str, bytes]],
                   connections: int) -> dict[str, float]:
    """The same messages, each worker one reused aiosmtplib connection, no database."""
    sender = envelope_sender(settings)
    queue: asyncio.Queue[tuple[str, bytes]] = asyncio.Queue()
    for item in raws:
        queue.put_nowait(item)

    async def worker() -> None:
        client = aiosmtplib.SMTP(hostname="127.0.0.1", port=settings.smtp.port, start_tls=False,
                                 timeout=30)
        await client.connect()
        try:
            while not queue.empty():
                recipient, raw = queue.get_nowait()
                await client.sendmail(sender, [recipient], raw)
        finally:
            await client.quit()

    started = time.time()
    await asyncio.gather(*(worker() for _ in range(connections)))
    accepted = await server.take()
    last = max(at for at, _ in accepted)
    return {"messages": len(accepted), "seconds": last - started,
            "throughput_per_s": len(accepted) / (last - started)}


async def run_steady(settings: Settings, server: SmtpServer, *, per_second: int,
                     seconds: int) -> dict[str, float]:
    """A trickle: `per_second` reminders falling due every second for `seconds` seconds."""
    start = datetime.now(UTC).replace(microsecond=0) + timedelta(seconds=2)
    for second in range(seconds):
        await arrange(settings, count=per_second, due_at=start + timedelta(seconds=second),
                      starts_at=start + timedelta(hours=1), first_id=1_000_000 + second * 1000,
                      slug=f"steady-{second}")
    engine = create_engine(settings.database_url)
    transport = SmtpTransport(settings.smtp)
    scheduler = Scheduler(JobContext(sessionmaker=make_sessionmaker(engine), settings=settings,
                                     transport=transport))
    scheduler.start()
    total = per_second * seconds
    try:
        await server.wait_for(total, within=seconds + 120)
    finally:
        await scheduler.stop()
        await transport.close()
        await engine.dispose()
    accepted = await server.take()
    due = await due_times(settings)
    lags = [at - due[message_id].timestamp() for at, message_id in accepted]
    return {"messages": len(lags), "lag_p50_s": percentile(lags, 0.50),
            "lag_p99_s": percentile(lags, 0.99), "lag_max_s": max(lags)}


async def rendered_messages(settings: Settings) -> list[tuple[str, bytes]]:
    engine = create_engine(settings.database_url)
    try:
        async with make_sessionmaker(engine)() as db:
            rows = (await db.execute(
                select(OutboxEmail.to_address, OutboxEmail.raw_message)
                .where(OutboxEmail.event_id == 1).order_by(OutboxEmail.id))).all()
        return [(row[0], row[1]) for row in rows if row[1] is not None]
    finally:
        await engine.dispose()


async def benchmark(args: argparse.Namespace, url: str, server: SmtpServer,
                    directory: Path) -> dict[str, Any]:
    smtp = SmtpSettings(host="127.0.0.1", port=server.port, username=None, password=None,
                        security="none", timeout_seconds=30.0, connections=args.connections)
    settings = replace(
        load_settings(database_url=url, var_dir=directory, secret_key=secrets.token_urlsafe(32),
                      maildir_path=directory / "maildir", public_base_url="https://events.test",
                      run_scheduler=False),
        smtp=smtp,
    )
    service = await run_service(
        replace(settings, reminder_prepare_minutes=args.prepare_minutes), server,
        count=args.count, lead=args.lead, slug="burst")
    raws = await rendered_messages(settings)
    bare_first = await run_bare(settings, server, raws, args.connections)
    # The same burst composed at its due time: what preparing ahead saves.
    at_due = await run_service(replace(settings, reminder_prepare_minutes=0), server,
                               count=args.count, lead=3.0, slug="composed-at-due-time")
    # The baseline again, later in the run: the machine's load drifts (it is shared), so
    # the ratios use the mean of both.
    bare_again = await run_bare(settings, server, raws, args.connections)
    bare = {
        "messages": bare_first["messages"],
        "throughput_per_s": (bare_first["throughput_per_s"] + bare_again["throughput_per_s"]) / 2,
        "runs_per_s": [bare_first["throughput_per_s"], bare_again["throughput_per_s"]],
    }
    steady = await run_steady(settings, server, per_second=args.steady_rate,
                              seconds=args.steady_seconds)
    return {
        "backend": args.backend,
        "count": args.count,
        "connections": args.connections,
        "service": service,
        "bare_aiosmtplib": bare,
        "ratio_from_due": service["throughput_from_due_per_s"] / bare["throughput_per_s"],
        "ratio_delivery_stage": service["throughput_delivery_per_s"] / bare["throughput_per_s"],
        "composed_at_due_time": at_due,
        "ratio_from_due_composed_at_due_time":
            at_due["throughput_from_due_per_s"] / bare["throughput_per_s"],
        "steady": steady,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=10_000)
    parser.add_argument("--connections", type=int, default=4)
    parser.add_argument("--backend", choices=("sqlite", "postgresql"), default="sqlite")
    parser.add_argument("--lead", type=float, default=90.0,
                        help="seconds between starting the scheduler and the due time (long "
                             "enough for the reminders to be prepared, as in production)")
    parser.add_argument("--prepare-minutes", type=int, default=30,
                        help="PROCURA_REMINDER_PREPARE_MINUTES for the main burst")
    parser.add_argument("--steady-rate", type=int, default=5, help="reminders due per second")
    parser.add_argument("--steady-seconds", type=int, default=20)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="procura-bench-") as tmp:
        directory = Path(tmp)
        url, dispose = database(args.backend, directory)
        server = SmtpServer()
        try:
            result = asyncio.run(benchmark(args, url, server, directory))
        finally:
            server.stop()
            dispose()

    service, bare, steady = result["service"], result["bare_aiosmtplib"], result["steady"]
    at_due = result["composed_at_due_time"]
    print(f"Reminders benchmark: {result['count']} reminders due at once, {args.backend}, "
          f"{args.connections} SMTP connections, aiosmtpd in another process")
    print(f"  preparation: all {service['messages']} composed into the outbox "
          f"{service['preparation_s']:.2f} s after the scheduler started = "
          f"{service['preparation_per_s']:.0f}/s, the last "
          f"{'before' if service['prepared_before_due'] else 'AFTER'} the due time "
          f"(lead {args.lead:.0f} s, window {args.prepare_minutes} min)")
    print(f"  service:  {service['messages']} accepted {service['from_due_s']:.2f} s after the "
          f"due time = {service['throughput_from_due_per_s']:.0f}/s "
          f"(delivery stage {service['throughput_delivery_per_s']:.0f}/s over "
          f"{service['delivery_window_s']:.2f} s)")
    print(f"  bare aiosmtplib loop: {bare['messages']} at "
          f"{' and '.join(f'{rate:.0f}' for rate in bare['runs_per_s'])}/s "
          f"(after each burst), mean {bare['throughput_per_s']:.0f}/s")
    print(f"  throughput ratio (from due time): {result['ratio_from_due']:.2f}   "
          f"(delivery stage alone: {result['ratio_delivery_stage']:.2f}; target >= 0.7)")
    print(f"  burst lag due -> accepted: p50 {service['lag_p50_s']:.2f} s, "
          f"p99 {service['lag_p99_s']:.2f} s, max {service['lag_max_s']:.2f} s")
    print(f"  composed at the due time instead (window 0): {at_due['messages']} accepted "
          f"{at_due['from_due_s']:.2f} s after the due time = "
          f"{at_due['throughput_from_due_per_s']:.0f}/s, ratio "
          f"{result['ratio_from_due_composed_at_due_time']:.2f}; lag p50 "
          f"{at_due['lag_p50_s']:.2f} s, p99 {at_due['lag_p99_s']:.2f} s")
    print(f"  steady lag ({args.steady_rate}/s for {args.steady_seconds} s): "
          f"p50 {steady['lag_p50_s']:.2f} s, p99 {steady['lag_p99_s']:.2f} s, "
          f"max {steady['lag_max_s']:.2f} s (target p99 < 5 s)")
    print(json.dumps(result, sort_keys=True))
    return 0


if __name__ == "__main__":
    sys.exit(main())
