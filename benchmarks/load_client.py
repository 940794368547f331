"""A bounded load generator (loopback only): N requests at concurrency C, then one JSON line.

usage: load_client.py BASE_URL KIND REQUESTS CONCURRENCY [TARGET]
KIND: ping (GET /bench/ping), insert (POST /bench/insert), register (POST a registration to
the event slug TARGET with a fresh email each time), get (GET TARGET). BENCH_LANGUAGE (a
language code) registers in that language and asks for answers in it (Accept-Language).
"""

from __future__ import annotations

import asyncio
import itertools
import json
import os
import sys
import time
import uuid

import httpx

LANGUAGE = os.environ.get("BENCH_LANGUAGE", "")


def _request(kind: str, target: str, number: int) -> tuple[str, str, dict[str, object] | None]:
    if kind == "ping":
        return "GET", "/bench/ping", None
    if kind == "insert":
        return "POST", "/bench/insert", {"name": f"row {number}"}
    if kind == "register":
        return "POST", f"/api/events/{target}/registrations", {
            "name": f"Procurer {number}", "email": f"p{number}-{uuid.uuid4().hex[:8]}@example.org",
            "organisation_name": "City of Example", "organisation_kind": "public_authority",
            "country": "BE", "job_title": "Procurement officer", "consent": True,
            **({"language": LANGUAGE} if LANGUAGE else {}),
        }
    return "GET", target, None


async def main(base: str, kind: str, total: int, concurrency: int, target: str) -> None:
    counter = itertools.count()
    latencies: list[float] = []
    errors = 0
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    cookie = os.environ.get("BENCH_COOKIE", "")
    headers = {"Cookie": cookie} if cookie else {}
    if LANGUAGE:
        headers["Accept-Language"] = LANGUAGE
    async with httpx.AsyncClient(base_url=base, limits=limits, timeout=60,
                                 headers=headers) as client:

        async def worker() -> None:
            nonlocal errors
            while (number := next(counter)) < total:
                method, path, body = _request(kind, target, number)
                started = time.perf_counter()
                response = await client.request(method, path, json=body)
                latencies.append(time.perf_counter() - started)
                if response.status_code >= 400:
                    errors += 1

        began = time.perf_counter()
        await asyncio.gather(*(worker() for _ in range(concurrency)))
        seconds = time.perf_counter() - began
    latencies.sort()
    print(json.dumps({
        "requests": total, "errors": errors, "seconds": seconds,
        "p50_ms": latencies[len(latencies) // 2] * 1000,
        "p99_ms": latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))] * 1000,
    }))


if __name__ == "__main__":
    base_url, kind_name, count, parallel = sys.argv[1], sys.argv[2], int(sys.argv[3]), int(sys.argv[4])
    asyncio.run(main(base_url, kind_name, count, parallel, sys.argv[5] if len(sys.argv) > 5 else ""))
