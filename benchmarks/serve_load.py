"""Load test for ``nava-instruct serve``: N concurrent clients for a bounded time.

Starts the server on a free loopback port, runs ``--clients`` threads that each send chat requests
back to back until ``--seconds`` have passed, stops the server, and prints the request count,
p50/p95 latency and generated tokens per second. Exits 1 if any request failed.

    python benchmarks/serve_load.py --model models/gguf/model-Q4_K_M.gguf --clients 4 --seconds 30
"""

from __future__ import annotations

import argparse
import statistics
import sys
import threading
import time

from nava_instruct import layout
from nava_instruct.serving.client import ClientError, NavaClient
from nava_instruct.serving.testing import running

INSTRUCTIONS = [
    "Write NAVA code that plans a path on the plane from (0, 0) to (4, 3), avoiding a disc of radius 1 at (2, 1.5).",
    "On a sphere of radius 1, plan a geodesic path from the north pole to latitude 0, longitude pi/2,"
    " and visualise it.",
    "Write NAVA code for SE(2): start at [0, 0, 0], goal at [5, 2, pi/2], minimum-time cost with velocity limit 1.",
]


def client_loop(client: NavaClient, deadline: float, max_tokens: int, results: list, failures: list) -> None:
    i = 0
    while time.monotonic() < deadline:
        messages = [{"role": "user", "content": INSTRUCTIONS[i % len(INSTRUCTIONS)]}]
        started = time.monotonic()
        try:
            answer = client.chat(messages, max_tokens=max_tokens)
            results.append((time.monotonic() - started, answer["usage"]["completion_tokens"]))
        except (ClientError, KeyError) as error:
            failures.append(str(error))
        i += 1


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(layout.served_model()), help="GGUF file (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=4)
    parser.add_argument("--seconds", type=float, default=30.0)
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--n-ctx", type=int, default=2048)
    args = parser.parse_args()

    results: list[tuple[float, int]] = []
    failures: list[str] = []
    with running(args.model, "--n-ctx", str(args.n_ctx)) as url:
        client = NavaClient(url, timeout=600)
        started = time.monotonic()
        deadline = started + args.seconds
        threads = [
            threading.Thread(target=client_loop, args=(client, deadline, args.max_tokens, results, failures))
            for _ in range(args.clients)
        ]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join()
        elapsed = time.monotonic() - started

    latencies = sorted(latency for latency, _ in results)
    tokens = sum(count for _, count in results)
    print(f"model {args.model}: {args.clients} clients for {elapsed:.1f} s, max_tokens {args.max_tokens}")
    print(f"requests {len(results)} ok, {len(failures)} failed")
    if latencies:
        p95 = latencies[min(len(latencies) - 1, round(0.95 * (len(latencies) - 1)))]
        print(f"latency p50 {statistics.median(latencies):.3f} s, p95 {p95:.3f} s")
        print(f"throughput {tokens / elapsed:.1f} generated tokens/s, {len(results) / elapsed:.2f} requests/s")
    for failure in failures[:5]:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures or not results else 0


if __name__ == "__main__":
    sys.exit(main())
