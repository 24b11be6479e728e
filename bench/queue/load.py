"""Queue load generator: issue -> call-next -> start -> finish against a running server.

Usage (the server must be running with the demo pack loaded and operators with tokens):

    python bench/queue/load.py --base http://127.0.0.1:8000 --centre baku-1 \
        --clients 50 --tickets 4000 --counters 10

Phase 1 issues ``--tickets`` tickets with ``--clients`` concurrent kiosk clients and
reports throughput and p50/p99 latency. Phase 2 runs ``--counters`` operator loops
(call-next, start, finish) until the queue is empty while a WebSocket board client
measures the delay from each call-next response to the board push. Integrity is checked
from the API responses and then from the database (duplicate numbers, tickets called
twice, lost tickets).
"""

from __future__ import annotations

import argparse
import asyncio
import json
import os
import statistics
import sys
import time

import websockets

sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
from rawhttp import Connection, closed_loop  # noqa: E402


def pct(values: list[float], q: float) -> float:
    if not values:
        return float("nan")
    values = sorted(values)
    index = min(len(values) - 1, max(0, round(q / 100 * len(values)) - 1))
    return values[index]


async def issue_phase(base: str, targets: list[tuple[str, str]], clients: int, total: int) -> tuple[list, list]:
    """Issue ``total`` tickets, the n-th one for ``targets[n % len(targets)]`` (centre, service)."""
    tickets: list[dict] = []

    async def issue(client: Connection, n: int) -> None:
        centre, service = targets[n % len(targets)]
        response = await client.post(f"/api/v1/centres/{centre}/tickets/", json={"service": service})
        if response.status_code != 201:
            print("issue failed", response.status_code, response.text[:200], file=sys.stderr)
            return
        tickets.append(response.json())

    _, latencies = await closed_loop(base, clients, total, issue)
    return latencies, tickets


async def board_listener(ws_url: str, seen: dict[str, float], stop: asyncio.Event) -> None:
    async with websockets.connect(ws_url, max_size=2**24) as ws:
        while not stop.is_set():
            try:
                raw = await asyncio.wait_for(ws.recv(), timeout=0.5)
            except TimeoutError:
                continue
            message = json.loads(raw)
            call = message.get("call")
            if call:
                seen.setdefault(call["number"], time.perf_counter())


async def counter_phase(base: str, tokens: list[tuple[int, str]], ws_url: str) -> dict:
    called: list[int] = []
    called_at: dict[str, float] = {}
    latencies = {"call": [], "start": [], "finish": []}
    seen: dict[str, float] = {}
    stop = asyncio.Event()
    listener = asyncio.create_task(board_listener(ws_url, seen, stop))
    await asyncio.sleep(0.5)

    async def operator(counter_id: int, token: str) -> None:
        headers = {"Authorization": f"Token {token}"}
        async with Connection(base, headers=headers) as client:
            await client.post(f"/api/v1/counters/{counter_id}/open/")
            while True:
                t0 = time.perf_counter()
                response = await client.post(f"/api/v1/counters/{counter_id}/call-next/")
                latencies["call"].append((time.perf_counter() - t0) * 1000)
                if response.status_code == 204:
                    return
                if response.status_code != 200:
                    print("call failed", response.status_code, response.text[:200], file=sys.stderr)
                    return
                ticket = response.json()
                called.append(ticket["id"])
                called_at[ticket["number"]] = time.perf_counter()
                for step in ("start", "finish"):
                    t0 = time.perf_counter()
                    r = await client.post(f"/api/v1/tickets/{ticket['id']}/{step}/", json={})
                    latencies[step].append((time.perf_counter() - t0) * 1000)
                    if r.status_code != 200:
                        print(step, "failed", r.status_code, r.text[:200], file=sys.stderr)

    t0 = time.perf_counter()
    await asyncio.gather(*(operator(c, t) for c, t in tokens))
    elapsed = time.perf_counter() - t0
    await asyncio.sleep(1.5)
    stop.set()
    await listener
    board_delays = [(seen[n] - called_at[n]) * 1000 for n in called_at if n in seen]
    return {"called": called, "elapsed": elapsed, "latencies": latencies, "board_delays": board_delays,
            "board_missed": len([n for n in called_at if n not in seen])}


