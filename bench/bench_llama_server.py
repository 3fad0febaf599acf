"""Benchmark: the API with the llama-server engine against llama-server alone.

The GGUF is registered and promoted in a throw-away registry and served by
llama-server (``--parallel 4``); the API (``uvicorn serving.app:app`` in a
child process, ``LLAMA_SERVER_URL`` pointing at that llama-server) answers
with it. In the same run, alternating, 8 clients stream the same chat prompt

- through the API (``POST /v1/chat/completions``), and
- straight to llama-server (``POST /completion`` with the token prompt and
  sampling settings the API sends),

and the aggregate tokens/s of the two are compared (target ratio >= 0.95,
the median of each round's ratio), with p50/p99 request latency for each.

    python bench/bench_llama_server.py                 # Gemma candidate
    python bench/bench_llama_server.py --model tiny --requests 32
"""

from __future__ import annotations

import argparse
import json
import math
import os
import statistics
import sys
import tempfile
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "bench"))

from bench_serving import (  # noqa: E402  (needs the paths above)
    MESSAGES,
    REQUEST_TIMEOUT_SECONDS,
    Run,
    api_run,
    load_average,
    promoted_registry,
    resolve_model,
    start_server,
)

from serving.cache import VettedModel  # noqa: E402
from serving.engine import Sampling  # noqa: E402
from serving.llama_server import LlamaServerEngine, completion_body  # noqa: E402
from tests.support.llama_server import (  # noqa: E402
    llama_server_binary,
    running_llama_server,
)
from yonca.hashing import sha256_file  # noqa: E402


def direct_body(llama_url: str, gguf: Path, max_tokens: int) -> dict:
    """The /completion request the API sends for MESSAGES, built the same way."""
    model = VettedModel("bench", "1", sha256_file(gguf), 1.0, gguf)
    engine = LlamaServerEngine(llama_url, model)
    try:
        prompt = engine.chat_prompt(MESSAGES)
    finally:
        engine.close()
    return completion_body(prompt, Sampling(max_tokens=max_tokens, temperature=0.0))


def direct_run(client: httpx.Client, llama_url: str, body: dict) -> Run:
    """One streamed /completion straight to llama-server, timed at the client.

    Like the API's engine, it sends a request once more when llama-server
    closed the connection before answering.
    """
    started = time.perf_counter()
    first, tokens, status = 0.0, 0, 0
    for _attempt in range(2):
        try:
            with client.stream("POST", f"{llama_url}/completion", json=body) as reply:
                status = reply.status_code
                lines = reply.iter_lines() if status == 200 else iter(())
                for line in lines:
                    if not line.startswith("data: "):
                        continue
                    event = json.loads(line[6:])
                    tokens = event.get("tokens_predicted", tokens)
                    if not first and event.get("content"):
                        first = time.perf_counter() - started
            break
        except httpx.RemoteProtocolError:
            status = 0
            if tokens:
                break  # broken mid-answer: a failed request
        except httpx.TransportError:
            status = 0  # a dropped connection counts as a failed request
            break
    return Run(tokens, first or 0.0, time.perf_counter() - started, status)


def crowd(one_request, clients: int, requests: int) -> dict:
    """``requests`` runs of ``one_request`` spread over ``clients`` clients."""
    per_client = requests // clients

    def client_loop(_) -> list[Run]:
        with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            return [one_request(client) for _ in range(per_client)]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=clients) as pool:
        runs = [run for batch in pool.map(client_loop, range(clients)) for run in batch]
    wall = time.perf_counter() - started
    latencies = sorted(run.total for run in runs)
    return {
        "requests": len(runs),
        "failed": sum(run.failed for run in runs),
        "tokens": sum(run.tokens for run in runs),
        "tokens_per_s": sum(run.tokens for run in runs) / wall,
        "p50_s": statistics.median(latencies),
        "p99_s": latencies[math.ceil(0.99 * len(latencies)) - 1],
        "wall_s": wall,
    }


