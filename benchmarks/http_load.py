"""Shared benchmark plumbing: serve an app factory with uvicorn, load it from another process.

The server runs as its own process (uvicorn, one worker, no access log) and the load comes
from a second process with a fixed number of requests at a fixed concurrency, to loopback
only, so figures from one run compare like with like.
"""

from __future__ import annotations

import json
import os
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


def load(base: str, kind: str, *, requests: int, concurrency: int, target: str = "") -> LoadResult:
    """Run benchmarks/load_client.py in its own process and read its one-line JSON answer."""
    output = subprocess.run(
        [sys.executable, str(ROOT / "benchmarks" / "load_client.py"), base, kind, str(requests),
         str(concurrency), target],
        check=True, capture_output=True, text=True, cwd=ROOT,
    ).stdout
    data = json.loads(output.strip().splitlines()[-1])
    return LoadResult(**data)
