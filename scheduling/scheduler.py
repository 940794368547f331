"""APScheduler wakes the jobs; the database remembers everything else.

An `AsyncIOScheduler` (APScheduler 3.11) with the default in-memory job store runs the
fixed table of `scheduling.jobs.JOBS` on the service's event loop, every second or so,
each job at most once at a time (`max_instances=1`, `coalesce=True`). Nothing durable
lives in the scheduler: what is due and what was sent is in our tables, so a restart only
has to run the jobs again, and several schedulers (the web process, `procura-events
worker` processes) can run against one PostgreSQL database, coordinated by row claims.

It runs inside the web process by default (`SchedulerLifespanHook`, when
`settings.run_scheduler`; env PROCURA_RUN_SCHEDULER) or in a worker process of its own
(`run_worker`, the `procura-events worker` command; then start the web with
PROCURA_RUN_SCHEDULER=false).

Stopping is graceful: jobs finish the batch they are in (their transactions commit or
roll back whole), and are only cancelled after `grace_seconds`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import signal
from collections import Counter
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any, Protocol

from apscheduler.schedulers.asyncio import AsyncIOScheduler
from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker

from notifications import wakeups
from notifications.transport import MailTransport, make_transport
from scheduling.jobs import JOBS, WAKES, Job, JobContext
from scheduling.wakeups import SqliteCommitWatcher, WakeupListener
from service.db.engine import create_engine, make_sessionmaker
from service.db.migrate import ensure_migrated
from service.heap import started_world_set_aside
from service.operations import consequences
from service.settings import Settings

logger = logging.getLogger("procura_events.scheduler")


class _SkipExpectedOverlap(logging.Filter):
    """A job still draining when its next tick comes is normal here, not a warning."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "maximum number of running instances reached" not in record.getMessage()


def _quiet_apscheduler() -> None:
    scheduler_log = logging.getLogger("apscheduler.scheduler")
    if not any(isinstance(f, _SkipExpectedOverlap) for f in scheduler_log.filters):
        scheduler_log.addFilter(_SkipExpectedOverlap())
    executors_log = logging.getLogger("apscheduler.executors")
    if executors_log.level == logging.NOTSET:
        # "Running job ..." every second per job says nothing; failures are logged by us.
        executors_log.setLevel(logging.WARNING)


def _first_line(error: BaseException) -> str:
    # SQLAlchemy puts the statement's parameters (mail bodies, private links) after the
    # first line of its messages: they must not reach the logs.
    text = str(error).splitlines()[0] if str(error) else ""
    return f"{type(error).__name__}: {text[:300]}"


class Scheduler:
    """The periodic jobs of one process; `start` inside a running event loop."""

    def __init__(
        self, context: JobContext, *, jobs: Sequence[tuple[str, Job, float]] = JOBS,
        interval_scale: float = 1.0,
    ) -> None:
        self.context = context
        self.jobs = tuple(jobs)
        self.interval_scale = interval_scale
        self.runs: Counter[str] = Counter()
        self.failures: Counter[str] = Counter()
        self._scheduler: AsyncIOScheduler | None = None
        self._running: set[asyncio.Task[int]] = set()
        self._progress = asyncio.Event()
        # Woken (see `wake`): jobs running now, and those woken while they ran.
        self._active: set[str] = set()
        self._woken_while_running: set[str] = set()
        self._unsubscribe: Callable[[], None] | None = None
        self._listener: WakeupListener | SqliteCommitWatcher | None = None

    @property
    def is_running(self) -> bool:
        return self._scheduler is not None

    def start(self) -> None:
        """Register the jobs and run each of them at once (catching up after downtime)."""
        if self._scheduler is not None:
            return
        _quiet_apscheduler()
        self.context.stopping = False
        scheduler = AsyncIOScheduler(
            timezone=UTC,
            job_defaults={"max_instances": 1, "coalesce": True, "misfire_grace_time": None},
        )
        first_run = datetime.now(UTC)
        for name, job, seconds in self.jobs:
            scheduler.add_job(
                self._run, "interval", seconds=seconds * self.interval_scale, args=(name, job),
                id=name, name=name, next_run_time=first_run,
            )
        scheduler.start()
        self._scheduler = scheduler
        self._unsubscribe = wakeups.subscribe(self.wake)
        logger.info("Scheduler started (worker %s): %s", self.context.worker_id,
                    ", ".join(name for name, _, _ in self.jobs))

    async def _run(self, name: str, job: Job) -> None:
        # The job runs in a task of its own: APScheduler's shutdown cancels the coroutine it
        # started, and that must not cut a batch short (see `stop`).
        self._active.add(name)
        try:
            while True:
                self._woken_while_running.discard(name)
                task = asyncio.ensure_future(job(self.context))
                self._running.add(task)
                task.add_done_callback(lambda done: self._finished(name, done))
                await asyncio.wait([task])
                # Work committed while this run may have been past the point of seeing it:
                # once more, still as this one run (APScheduler's max_instances holds).
                if name not in self._woken_while_running or self.context.stopping:
                    return
        except asyncio.CancelledError:
            if not self.context.stopping:
                raise
            # APScheduler's shutdown cancels us; `stop` waits for the job itself.
        finally:
            self._active.discard(name)

    def _finished(self, name: str, task: asyncio.Task[int]) -> None:
        self._running.discard(task)
        if task.cancelled():
            logger.warning("Job %s was cancelled while running", name)
        elif (error := task.exception()) is not None:
            self.failures[name] += 1
            logger.error("Job %s failed: %s", name, _first_line(error))
            logger.debug("Job %s failed", name, exc_info=error)
        self.runs[name] += 1
        self._progress.set()

    def wake(self, kind: str) -> None:
        """Outbox work of `kind` was committed (`notifications.wakeups`): run the jobs that
        handle it now instead of at their next tick; a job running now runs once more."""
        for name in WAKES.get(kind, ()):
            if name in self._active:
                self._woken_while_running.add(name)
            else:
                self._run_now(name)

    def _run_now(self, name: str) -> None:
        scheduler = self._scheduler
        if scheduler is None or self.context.stopping or scheduler.get_job(name) is None:
            return
        # The interval goes on from this run; APScheduler's max_instances still holds.
        scheduler.modify_job(name, next_run_time=datetime.now(UTC))

    async def listen(self, database_url: str, *, sqlite_file: bool = False) -> None:
        """Also wake on work committed by other processes: PostgreSQL's LISTEN; on SQLite,
        with `sqlite_file`, the file's change counter (a worker beside a web process; where
        the web process runs the jobs itself, its own commits wake them)."""
        if self._listener is not None:
            return
        if database_url.startswith("postgresql"):
            self._listener = await WakeupListener.start(database_url, self.wake)
        elif sqlite_file and database_url.startswith("sqlite"):
            self._listener = await SqliteCommitWatcher.start(database_url, self.wake)

    async def wait_for_runs(self, count: int = 1, *, job: str | None = None) -> None:
        """Until every job (or only `job`) has finished `count` runs since this scheduler was
        made (tests: wrap in `asyncio.timeout`). Jobs with long intervals (planning group
        meeting reminders every 10 minutes) make "every job" a slow measure of progress."""
        names = [job] if job is not None else [name for name, _, _ in self.jobs]

        def done() -> bool:
            return all(self.runs[name] >= count for name in names)

        while not done():
            self._progress.clear()
            await self._progress.wait()

    async def stop(self, *, grace_seconds: float = 30.0) -> None:
        """No new runs; running jobs finish their batch (cancelled after `grace_seconds`)."""
        scheduler, self._scheduler = self._scheduler, None
        self.context.stopping = True
        if self._unsubscribe is not None:
            self._unsubscribe()
            self._unsubscribe = None
        if self._listener is not None:
            await self._listener.close()
            self._listener = None
        if scheduler is not None and scheduler.running:
            # No new runs; runs APScheduler has just submitted get one turn of the loop to
            # start, so its shutdown does not cancel them unstarted (and log each as an error).
            scheduler.pause()
            await asyncio.sleep(0)
            scheduler.shutdown(wait=False)
            await asyncio.sleep(0)  # AsyncIOScheduler shuts down on the loop's next turn
        running = set(self._running)
        if running:
            _, late = await asyncio.wait(running, timeout=grace_seconds)
            for task in late:
                task.cancel()
            await asyncio.gather(*late, return_exceptions=True)
        logger.info("Scheduler stopped (worker %s)", self.context.worker_id)


