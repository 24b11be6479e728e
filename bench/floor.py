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

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from rawhttp import Connection, closed_loop  # noqa: E402


async def run(base: str, path: str, clients: int, total: int) -> tuple[float, list[float]]:
    async def get(client: Connection, n: int) -> None:
        response = await client.get(path)
        if response.status_code != 200:
            raise SystemExit(f"{path}: {response.status_code} {response.text[:200]}")

    elapsed, latencies = await closed_loop(base, clients, total, get)
    return elapsed, sorted(latencies)


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
