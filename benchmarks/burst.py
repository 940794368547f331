"""Benchmark: 2,000 registrations for a two-session webinar series arrive at once.

    .venv/bin/python benchmarks/burst.py [--count 2000] [--backends sqlite,postgresql]
        [--layout split|worker|single|all] [--runs 3] [--connections 4] [--concurrency 50]
        [--timeout 600]

What runs is the service's own machinery: the app (`service.web.app`'s factory, wrapped by
`benchmarks.bench_app.make_app` for its ready probe) served by uvicorn (one process). The
registration desk files the requests, the composing job composes each registration's
confirmation with its invites, the delivery job sends them through `SmtpTransport` over
PROCURA_SMTP_CONNECTIONS connections to an aiosmtpd server in a process of its own on
127.0.0.1, which records when it accepted each message (`benchmarks.reminders.SmtpServer`).
Where the jobs run is the layout (`--layout`, printed with the figures):

- `split` (the default; README "Running it for real", on two cores or more): the web
  process only serves and files (PROCURA_RUN_SCHEDULER=false); one `procura-events worker
  --only compose_welcome_emails` process composes and another, `procura-events worker
  --skip compose_welcome_emails`, delivers (and runs every other job), each started and
  ready before the burst and stopped after it. Only the second sends, over the same
  PROCURA_SMTP_CONNECTIONS connections as the bare loop. On PostgreSQL the web's commits
  wake them (LISTEN/NOTIFY); on SQLite they share the file with the web process (WAL) and
  see its commits within a tenth of a second (`scheduling.wakeups`). Their logs are
  checked for errors, warnings and "database is locked" (printed);
- `worker`: the same with one `procura-events worker` process that composes and delivers;
- `single`: the scheduler inside the web process (PROCURA_RUN_SCHEDULER=true), the
  embedded default: one event loop files, composes and delivers (woken by its own commits);
- `all`: each of them in turn, on a fresh database each.

The burst comes from another process: a fixed number of registrations, each with its own
address, sent over `--concurrency` keep-alive connections opened beforehand (a minimal
HTTP/1.1 client on asyncio streams: httpx tops out near 250 requests/s here and would
measure itself).

- service rate = registrations / (t1 - t0): t0 is when the first request was sent, t1 when
  the server accepted the last registrant's confirmation;
- baseline: the very messages the service sent (its outbox's raw messages, matched to what
  the server accepted by Message-ID) sent again with a bare aiosmtplib loop over the same
  number of reused connections to the same server (`benchmarks.reminders.run_bare`), on the
  worker's event loop (uvloop where installed). The
  messages exist only once the service has composed them, so the baseline cannot run
  before the burst: it runs right after the burst and again after the checks below, and
  the mean of both is used (the shared machine's load drifts);
- ratio = service rate / bare rate (target >= 0.5 on SQLite and PostgreSQL);
- runs: the whole burst is measured `--runs` times, each on a fresh database with its own
  bare loop, the backends taking turns (sqlite, postgresql, sqlite, ...). Each run's figures
  are printed, and then, per backend, every run's ratio and their median, the figure the
  target is read against: on a shared machine one run's ratio moves by about a tenth with
  the machine's load (the same 2,000 messages cost aiosmtpd 15-30% more CPU in a slow
  spell), and the median of paired runs is what stays put.

Also printed: request latency p50/p99, how many confirmations and invites (text/calendar
parts) the server received, whether every registrant got exactly one confirmation, and the
CPU seconds each process used from the first request to the last confirmation (web, worker,
smtp server, postgresql, the load; from /proc, so Linux only): on two cores they share, that
is where a burst's time goes.
A backend that does not finish within `--timeout` seconds is stopped and what it reached is
printed. Prints its figures and, last, one line of JSON.
"""

from __future__ import annotations

import argparse
import asyncio
import email
import email.policy
import json
import os
import statistics
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any

SCRIPT = Path(__file__).resolve()
ROOT = SCRIPT.parent.parent
sys.path.insert(0, str(ROOT))

from sqlalchemy import select  # noqa: E402