async def start_scheduler(
    sessionmaker: async_sessionmaker[AsyncSession], settings: Settings, *,
    transport: MailTransport | None = None, interval_scale: float = 1.0,
    beside_web_process: bool = False, jobs: Sequence[tuple[str, Job, float]] = JOBS,
    **options: Any,
) -> Scheduler:
    """A started scheduler for this process; the caller closes `context.transport` after.
    `beside_web_process`: work is committed by other processes (a worker's scheduler)."""
    consequences.wire()
    context = JobContext(
        sessionmaker=sessionmaker, settings=settings,
        transport=transport or make_transport(settings), **options,
    )
    scheduler = Scheduler(context, jobs=jobs, interval_scale=interval_scale)
    scheduler.start()
    await scheduler.listen(settings.database_url, sqlite_file=beside_web_process)
    return scheduler


class _App(Protocol):
    """What the hook reads of the web application (its state), without importing the framework."""

    @property
    def state(self) -> Any: ...


class SchedulerLifespanHook:
    """Runs the scheduler inside the web process unless PROCURA_RUN_SCHEDULER is false."""

    def __init__(self, *, interval_scale: float = 1.0) -> None:
        self.interval_scale = interval_scale

    async def start(self, app: _App) -> Scheduler | None:
        settings: Settings = app.state.settings
        if not settings.run_scheduler:
            logger.info("Scheduler not started here (PROCURA_RUN_SCHEDULER is off)")
            return None
        return await start_scheduler(app.state.sessionmaker, settings,
                                     interval_scale=self.interval_scale)

    async def stop(self, app: _App, handle: Scheduler | None) -> None:
        if handle is not None:
            await handle.stop()
            await handle.context.transport.close()


async def run_worker(
    settings: Settings, *, stop_event: asyncio.Event | None = None, interval_scale: float = 1.0,
    jobs: Sequence[tuple[str, Job, float]] = JOBS,
) -> None:
    """The scheduler alone, until SIGINT/SIGTERM (or `stop_event`): `procura-events worker`
    (all the jobs, or those chosen by `scheduling.jobs.choose_jobs`)."""
    engine = create_engine(settings.database_url)
    try:
        await ensure_migrated(engine, settings.database_url)
        stop = stop_event or asyncio.Event()
        loop = asyncio.get_running_loop()
        for sig in (signal.SIGINT, signal.SIGTERM):
            with contextlib.suppress(NotImplementedError, RuntimeError):  # Windows, threads
                loop.add_signal_handler(sig, stop.set)
        scheduler = await start_scheduler(make_sessionmaker(engine), settings,
                                          interval_scale=interval_scale,
                                          beside_web_process=True, jobs=jobs)
        try:
            with started_world_set_aside():
                await stop.wait()
        finally:
            await scheduler.stop()
            await scheduler.context.transport.close()
    finally:
        await engine.dispose()
