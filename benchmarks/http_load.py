"""Shared benchmark plumbing: serve an app factory with uvicorn, load it from another process.

The server runs as its own process (uvicorn, one worker, no access log) and the load comes
from a second process with a fixed number of requests at a fixed concurrency, to loopback
only, so figures from one run compare like with like.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import socket
import subprocess
import sys
import time
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@contextmanager
def served(factory: str, env: Mapping[str, str], ready_path: str = "/bench/ping") -> Iterator[str]:
    """Run `uvicorn --factory <factory>` on a free loopback port; yield its base URL."""
    port = free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "uvicorn", "--factory", factory, "--host", "127.0.0.1",
         "--port", str(port), "--no-access-log", "--log-level", "warning"],
        cwd=ROOT, env={**os.environ, **env},
    )
    base = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 30
        while True:
            try:
                httpx.get(f"{base}{ready_path}", timeout=1)
                break
            except httpx.HTTPError:
                if time.monotonic() > deadline or process.poll() is not None:
                    raise RuntimeError("the benchmark server did not start") from None
                time.sleep(0.1)
        yield base
    finally:
        process.terminate()
        process.wait(timeout=20)


@dataclass(frozen=True)
class LoadResult:
    requests: int
    errors: int
    seconds: float
    p50_ms: float
    p99_ms: float

    @property
    def rate(self) -> float:
        return self.requests / self.seconds


def load(base: str, kind: str, *, requests: int, concurrency: int, target: str = "",
         seconds: float = 10.0, cookie: str = "", language: str = "") -> LoadResult:
    """Load with wrk where installed (a C client that does not limit the server), else with
    benchmarks/load_client.py; either way from another process, loopback only. `cookie`, a
    Cookie header every request carries (a signed-in organiser's); `language`, the language
    registrations are made in and answers asked for (empty: the service's default)."""
    if shutil.which("wrk"):
        return _load_with_wrk(base, kind, concurrency=concurrency, target=target, seconds=seconds,
                              cookie=cookie, language=language)
    output = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load_client.py"), base, kind, str(requests),
         str(concurrency), target],
        check=True, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "BENCH_COOKIE": cookie, "BENCH_LANGUAGE": language},
    ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    return LoadResult(**data)


_UNIT_MS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60_000.0}


def _ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if match is None:
        raise ValueError(f"unexpected wrk latency {text!r}")
    return float(match.group(1)) * _UNIT_MS[match.group(2)]


def _load_with_wrk(base: str, kind: str, *, concurrency: int, target: str,
                   seconds: float, cookie: str = "", language: str = "") -> LoadResult:
    output = subprocess.run(
        ["wrk", "-t2", f"-c{concurrency}", f"-d{max(1, round(seconds))}s", "--latency",
         "--timeout", "30s", "-s", str(ROOT / "benchmarks" / "wrk_requests.lua"), base],
        check=True, capture_output=True, text=True, cwd=ROOT,
        env={**os.environ, "BENCH_KIND": kind, "BENCH_TARGET": target, "BENCH_COOKIE": cookie,
             "BENCH_LANGUAGE": language},
    ).stdout
    total = int(re.search(r"(\d+) requests in ([\d.]+)(\w+)", output).group(1))  # type: ignore[union-attr]
    rate = float(re.search(r"Requests/sec:\s+([\d.]+)", output).group(1))  # type: ignore[union-attr]
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", output)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       output)
    failed = int(bad.group(1)) if bad else 0
    if errors:
        failed += sum(int(n) for n in errors.groups())
    p50 = re.search(r"^\s+50%\s+(\S+)", output, re.MULTILINE)
    p99 = re.search(r"^\s+99%\s+(\S+)", output, re.MULTILINE)
    return LoadResult(
        requests=total, errors=failed, seconds=total / rate if rate else 0.0,
        p50_ms=_ms(p50.group(1)) if p50 else 0.0, p99_ms=_ms(p99.group(1)) if p99 else 0.0,
    )