from benchmarks.http_load import served  # noqa: E402
from benchmarks.registration import SECRET_KEY, SLUG, _prepare  # noqa: E402
from benchmarks.reminders import SmtpServer, database, percentile, run_bare  # noqa: E402
from service.cli import run_loop  # noqa: E402  (the worker's event loop, also the bare loop's)
from service.db.engine import create_engine, make_sessionmaker  # noqa: E402
from service.db.models import Event, OutboxEmail, Registration, RegistrationStatus  # noqa: E402
from service.domain.registration.welcome import WELCOME_TEMPLATES  # noqa: E402
from service.settings import Settings, SmtpSettings, load_settings  # noqa: E402

CONFIRMATION = WELCOME_TEMPLATES[RegistrationStatus.CONFIRMED]
EMAIL_DOMAIN = "bench.example.org"


# --- the load, in a process of its own ------------------------------------------------------


def _request_bytes(slug: str, number: int, host: str) -> bytes:
    body = json.dumps({
        "name": f"Procurer {number}", "email": f"burst{number}@{EMAIL_DOMAIN}",
        "organisation_name": "City of Example", "organisation_kind": "public_authority",
        "country": "BE", "job_title": "Procurement officer", "consent": True,
    }).encode()
    head = (f"POST /api/events/{slug}/registrations HTTP/1.1\r\nHost: {host}\r\n"
            f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n")
    return head.encode() + body


async def _exchange(reader: asyncio.StreamReader, writer: asyncio.StreamWriter,
                    request: bytes) -> tuple[int, bytes, bool]:
    """One request on a kept-alive connection: (status, body, whether the server closes it)."""
    writer.write(request)
    head = await reader.readuntil(b"\r\n\r\n")
    lines = head.decode("latin-1").split("\r\n")
    status = int(lines[0].split(" ", 2)[1])
    headers = {name.strip().lower(): value.strip()
               for name, _, value in (line.partition(":") for line in lines[1:] if line)}
    if "content-length" not in headers:
        raise RuntimeError(f"response without Content-Length: {lines[0]}")
    body = await reader.readexactly(int(headers["content-length"]))
    return status, body, headers.get("connection", "").lower() == "close"


async def fire(host: str, port: int, slug: str, count: int, concurrency: int) -> dict[str, Any]:
    """`count` registrations over `concurrency` connections opened beforehand, all at once."""
    address = f"{host}:{port}"
    requests = [_request_bytes(slug, number, address) for number in range(count)]
    connections = [await asyncio.open_connection(host, port) for _ in range(concurrency)]
    next_number = iter(range(count))
    latencies: list[float] = []
    outcomes: Counter[str] = Counter()
    last_answer = 0.0

    async def worker(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        nonlocal last_answer
        for number in next_number:
            started = time.perf_counter()
            try:
                async with asyncio.timeout(120):
                    status, body, closing = await _exchange(reader, writer, requests[number])
            except (OSError, TimeoutError, asyncio.IncompleteReadError, RuntimeError) as error:
                outcomes[f"error {type(error).__name__}"] += 1
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
                continue
            latencies.append(time.perf_counter() - started)
            last_answer = time.time()
            state = json.loads(body).get("status") if status == 201 else None
            outcomes[f"{status} {state}" if state else str(status)] += 1
            if closing:
                writer.close()
                reader, writer = await asyncio.open_connection(host, port)
        writer.close()

    first_sent, cpu_at_first = time.time(), time.process_time()
    await asyncio.gather(*(worker(reader, writer) for reader, writer in connections))
    latencies.sort()
    return {
        "requests": count, "first_sent_at": first_sent, "last_answer_at": last_answer,
        "outcomes": dict(outcomes),
        "confirmed": outcomes[f"201 {RegistrationStatus.CONFIRMED}"],
        "p50_ms": percentile(latencies, 0.50) * 1000 if latencies else 0.0,
        "p99_ms": percentile(latencies, 0.99) * 1000 if latencies else 0.0,
        "max_ms": latencies[-1] * 1000 if latencies else 0.0,
        "cpu_s": time.process_time() - cpu_at_first,
    }


def fire_main(argv: list[str]) -> None:
    base, slug, count, concurrency = argv[0], argv[1], int(argv[2]), int(argv[3])
    host, _, port = base.removeprefix("http://").partition(":")
    try:
        import uvloop

        result = uvloop.run(fire(host, int(port), slug, count, concurrency))
    except ImportError:
        result = asyncio.run(fire(host, int(port), slug, count, concurrency))
    print(json.dumps(result))


# --- the burst through the service ----------------------------------------------------------


@dataclass
class Burst:
    load: dict[str, Any] | None = None
    accepted: list[tuple[float, str]] = field(default_factory=list)
    timed_out: bool = False
    seconds_waited: float = 0.0
    cpu: dict[str, float] = field(default_factory=dict)  # CPU seconds by role, see cpu_snapshot


# By a marker in the command line; PostgreSQL's processes by their name.
ROLES = (("uvicorn", "web"), ("worker --only", "composing worker"),
         ("worker --skip", "delivering worker"), ("service.cli worker", "worker"),
         ("multiprocessing", "smtp"), (SCRIPT.name, "benchmark"))


def cpu_snapshot() -> dict[int, tuple[str, float]]:
    """Each process's role and CPU seconds so far (Linux /proc; empty elsewhere): where a
    burst's CPU goes on a machine that runs the load, the service and the server at once."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    processes: dict[int, tuple[str, float]] = {}
    for entry in Path("/proc").glob("[0-9]*"):
        try:
            stat = (entry / "stat").read_text()
            command = (entry / "cmdline").read_bytes().replace(b"\0", b" ").decode(errors="replace")
        except OSError:
            continue
        name, _, rest = stat.partition(" (")[2].rpartition(")")
        fields = rest.split()
        role = "postgresql" if name == "postgres" else next(
            (role for marker, role in ROLES if marker in command), "other")
        processes[int(entry.name)] = (role, (int(fields[11]) + int(fields[12])) / ticks)
    return processes


def cpu_used(before: dict[int, tuple[str, float]]) -> dict[str, float]:
    used: Counter[str] = Counter()
    for pid, (role, seconds) in cpu_snapshot().items():
        used[role] += seconds - before.get(pid, (role, 0.0))[1]
    return dict(used)


async def _confirmation_ids(sessionmaker: Any) -> set[str]:
    async with sessionmaker() as db:
        rows = await db.execute(select(OutboxEmail.message_id)
                                .where(OutboxEmail.template == CONFIRMATION))
        return {row[0] for row in rows}


async def run_burst(base: str, server: SmtpServer, url: str, *, count: int, concurrency: int,
                    deadline: float) -> Burst:
    """Fire the registrations from another process; wait until every confirmation of a
    confirmed registration has been accepted by the SMTP server (or the deadline)."""
    await server.take()
    burst = Burst()
    started = time.monotonic()
    cpu_before = cpu_snapshot()
    client = await asyncio.create_subprocess_exec(
        sys.executable, str(SCRIPT), "fire", base, SLUG, str(count), str(concurrency),
        stdout=asyncio.subprocess.PIPE, cwd=ROOT,
    )
    answers = asyncio.ensure_future(client.communicate())
    engine = create_engine(url)
    sessionmaker = make_sessionmaker(engine)
    try:
        while True:
            burst.accepted += await server.take()
            if burst.load is None and answers.done():
                output = answers.result()[0].decode().strip()
                if client.returncode != 0 or not output:
                    raise RuntimeError(f"the load process failed ({client.returncode})")
                burst.load = json.loads(output.splitlines()[-1])
            if burst.load is not None and len(burst.accepted) >= burst.load["confirmed"]:
                # Only read the database once enough has arrived: it is the service's.
                ids = await _confirmation_ids(sessionmaker)
                if len({m for _, m in burst.accepted if m in ids}) >= burst.load["confirmed"]:
                    burst.cpu = cpu_used(cpu_before)
                    break
            if time.monotonic() > deadline:
                burst.timed_out = True
                break
            await asyncio.sleep(0.2)
    finally:
        burst.seconds_waited = time.monotonic() - started
        if client.returncode is None:
            client.kill()
        await asyncio.gather(answers, return_exceptions=True)
        await engine.dispose()
    return burst


# --- what arrived -----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    registrants: int
    confirmations: int  # acceptances of confirmation messages (duplicates included)
    other_messages: int
    invites: int  # confirmations carrying a text/calendar part
    calendar_parts: int
    events_per_invite: Counter[int]
    duplicates: int  # registrants with more than one confirmation accepted
    missing: int  # confirmed registrants whose confirmation was not accepted
    # Where the missing registrants' confirmations stand in the outbox (status, last error).
    missing_states: Counter[str]
    last_confirmation_at: float | None  # when the last registrant's first one was accepted
    first_confirmation_at: float | None
    raws: list[tuple[str, bytes]]  # (recipient, message) of each accepted confirmation


def _calendar_parts(raw: bytes) -> list[bytes]:
    message = email.message_from_bytes(raw, policy=email.policy.default)
    return [part.get_payload(decode=True) or b"" for part in message.walk()
            if part.get_content_type() == "text/calendar"]


async def examine(url: str, accepted: list[tuple[float, str]]) -> Received:
    """Match what the server accepted to the outbox by Message-ID; count per registrant."""
    engine = create_engine(url)
    try:
        async with make_sessionmaker(engine)() as db:
            event_id = (await db.execute(select(Event.id).where(Event.slug == SLUG))).scalar_one()
            registrants = {row[0] for row in await db.execute(
                select(Registration.email_normalised).where(
                    Registration.event_id == event_id,
                    Registration.status == RegistrationStatus.CONFIRMED))}
            rows = {row[0]: row for row in await db.execute(
                select(OutboxEmail.message_id, OutboxEmail.template, OutboxEmail.to_address,
                       OutboxEmail.raw_message, OutboxEmail.status, OutboxEmail.attempts,
                       OutboxEmail.last_error).order_by(OutboxEmail.id))}
    finally:
        await engine.dispose()
    per_recipient: Counter[str] = Counter()
    first_at: dict[str, float] = {}
    seen: set[str] = set()
    raws: list[tuple[str, bytes]] = []
    other = invites = parts = 0
    events: Counter[int] = Counter()
    for at, message_id in sorted(accepted):
        row = rows.get(message_id)
        if row is None or row[1] != CONFIRMATION:
            other += 1
            continue
        recipient = row[2].lower()
        per_recipient[recipient] += 1
        first_at.setdefault(recipient, at)
        if message_id in seen or row[3] is None:
            continue
        seen.add(message_id)
        raws.append((row[2], row[3]))
        calendars = _calendar_parts(row[3])
        parts += len(calendars)
        if calendars:
            invites += 1
            events[calendars[0].count(b"BEGIN:VEVENT")] += 1
    reached = [first_at[r] for r in registrants if r in first_at]
    missing = registrants - set(per_recipient)
    missing_states = Counter(
        f"{row[4]} after {row[5]} attempts" + (f" ({row[6][:120]})" if row[6] else "")
        for row in rows.values() if row[1] == CONFIRMATION and row[2].lower() in missing)
    with_row = {row[2].lower() for row in rows.values() if row[1] == CONFIRMATION}
    if missing - with_row:
        missing_states["no confirmation in the outbox"] = len(missing - with_row)
    return Received(
        registrants=len(registrants), confirmations=sum(per_recipient.values()),
        other_messages=other, invites=invites, calendar_parts=parts, events_per_invite=events,
        duplicates=sum(1 for n in per_recipient.values() if n > 1),
        missing=len(missing), missing_states=missing_states,
        last_confirmation_at=max(reached) if reached else None,
        first_confirmation_at=min(first_at.values()) if first_at else None, raws=raws,
    )


# --- one backend ------------------------------------------------------------------------------


def _bare_settings(url: str, var_dir: Path, port: int, connections: int) -> Settings:
    smtp = SmtpSettings(host="127.0.0.1", port=port, username=None, password=None,
                        security="none", timeout_seconds=30.0, connections=connections)
    return replace(load_settings(database_url=url, var_dir=var_dir, secret_key=SECRET_KEY,
                                 run_scheduler=False), smtp=smtp)


async def _bare(settings: Settings, server: SmtpServer, raws: list[tuple[str, bytes]],
                connections: int, deadline: float) -> float | None:
    if not raws or time.monotonic() > deadline:
        return None
    try:
        async with asyncio.timeout(max(1.0, deadline - time.monotonic())):
            await server.take()
            result = await run_bare(settings, server, raws, connections)
    except TimeoutError:
        print("  the bare loop did not finish before the deadline")
        return None
    rate: float = result["throughput_per_s"]
    return rate


# The worker processes of each layout: their command line options.
WORKERS: dict[str, tuple[tuple[str, ...], ...]] = {
    "split": (("--only", "compose_welcome_emails"), ("--skip", "compose_welcome_emails")),
    "worker": ((),),
    "single": (),
}
LAYOUTS = tuple(WORKERS)
WHERE = {
    "split": "web process files; a worker process composes, another delivers",
    "worker": "web process files; a worker process composes and delivers",
    "single": "scheduler in the web process",
}


@contextmanager
def worker_process(env: dict[str, str], log_path: Path, options: tuple[str, ...] = (), *,
                   within: float = 60.0) -> Iterator[subprocess.Popen[bytes]]:
    """A `procura-events worker` process with `env`, its output in `log_path`; yielded once
    its scheduler has started, stopped (SIGTERM: graceful) afterwards."""
    with log_path.open("wb") as log:
        process = subprocess.Popen(
            [sys.executable, "-m", "service.cli", "worker", *options], cwd=ROOT,
            env={**os.environ, **env}, stdout=log, stderr=subprocess.STDOUT)
    try:
        deadline = time.monotonic() + within
        while b"Scheduler started" not in log_path.read_bytes():
            if process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"the worker did not start: see {log_path}")
            time.sleep(0.05)
        yield process
    finally:
        process.terminate()
        try:
            process.wait(timeout=40)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()


def _log_problems(log_paths: list[Path]) -> Counter[str]:
    """Errors and warnings the workers logged, by kind (\"database is locked\" included)."""
    problems: Counter[str] = Counter()
    for line in (line for path in log_paths
                 for line in path.read_text(errors="replace").splitlines()):
        if "database is locked" in line:
            problems["database is locked"] += 1
        elif " ERROR " in line or " WARNING " in line or "Traceback" in line:
            problems[line.split(": ", 1)[-1][:100]] += 1
    return problems


def measure(backend: str, layout: str, args: argparse.Namespace) -> dict[str, Any]:
    deadline = time.monotonic() + args.timeout
    with tempfile.TemporaryDirectory(prefix="procura-burst-") as tmp:
        directory = Path(tmp)
        var_dir = directory / "var"
        var_dir.mkdir()
        url, dispose = database(backend, directory)
        server = SmtpServer()
        try:
            asyncio.run(_prepare(url, var_dir))
            # Every request comes from one address: the per-address limit is lifted (as in
            # benchmarks/registration.py), not turned off, so each registration is counted.
            env = {"PROCURA_DATABASE_URL": url, "PROCURA_VAR_DIR": str(var_dir),
                   "PROCURA_SECRET_KEY": SECRET_KEY,
                   "PROCURA_RUN_SCHEDULER": "true" if layout == "single" else "false",
                   "PROCURA_REGISTRATION_RATE_LIMIT": "1000000000",
                   "PROCURA_SMTP_HOST": "127.0.0.1", "PROCURA_SMTP_PORT": str(server.port),
                   "PROCURA_SMTP_SECURITY": "none",
                   "PROCURA_SMTP_CONNECTIONS": str(args.connections)}
            log_paths = [directory / f"worker{number}.log"
                         for number in range(len(WORKERS[layout]))]
            with ExitStack() as running:
                base = running.enter_context(served("benchmarks.bench_app:make_app", env))
                for options, log_path in zip(WORKERS[layout], log_paths, strict=True):
                    running.enter_context(worker_process(env, log_path, options))
                burst = asyncio.run(run_burst(base, server, url, count=args.count,
                                              concurrency=args.concurrency, deadline=deadline))
            problems = _log_problems(log_paths)
            # The web process (and its scheduler) has stopped: anything sent late counts too.
            burst.accepted += asyncio.run(server.take())
            settings = _bare_settings(url, var_dir, server.port, args.connections)
            received = asyncio.run(examine(url, burst.accepted))
            bare_first = run_loop(_bare(settings, server, received.raws, args.connections,
                                           deadline))
            bare_again = run_loop(_bare(settings, server, received.raws, args.connections,
                                           deadline))
        finally:
            server.stop()
            dispose()
    return report(backend, layout, args, burst, received,
                  [r for r in (bare_first, bare_again) if r], problems)


def report(backend: str, layout: str, args: argparse.Namespace, burst: Burst,
           received: Received, bare_runs: list[float], problems: Counter[str]
           ) -> dict[str, Any]:
    load = burst.load or {}
    t0 = load.get("first_sent_at")
    where = WHERE[layout]
    print(f"Burst benchmark, {backend}, layout {layout}: {args.count} registrations at once "
          f"from another process over {args.concurrency} connections; {where}, "
          f"{args.connections} SMTP connections to aiosmtpd in another process")
    if WORKERS[layout]:
        print(f"  worker logs: {dict(problems) or 'no errors or warnings'}")
    if burst.timed_out:
        print(f"  TIMED OUT after {burst.seconds_waited:.0f} s (limit {args.timeout:.0f} s "
              f"per backend): figures below are what was reached")
    if load:
        answered = load["last_answer_at"] - t0
        print(f"  registrations: {sum(load['outcomes'].values())} answered in {answered:.2f} s "
              f"= {load['requests'] / answered:.0f}/s; outcomes {load['outcomes']}; latency "
              f"p50 {load['p50_ms']:.0f} ms, p99 {load['p99_ms']:.0f} ms, "
              f"max {load['max_ms']:.0f} ms")
    else:
        print("  registrations: the load process had not finished")
    service_rate = None
    if t0 is not None and received.last_confirmation_at is not None and not received.missing:
        span = received.last_confirmation_at - t0
        service_rate = received.registrants / span
        print(f"  mail: first confirmation accepted {received.first_confirmation_at - t0:.2f} s "
              f"after the first request, the last {span:.2f} s after it")
        print(f"  service: {received.registrants} confirmations in {span:.2f} s = "
              f"{service_rate:.0f}/s")
    elif t0 is not None and received.first_confirmation_at is not None:
        print(f"  service: only {received.registrants - received.missing} of "
              f"{received.registrants} registrants' confirmations accepted "
              f"(first {received.first_confirmation_at - t0:.2f} s after the first request)")
    bare_rate = sum(bare_runs) / len(bare_runs) if bare_runs else None
    size_kb = (sum(len(raw) for _, raw in received.raws) / len(received.raws) / 1024
               if received.raws else 0.0)
    if bare_rate is not None:
        print(f"  bare aiosmtplib loop, the same {len(received.raws)} messages "
              f"({size_kb:.1f} KB each on average) over "
              f"{args.connections} connections: {' and '.join(f'{r:.0f}' for r in bare_runs)}/s "
              f"(right after the burst, then after the checks), mean {bare_rate:.0f}/s")
    ratio = service_rate / bare_rate if service_rate and bare_rate else None
    print(f"  ratio service / bare = {f'{ratio:.2f}' if ratio is not None else 'n/a'} "
          f"(target >= 0.5)")
    sessions = ", ".join(f"{n} with {k} VEVENTs" for k, n in sorted(
        received.events_per_invite.items()))
    print(f"  received: {received.confirmations} confirmations, {received.invites} with an "
          f"invite ({received.calendar_parts} text/calendar parts: inline and invite.ics; "
          f"{sessions or 'none'}), {received.other_messages} other messages")
    exact = not received.duplicates and not received.missing and received.registrants
    print(f"  per registrant: {received.registrants} confirmed registrants, each exactly one "
          f"confirmation: {'yes' if exact else 'NO'} (duplicates {received.duplicates}, "
          f"missing {received.missing})")
    if received.missing_states:
        print(f"  the missing confirmations in the outbox: {dict(received.missing_states)}")
    cpu = {**burst.cpu, "load": load.get("cpu_s", 0.0)} if burst.cpu else {}
    if cpu:
        print("  CPU seconds during the burst: " + ", ".join(
            f"{role} {seconds:.2f}" for role, seconds in sorted(cpu.items(), key=lambda r: -r[1])
            if seconds >= 0.01))
    return {
        "layout": layout, "worker_log_problems": dict(problems),
        "timed_out": burst.timed_out,
        "registrations": load.get("requests"), "outcomes": load.get("outcomes"),
        "answered_s": round(load["last_answer_at"] - t0, 3) if load else None,
        "p50_ms": round(load["p50_ms"], 1) if load else None,
        "p99_ms": round(load["p99_ms"], 1) if load else None,
        "last_confirmation_s": (round(received.last_confirmation_at - t0, 3)
                                if t0 is not None and received.last_confirmation_at else None),
        "service_per_s": round(service_rate, 1) if service_rate else None,
        "bare_runs_per_s": [round(r, 1) for r in bare_runs],
        "bare_per_s": round(bare_rate, 1) if bare_rate else None,
        "message_kb": round(size_kb, 1),
        "ratio": round(ratio, 3) if ratio is not None else None,
        "confirmations": received.confirmations, "invites": received.invites,
        "calendar_parts": received.calendar_parts, "other_messages": received.other_messages,
        "registrants": received.registrants, "duplicates": received.duplicates,
        "missing": received.missing, "missing_states": dict(received.missing_states),
        "cpu_s": {role: round(seconds, 2) for role, seconds in cpu.items()},
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--count", type=int, default=2000)
    parser.add_argument("--backends", default="sqlite,postgresql")
    parser.add_argument("--connections", type=int, default=4, help="SMTP connections")
    parser.add_argument("--concurrency", type=int, default=50, help="HTTP connections")
    parser.add_argument("--timeout", type=float, default=600.0, help="seconds per backend")
    parser.add_argument("--layout", choices=(*LAYOUTS, "all"), default="split",
                        help="where composing and delivery run (default: split)")
    parser.add_argument("--runs", type=int, default=3,
                        help="bursts per backend and layout; the median ratio is reported")
    args = parser.parse_args()
    if args.runs < 1:
        parser.error("--runs must be at least 1")
    layouts = LAYOUTS if args.layout == "all" else (args.layout,)
    measured = [(backend, layout) for backend in args.backends.split(",") for layout in layouts]
    runs: dict[str, list[dict[str, Any]]] = {}
    for number in range(1, args.runs + 1):
        for backend, layout in measured:
            name = f"{backend}_{layout}" if len(layouts) > 1 else backend
            print(f"Run {number} of {args.runs}:")
            runs.setdefault(name, []).append(measure(backend, layout, args))
    figures = {name: summary(name, reports) for name, reports in runs.items()}
    print(json.dumps({"benchmark": "burst", "count": args.count,
                      "layout": args.layout, "runs": args.runs,
                      **{f"{name}_ratio": values["ratio"] for name, values in figures.items()},
                      "figures": figures}))
    return 0


def summary(name: str, reports: list[dict[str, Any]]) -> dict[str, Any]:
    """A backend's runs: every run's ratio and their median. A run that did not deliver
    every confirmation has no ratio, and then neither has the backend: none is left out."""
    ratios = [report["ratio"] for report in reports]
    median = statistics.median(ratios) if None not in ratios else None
    print(f"{name}: ratio service / bare in {len(ratios)} runs: "
          f"{', '.join('n/a' if r is None else f'{r:.3f}' for r in ratios)}; median "
          f"{'n/a' if median is None else f'{median:.3f}'} (target >= 0.5)")
    return {"ratio": round(median, 3) if median is not None else None,
            "run_ratios": ratios, "runs": reports}


if __name__ == "__main__":
    if sys.argv[1:2] == ["fire"]:
        fire_main(sys.argv[2:])
        sys.exit(0)
    sys.exit(main())