def bench(args, folder: Path) -> dict:
    binary = llama_server_binary()
    if binary is None:
        raise SystemExit(
            "no llama-server binary: run `make llama-server` or set LLAMA_SERVER_BIN"
        )
    gguf = resolve_model(args.model, folder)
    uri = promoted_registry(gguf, folder)
    log_file = folder / "llama-server.log"
    with running_llama_server(
        binary,
        gguf,
        log_file,
        parallel=args.parallel,
        ctx_size=args.n_ctx * args.parallel,
        threads=args.threads,
    ) as llama:
        # start_server hands this environment on to the API it starts.
        os.environ["LLAMA_SERVER_URL"] = llama.url
        process, base_url = start_server(uri, folder, args)
        try:
            body = direct_body(llama.url, gguf, args.max_tokens)
            rounds = measure(args, base_url, llama.url, body)
        finally:
            process.terminate()
            process.wait(timeout=60)
    return summarise(args, gguf, body, rounds)


def measure(args, base_url: str, llama_url: str, body: dict) -> list[dict]:
    """Alternate API and direct passes so that drift hits both alike."""

    def through_api(client):
        return api_run(client, base_url, args.max_tokens)

    def direct(client):
        return direct_run(client, llama_url, body)

    crowd(through_api, args.clients, args.clients)  # warm both paths
    crowd(direct, args.clients, args.clients)
    rounds = []
    for _ in range(args.rounds):
        api = crowd(through_api, args.clients, args.requests)
        own = crowd(direct, args.clients, args.requests)
        rounds.append({"api": api, "direct": own})
    return rounds


def summarise(args, gguf: Path, body: dict, rounds: list[dict]) -> dict:
    """Medians over the rounds; the ratio is taken within each round first."""
    ratios = [r["api"]["tokens_per_s"] / r["direct"]["tokens_per_s"] for r in rounds]
    return {
        "model": args.model,
        "gguf": gguf.name,
        "prompt_tokens": len(body["prompt"]),
        "api_tokens_per_s": statistics.median(r["api"]["tokens_per_s"] for r in rounds),
        "direct_tokens_per_s": statistics.median(
            r["direct"]["tokens_per_s"] for r in rounds
        ),
        "ratio": statistics.median(ratios),
        "rounds": rounds,
    }


def report(result: dict, args) -> str:
    rows = [
        "| pass | requests | tokens | aggregate tok/s | p50 / p99 latency | failed |",
        "|---|---:|---:|---:|---:|---:|",
    ]
    for index, pair in enumerate(result["rounds"], start=1):
        for label, key in (("API", "api"), ("llama-server", "direct")):
            r = pair[key]
            rows.append(
                f"| {label} (round {index}) | {r['requests']} | {r['tokens']} "
                f"| {r['tokens_per_s']:.1f} | {r['p50_s']:.2f} s / {r['p99_s']:.2f} s "
                f"| {r['failed']} |"
            )
    return "\n".join(rows) + (
        f"\n\nMedian aggregate tok/s: API {result['api_tokens_per_s']:.1f}, "
        f"llama-server {result['direct_tokens_per_s']:.1f}; median of the "
        f"rounds' ratios {result['ratio']:.3f} (target >= 0.95). "
        f"{args.clients} clients, --parallel {args.parallel}, "
        f"{result['prompt_tokens']} prompt tokens, "
        f"{args.max_tokens} tokens at most, {args.threads} threads."
    )


def rerun_command(args) -> str:
    return (
        f".venv/bin/python bench/bench_llama_server.py --model {args.model} "
        f"--max-tokens {args.max_tokens} --clients {args.clients} "
        f"--requests {args.requests} --rounds {args.rounds} "
        f"--parallel {args.parallel} --threads {args.threads}"
    )


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default="gemma", help="tiny, gemma or a path")
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--n-ctx", type=int, default=2048, help="per slot")
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=16, help="per pass")
    parser.add_argument("--rounds", type=int, default=2)
    parser.add_argument("--parallel", type=int, default=4)
    parser.add_argument(
        "--threads", type=int, default=os.cpu_count() or 1, help="llama-server's"
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from yonca.logs import configure_logging
    from yonca.privacy import disable_telemetry

    args = parse_args(argv)
    disable_telemetry()
    configure_logging("WARNING")
    with tempfile.TemporaryDirectory(prefix="bench-llama-server-") as folder:
        result = bench(args, Path(folder))
    print(report(result, args))
    print(json.dumps(result, indent=2))
    print(f"\nLoad average: {load_average()}")
    print(f"Rerun: {rerun_command(args)}")


if __name__ == "__main__":
    main()
