"""`procura-events worker` runs every job, or those chosen with --only / --skip. (Once
started it keeps what it built out of the garbage collector's way: tests/integration/
test_scheduler.py checks it on a running worker.)"""

from __future__ import annotations

import gc
from collections.abc import Iterator, Sequence
from typing import Any

import pytest

from scheduling import scheduler
from scheduling.jobs import JOB_NAMES, JOBS, choose_jobs
from service import cli
from service.settings import Settings, load_settings

Jobs = Sequence[tuple[str, Any, float]]


@pytest.fixture
def _unfrozen() -> Iterator[None]:
    gc.unfreeze()
    yield
    gc.unfreeze()


@pytest.mark.usefixtures("_unfrozen")
@pytest.mark.parametrize(("argv", "expected"), [
    (["worker"], list(JOB_NAMES)),
    (["worker", "--only", "compose_welcome_emails"], ["compose_welcome_emails"]),
    (["worker", "--skip", "compose_welcome_emails, plan_group_meeting_reminders"],
     [name for name in JOB_NAMES
      if name not in {"compose_welcome_emails", "plan_group_meeting_reminders"}]),
])
def test_a_worker_runs_the_jobs_chosen_on_its_command_line(
    monkeypatch: pytest.MonkeyPatch, argv: list[str], expected: list[str]
) -> None:
    chosen: list[list[str]] = []

    async def run_worker(settings: Settings, *, jobs: Jobs) -> None:
        chosen.append([name for name, _, _ in jobs])

    monkeypatch.setattr(scheduler, "run_worker", run_worker)
    args = cli.build_parser().parse_args(argv)

    assert (cli.cmd_worker(load_settings(), args), chosen) == (0, [expected])


@pytest.mark.parametrize("argv", [
    ["worker", "--only", "compose"],  # not a job's name
    ["worker", "--skip", ",".join(JOB_NAMES)],  # nothing left to run
])
def test_a_worker_refuses_job_names_it_does_not_know_or_an_empty_choice(
    argv: list[str], capsys: pytest.CaptureFixture[str]
) -> None:
    args = cli.build_parser().parse_args(argv)

    assert cli.cmd_worker(load_settings(), args) == 2
    error = capsys.readouterr().err
    assert "no job called compose;" in error or "no job to run" in error


def test_split_workers_between_them_run_every_job_once() -> None:
    composer = choose_jobs(only=["compose_welcome_emails"])
    the_rest = choose_jobs(skip=["compose_welcome_emails"])

    assert sorted(composer + the_rest, key=JOBS.index) == list(JOBS)
    with pytest.raises(ValueError, match="no job called deliver"):
        choose_jobs(only=["deliver"])