async def network_targets(base: str) -> list[tuple[str, str]]:
    """Every (centre, service) pair the kiosks of the network offer, from the public API."""
    targets = []
    async with Connection(base) as client:
        for centre in (await client.get("/api/v1/centres/")).json():
            for service in (await client.get(f"/api/v1/centres/{centre['code']}/services/")).json():
                targets.append((centre["code"], service["code"]))
    return targets


def db_integrity(centre: str | None) -> dict:
    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "config.settings.base")
    sys.path.insert(0, os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__)))))
    import django

    django.setup()
    from django.db.models import Count

    from onestop.queueing.models import Ticket

    qs = Ticket.objects.filter(centre__code=centre) if centre else Ticket.objects.all()
    dupes = qs.values("centre", "day", "prefix", "sequence").annotate(n=Count("pk")).filter(n__gt=1).count()
    gaps = 0
    # order_by(): the model's default ordering would make DISTINCT run over every ticket
    for centre_id, day, prefix in qs.order_by().values_list("centre", "day", "prefix").distinct():
        seqs = sorted(qs.filter(centre=centre_id, day=day, prefix=prefix).values_list("sequence", flat=True))
        gaps += (seqs[-1] - len(seqs)) if seqs else 0
    return {"duplicate_numbers": dupes, "gaps": gaps, "still_waiting": qs.filter(status="waiting").count()}


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", default="http://127.0.0.1:8000")
    parser.add_argument("--ws-base", default="", help="WebSocket server, when it is not --base")
    parser.add_argument("--centre", default="baku-1")
    parser.add_argument("--service", default="id-card")
    parser.add_argument("--clients", type=int, default=50)
    parser.add_argument("--tickets", type=int, default=4000)
    parser.add_argument("--warmup", type=int, default=200, help="untimed tickets issued first")
    parser.add_argument("--tokens", required=True, help="JSON file: [[counter_id, token], ...]")
    parser.add_argument("--spread", action="store_true",
                        help="issue across every centre and service of the network (numbering integrity "
                             "only; no counter phase)")
    args = parser.parse_args()
    with open(args.tokens) as fh:
        tokens = [tuple(x) for x in json.load(fh)]

    targets = asyncio.run(network_targets(args.base)) if args.spread else [(args.centre, args.service)]
    if args.spread:
        print(f"spread over {len(targets)} (centre, service) pairs of {len({c for c, _ in targets})} centres")
    if args.warmup:
        # Each server process imports, compiles and prepares on its first requests; those
        # tickets are real (the integrity checks count them) but not timed.
        _, warm = asyncio.run(issue_phase(args.base, targets, args.clients, args.warmup))
        print(f"warm-up: {len(warm)} tickets (not timed)")
    else:
        warm = []
    t0 = time.perf_counter()
    latencies, tickets = asyncio.run(issue_phase(args.base, targets, args.clients, args.tickets))
    elapsed = time.perf_counter() - t0
    tickets = warm + tickets
    numbers = [(t["centre"], t["number"]) for t in tickets]
    timed = len(tickets) - len(warm)
    print(f"issue: {timed} tickets in {elapsed:.2f}s = {timed / elapsed:.0f}/s, "
          f"p50 {pct(latencies, 50):.1f} ms, p99 {pct(latencies, 99):.1f} ms, "
          f"duplicate numbers in responses {len(numbers) - len(set(numbers))}")
    if args.spread:
        print("database:", db_integrity(None))
        return 0
    ws_base = args.ws_base or args.base
    ws_url = ws_base.replace("http", "ws", 1) + f"/ws/board/{args.centre}/"
    result = asyncio.run(counter_phase(args.base, tokens, ws_url))
    called = result["called"]
    lat = result["latencies"]
    print(f"counters: {len(called)} calls in {result['elapsed']:.2f}s = {len(called) / result['elapsed']:.0f} "
          f"visits/s; call-next p50 {pct(lat['call'], 50):.1f} ms p99 {pct(lat['call'], 99):.1f} ms; "
          f"double calls {len(called) - len(set(called))}; lost {len(tickets) - len(set(called))}")
    delays = result["board_delays"]
    if delays:
        print(f"board: {len(delays)} calls seen, push delay p50 {statistics.median(delays):.0f} ms, "
              f"p99 {pct(delays, 99):.0f} ms, missed {result['board_missed']}")
    print("database:", db_integrity(args.centre))
    return 0


if __name__ == "__main__":
    sys.exit(main())
