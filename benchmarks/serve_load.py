"""Load test for ``nava-instruct serve``: 1 and N concurrent clients, checker loop off and on, side by side.

Starts the server once on a free loopback port, then for each setting runs that many client threads,
each sending chat requests back to back for ``--seconds``, and prints one row per setting: requests,
p50/p95 latency, generated tokens/s, and the N-client p95 over the 1-client p95 of the same loop
setting. Exits 1 if any request failed.

    python benchmarks/serve_load.py --model models/gguf/model-Q4_K_M.gguf --clients 4 --seconds 30
    python benchmarks/serve_load.py --tiny   # the tests' tiny Llama (2 layers, SmolLM2's vocabulary), built here

The server decodes up to ``--parallel`` requests together (``lm.parallel``); ``--parallel 1`` shows
what one request at a time would give.
"""

from __future__ import annotations

import argparse
import statistics
import sys
import tempfile
import threading
import time
from pathlib import Path

from nava_instruct import layout
from nava_instruct.serving.client import ClientError, NavaClient
from nava_instruct.serving.testing import running

INSTRUCTIONS = [
    "Write NAVA code that plans a path on the plane from (0, 0) to (4, 3), avoiding a disc of radius 1 at (2, 1.5).",
    "On a sphere of radius 1, plan a geodesic path from the north pole to latitude 0, longitude pi/2,"
    " and visualise it.",
    "Write NAVA code for SE(2): start at [0, 0, 0], goal at [5, 2, pi/2], minimum-time cost with velocity limit 1.",
]


REPO = Path(__file__).resolve().parents[1]


def tiny_gguf(folder: Path) -> Path:
    """The tests' tiny Llama with SmolLM2's tokenizer, converted to an f16 GGUF in ``folder``."""
    sys.path.insert(0, str(REPO / "tests"))
    from helpers import CONVERTER, save_tiny_smol_llama
    from nava_instruct.stages import convert

    gguf = folder / "tiny-f16.gguf"
    convert.to_gguf_f16(save_tiny_smol_llama(folder / "tiny"), gguf, CONVERTER, "tiny")
    return gguf


def client_loop(client: NavaClient, deadline: float, options: dict, results: list, failures: list) -> None:
    i = 0
    while time.monotonic() < deadline:
        messages = [{"role": "user", "content": INSTRUCTIONS[i % len(INSTRUCTIONS)]}]
        started = time.monotonic()
        try:
            answer = client.chat(messages, **options)
            results.append((time.monotonic() - started, answer["usage"]["completion_tokens"]))
        except (ClientError, KeyError) as error:
            failures.append(str(error))
        i += 1


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, round(share * (len(ordered) - 1)))]


def measure(client: NavaClient, clients: int, seconds: float, options: dict) -> dict:
    """``clients`` threads sending requests back to back for ``seconds``."""
    results: list[tuple[float, int]] = []
    failures: list[str] = []
    started = time.monotonic()
    threads = [
        threading.Thread(target=client_loop, args=(client, started + seconds, options, results, failures))
        for _ in range(clients)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    elapsed = time.monotonic() - started
    latencies = [latency for latency, _ in results]
    return {
        "requests": len(results),
        "failures": failures,
        "p50": statistics.median(latencies) if latencies else float("nan"),
        "p95": percentile(latencies, 0.95) if latencies else float("nan"),
        "tokens_per_s": sum(count for _, count in results) / elapsed,
    }


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=str(layout.served_model()), help="GGUF file (default: %(default)s)")
    parser.add_argument("--tiny", action="store_true", help="build and serve the tests' tiny model instead")
    parser.add_argument("--parallel", type=int, default=4, help="the server's --parallel (default: %(default)s)")
    parser.add_argument("--clients", type=int, default=4, help="the concurrent setting, beside 1 client")
    parser.add_argument("--seconds", type=float, default=30.0, help="per setting")
    parser.add_argument("--max-tokens", type=int, default=64)
    parser.add_argument("--n-ctx", type=int, default=None, help="per request (default: 2048, 256 for --tiny)")
    args = parser.parse_args()
    scratch = tempfile.TemporaryDirectory()
    if args.tiny:
        args.model = str(tiny_gguf(Path(scratch.name)))
    n_ctx = args.n_ctx or (256 if args.tiny else 2048)

    loops = {"off": {"nava_check": False}, "on": {}}  # the server's default is the loop on
    rows, failures = [], []
    with running(args.model, "--n-ctx", str(n_ctx), "--parallel", str(args.parallel)) as url:
        client = NavaClient(url, timeout=600)
        for loop, fields in loops.items():
            for clients in (1, args.clients):
                row = measure(client, clients, args.seconds, {"max_tokens": args.max_tokens, **fields})
                rows.append({"loop": loop, "clients": clients, **row})
                failures += row["failures"]

    setting = f"--parallel {args.parallel}, max_tokens {args.max_tokens}, {args.seconds:.0f} s per setting"
    print(f"model {args.model}, {setting}")
    print(
        f"{'loop':<5} {'clients':>7} {'requests':>8} {'p50 s':>7} {'p95 s':>7} {'tokens/s':>9} {'p95 / 1 client':>15}"
    )
    for row in rows:
        single = next(r for r in rows if r["loop"] == row["loop"] and r["clients"] == 1)
        print(
            f"{row['loop']:<5} {row['clients']:>7} {row['requests']:>8} {row['p50']:>7.3f} {row['p95']:>7.3f}"
            f" {row['tokens_per_s']:>9.1f} {row['p95'] / single['p95']:>14.2f}x"
        )
    for failure in failures[:5]:
        print(f"failed: {failure}", file=sys.stderr)
    return 1 if failures or not all(row["requests"] for row in rows) else 0


if __name__ == "__main__":
    sys.exit(main())
