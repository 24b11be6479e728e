"""Requests per second of one GET path with N keep-alive clients (closed loop).

    python bench/floor.py --base http://127.0.0.1:8765 --path /healthz --clients 16 --requests 8000

Used by ``floor.sh`` to measure what an empty request costs on this machine, the floor
under every endpoint's throughput.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawhttp import Connection  # noqa: E402


async def run(base: str, path: str, clients: int, total: int) -> tuple[float, list[float]]:
    latencies: list[float] = []
    remaining = total

    async def worker() -> None:
        nonlocal remaining
        async with Connection(base) as client:
            while remaining > 0:
                remaining -= 1
                start = time.perf_counter()
                response = await client.get(path)
                latencies.append((time.perf_counter() - start) * 1000)
                if response.status_code != 200:
                    raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

    started = time.perf_counter()
    await asyncio.gather(*(worker() for _ in range(clients)))
    return time.perf_counter() - started, sorted(latencies)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--base", default="http://127.0.0.1:8765")
    parser.add_argument("--path", default="/healthz")
    parser.add_argument("--clients", type=int, default=16)
    parser.add_argument("--requests", type=int, default=8000)
    args = parser.parse_args()
    asyncio.run(run(args.base, args.path, args.clients, min(args.requests, 1000)))  # warm-up
    elapsed, latencies = asyncio.run(run(args.base, args.path, args.clients, args.requests))
    p50 = latencies[len(latencies) // 2]
    p99 = latencies[min(len(latencies) - 1, int(len(latencies) * 0.99))]
    print(f"GET {args.path}: {args.requests / elapsed:.0f}/s, p50 {p50:.1f} ms, p99 {p99:.1f} ms "
          f"({args.clients} clients)")


if __name__ == "__main__":
    main()
