"""Benchmark: what the inference API costs over calling llama-cpp-python directly.

For each model the GGUF is registered and promoted in a throw-away registry,
served by ``python -m uvicorn serving.app:app`` in a child process on the
loopback interface, and measured against llama-cpp-python in this process on
the same prompt tokens, sampling settings and thread count, in the same run:

- single stream: tokens/s end to end (ratio API / in-process, target >= 0.95)
  and the time to first token the API adds (p50, target <= 10 ms);
- concurrency: a fixed number of requests from 8 clients: 5xx count, p50/p99
  latency, aggregate tokens/s against single-stream in-process tokens/s;
- a swap under that load: while the clients run, a second vetted version is
  registered, promoted and refreshed in; failed requests (target 0) and the
  versions that answered are reported.

    python bench/bench_serving.py                    # Gemma candidate
    python bench/bench_serving.py --models tiny gemma --write-docs
"""

from __future__ import annotations

import argparse
import json
import os
import platform
import shutil
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
MODEL_NAME = "yonca-agri"
MESSAGES = [
    {
        "role": "system",
        "content": "You are Yonca, an agronomy assistant for farmers in Azerbaijan.",
    },
    {
        "role": "user",
        "content": "Field F1: 22 ha cotton, soil moisture 17 %, forecast 41 °C. "
        "When and how should I irrigate this week?",
    },
]
READY_TIMEOUT_SECONDS = 180
REQUEST_TIMEOUT_SECONDS = 600


@dataclass(frozen=True)
class Run:
    """One generation: tokens produced, seconds to the first and to the last."""

    tokens: int
    first_token: float
    total: float
    status: int = 200
    fingerprint: str = ""

    @property
    def failed(self) -> bool:
        return self.status != 200 or self.tokens == 0

    @property
    def rate(self) -> float:
        return self.tokens / self.total if self.total else 0.0


def resolve_model(name: str, folder: Path) -> Path:
    """``tiny`` (random test model), ``gemma`` (the candidate) or a GGUF path."""
    if name == "tiny":
        from tests.support.tiny_gguf import write_tiny_gguf

        return write_tiny_gguf(folder / "tiny.gguf")
    if name != "gemma":
        return Path(name)
    candidate = ROOT / "models" / "candidate.gguf"
    if not candidate.exists():
        import yaml

        from evaluation.candidate import materialise_candidate

        params = yaml.safe_load((ROOT / "params.yaml").read_text())
        materialise_candidate(params["model"]["source"], candidate)
    return candidate


def swap_model(name: str, gguf: Path, folder: Path) -> Path:
    """The second version to swap in: other weights for ``tiny``, else a copy."""
    if name == "tiny":
        from tests.support.tiny_gguf import write_tiny_gguf

        return write_tiny_gguf(folder / "tiny-swap.gguf", seed=1)
    copy = folder / f"{gguf.stem}-swap.gguf"
    shutil.copyfile(gguf, copy)
    return copy


def promoted_registry(gguf: Path, folder: Path) -> str:
    """A SQLite registry whose production alias points at ``gguf``, gate passed."""
    uri = f"sqlite:///{folder / 'mlflow.db'}"
    promote_version(uri, gguf, folder)
    return uri


def promote_version(uri: str, gguf: Path, folder: Path) -> str:
    """Register ``gguf`` as a new vetted version, point the alias at it."""
    from registry.promotion import promote
    from registry.store import connect, ensure_experiment
    from registry.versions import CandidateFacts, register_candidate
    from serving.cache import sha256_file

    client = connect(uri)
    experiment = ensure_experiment(client, "bench-serving", str(folder / "artifacts"))
    run_id = client.create_run(experiment).info.run_id
    golden = "0" * 64
    record = {
        "model": {
            "sha256": sha256_file(gguf),
            "size_bytes": gguf.stat().st_size,
            "name": gguf.stem,
            "quantization": "as-is",
        },
        "summary": {"golden_score": 1.0},
        "golden_set": {"sha256": golden, "cases_evaluated": 1},
        "prompt": {"sha256": "0" * 64},
        "gate": {"passed": True, "threshold": 0.0, "reasons": []},
    }
    facts = CandidateFacts(base_model=gguf.stem, quantization="as-is")
    version = register_candidate(client, MODEL_NAME, gguf, record, run_id, facts)
    decision = promote(
        client,
        MODEL_NAME,
        version,
        alias="production",
        threshold=0.0,
        current_golden_sha256=golden,
    )
    assert decision.promoted, decision.line()
    return str(version.version)


def start_server(uri: str, folder: Path, args) -> tuple[subprocess.Popen, str]:
    port = _free_port()
    env = {
        **os.environ,
        "PYTHONPATH": str(ROOT),
        "MLFLOW_TRACKING_URI": uri,
        "MODEL_CACHE_DIR": str(folder / "cache"),
        "MODEL_POLL_INTERVAL_SECONDS": "0",
        "LLM_CONTEXT_SIZE": str(args.n_ctx),
        "LLM_MAX_TOKENS": str(args.max_tokens),
        "LLM_TEMPERATURE": "0",
        "LLAMA_N_THREADS": str(args.threads),
        "LLAMA_N_PARALLEL": str(args.parallel),
        "MAX_QUEUED_REQUESTS": str(args.clients * 2),
        "RATE_LIMIT_REQUESTS_PER_MINUTE": "1000000",
        "RATE_LIMIT_BURST": "1000000",
        "LOG_LEVEL": "WARNING",
    }
    command = [sys.executable, "-m", "uvicorn", "serving.app:app"]
    command += ["--host", "127.0.0.1", "--port", str(port), "--log-level", "warning"]
    process = subprocess.Popen(command, cwd=folder, env=env)
    base_url = f"http://127.0.0.1:{port}"
    deadline = time.monotonic() + READY_TIMEOUT_SECONDS
    while time.monotonic() < deadline:
        if process.poll() is not None:
            raise SystemExit(f"the server exited with status {process.returncode}")
        try:
            if httpx.get(f"{base_url}/ready", timeout=2).status_code == 200:
                return process, base_url
        except httpx.TransportError:
            pass
        time.sleep(0.2)
    process.terminate()
    raise SystemExit(f"the server was not ready within {READY_TIMEOUT_SECONDS} s")


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


class InProcess:
    """llama-cpp-python's own Llama.generate, decoding the prompt the API would."""

    def __init__(self, gguf: Path, args) -> None:
        from llama_cpp import Llama, llama_model_get_vocab

        from serving.engine import LlamaEngine

        # The engine renders and tokenizes the prompt exactly as the API does.
        engine = LlamaEngine(gguf, n_ctx=args.n_ctx, n_threads=args.threads)
        try:
            self.prompt = engine.chat_prompt(MESSAGES).tokens
        finally:
            engine.close()
        self.llama = Llama(
            model_path=str(gguf),
            n_ctx=args.n_ctx,
            n_threads=args.threads,
            verbose=False,
        )
        self.vocab = llama_model_get_vocab(self.llama.model)
        self.max_tokens = args.max_tokens

    def run(self) -> Run:
        from llama_cpp import llama_vocab_is_eog

        started = time.perf_counter()
        first, count = None, 0
        tokens = self.llama.generate(
            self.prompt, temp=0.0, top_p=0.95, repeat_penalty=1.0
        )
        for token in tokens:
            if llama_vocab_is_eog(self.vocab, token):
                break
            self.llama.detokenize([token])
            first = first or time.perf_counter() - started
            count += 1
            if count >= self.max_tokens:
                break
        tokens.close()
        return Run(count, first or 0.0, time.perf_counter() - started)


def api_run(client: httpx.Client, base_url: str, max_tokens: int) -> Run:
    """One streamed chat completion through the API, timed at the client."""
    body = {
        "model": MODEL_NAME,
        "messages": MESSAGES,
        "max_tokens": max_tokens,
        "temperature": 0,
        "stream": True,
        "stream_options": {"include_usage": True},
    }
    started = time.perf_counter()
    first, tokens, fingerprint = None, 0, ""
    url = f"{base_url}/v1/chat/completions"
    try:
        with client.stream("POST", url, json=body) as response:
            if response.status_code != 200:
                response.read()
                elapsed = time.perf_counter() - started
                return Run(0, 0.0, elapsed, response.status_code)
            for line in response.iter_lines():
                if not line.startswith("data: {"):
                    continue
                chunk = json.loads(line[6:])
                fingerprint = chunk.get("system_fingerprint") or fingerprint
                if chunk.get("usage"):
                    tokens = chunk["usage"]["completion_tokens"]
                delta = chunk["choices"][0]["delta"] if chunk["choices"] else {}
                if first is None and delta.get("content"):
                    first = time.perf_counter() - started
    except httpx.TransportError:
        # A dropped connection is a failed request, not a crash of the benchmark.
        return Run(0, 0.0, time.perf_counter() - started, status=0)
    return Run(tokens, first or 0.0, time.perf_counter() - started, 200, fingerprint)


def single_stream(local: InProcess, base_url: str, rounds: int) -> dict:
    """Alternate in-process and API runs so that drift hits both alike."""
    local.run()  # warm both: first decode allocates buffers
    with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
        api_run(client, base_url, local.max_tokens)
        pairs = [(local.run(), api_run(client, base_url, local.max_tokens))]
        pairs += [
            (local.run(), api_run(client, base_url, local.max_tokens))
            for _ in range(rounds - 1)
        ]
    inproc_rate = statistics.median(pair[0].rate for pair in pairs)
    api_rate = statistics.median(pair[1].rate for pair in pairs)
    added_ttft = [api.first_token - own.first_token for own, api in pairs]
    return {
        "tokens": pairs[-1][1].tokens,
        "inproc_tokens_per_s": inproc_rate,
        "api_tokens_per_s": api_rate,
        "ratio": api_rate / inproc_rate,
        "inproc_ttft_ms": statistics.median(p[0].first_token for p in pairs) * 1e3,
        "added_ttft_p50_ms": statistics.median(added_ttft) * 1e3,
    }


class Swap:
    """Register, promote and refresh in a second version while clients run."""

    def __init__(self, uri: str, gguf: Path, folder: Path, base_url: str) -> None:
        self.uri, self.gguf, self.folder = uri, gguf, folder
        self.base_url = base_url
        self.outcome = "not attempted"
        self.version = ""
        self.seconds = 0.0
        self.thread = threading.Thread(target=self._run, daemon=True)

    def _run(self) -> None:
        started = time.perf_counter()
        try:
            self.version = promote_version(self.uri, self.gguf, self.folder)
            url = f"{self.base_url}/admin/model/refresh"
            response = httpx.post(url, timeout=REQUEST_TIMEOUT_SECONDS)
            outcome = response.json().get("outcome")
            self.outcome = outcome or f"HTTP {response.status_code}"
        except Exception as exc:  # reported in the table, not lost in a thread
            self.outcome = f"failed ({exc!r})"
        self.seconds = time.perf_counter() - started


def concurrent(base_url: str, args, swap: Swap | None = None) -> dict:
    """``args.requests`` requests spread over ``args.clients`` clients.

    With ``swap``, the second version is swapped in while the clients run.
    """
    per_client = args.requests // args.clients

    def client_loop(_) -> list[Run]:
        with httpx.Client(timeout=REQUEST_TIMEOUT_SECONDS) as client:
            return [
                api_run(client, base_url, args.max_tokens) for _ in range(per_client)
            ]

    started = time.perf_counter()
    with ThreadPoolExecutor(max_workers=args.clients) as pool:
        batches = pool.map(client_loop, range(args.clients))
        if swap is not None:
            swap.thread.start()
        runs = [run for batch in batches for run in batch]
    wall = time.perf_counter() - started
    if swap is not None:
        swap.thread.join(timeout=REQUEST_TIMEOUT_SECONDS)
    latencies = sorted(run.total for run in runs)
    return {
        "requests": len(runs),
        "server_errors": sum(run.status >= 500 for run in runs),
        "other_errors": sum(200 != run.status < 500 for run in runs),
        "failed": sum(run.failed for run in runs),
        "p50_s": _percentile(latencies, 50),
        "p99_s": _percentile(latencies, 99),
        "aggregate_tokens_per_s": sum(run.tokens for run in runs) / wall,
        "wall_s": wall,
        "answered_by": _versions(runs),
    }


def _versions(runs: list[Run]) -> dict[str, int]:
    """Requests answered per model version, from ``system_fingerprint``."""
    counts: dict[str, int] = {}
    for run in runs:
        if run.fingerprint:
            version = run.fingerprint.split("-")[0]
            counts[version] = counts.get(version, 0) + 1
    return dict(sorted(counts.items()))


def _percentile(values: list[float], percent: float) -> float:
    index = min(len(values) - 1, round(percent / 100 * (len(values) - 1)))
    return values[index]


def bench_model(name: str, args, folder: Path) -> dict:
    gguf = resolve_model(name, folder)
    uri = promoted_registry(gguf, folder)
    process, base_url = start_server(uri, folder, args)
    try:
        local = InProcess(gguf, args)
        single = single_stream(local, base_url, args.rounds)
        crowd = concurrent(base_url, args)
        swap = Swap(uri, swap_model(name, gguf, folder), folder, base_url)
        swapped = concurrent(base_url, args, swap)
    finally:
        process.terminate()
        process.wait(timeout=60)
    crowd["ratio"] = crowd["aggregate_tokens_per_s"] / single["inproc_tokens_per_s"]
    swapped.update(outcome=swap.outcome, version=swap.version, swap_s=swap.seconds)
    return {
        "model": name,
        "gguf": gguf.name,
        **single,
        "concurrent": crowd,
        "swap": swapped,
    }


def report(results: list[dict], args) -> str:
    rows = [
        "| model | tokens/request | in-process tok/s | API tok/s | ratio | "
        "added TTFT p50 | 8-client aggregate tok/s | ratio to single in-process | "
        "p50 / p99 latency | 5xx |",
        "|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|",
    ]
    for r in results:
        c = r["concurrent"]
        rows.append(
            f"| {r['model']} (`{r['gguf']}`) | {r['tokens']} "
            f"| {r['inproc_tokens_per_s']:.1f} | {r['api_tokens_per_s']:.1f} "
            f"| {r['ratio']:.3f} | {r['added_ttft_p50_ms']:.1f} ms "
            f"| {c['aggregate_tokens_per_s']:.1f} | {c['ratio']:.3f} "
            f"| {c['p50_s']:.2f} s / {c['p99_s']:.2f} s | {c['server_errors']} "
            f"of {c['requests']} |"
        )
    return "\n".join(rows) + "\n\n" + swap_report(results)


def swap_report(results: list[dict]) -> str:
    rows = [
        "| model | swap | swap took | failed requests | answered by "
        "| p50 / p99 latency | 5xx |",
        "|---|---|---:|---:|---|---:|---:|",
    ]
    for r in results:
        s = r["swap"]
        answered = ", ".join(f"{v}: {n}" for v, n in s["answered_by"].items())
        rows.append(
            f"| {r['model']} | {s['outcome']} to v{s['version']} "
            f"| {s['swap_s']:.2f} s of {s['wall_s']:.2f} s "
            f"| {s['failed']} of {s['requests']} | {answered} "
            f"| {s['p50_s']:.2f} s / {s['p99_s']:.2f} s | {s['server_errors']} |"
        )
    return "\n".join(rows)


def load_average() -> str:
    """The 1, 5 and 15 minute load averages, as ``uptime`` prints them."""
    return ", ".join(f"{value:.2f}" for value in os.getloadavg())


def rerun_command(args) -> str:
    return (
        f".venv/bin/python bench/bench_serving.py --models {' '.join(args.models)} "
        f"--max-tokens {args.max_tokens} --rounds {args.rounds} "
        f"--clients {args.clients} --requests {args.requests} "
        f"--threads {args.threads} --parallel {args.parallel}"
    )


def write_section(path: Path, table: str, args) -> None:
    """Replace (or append) the "## Serving" section of docs/benchmarks.md."""
    text = path.read_text() if path.exists() else BENCHMARKS_INTRO
    section = SERVING_SECTION.format(
        table=table,
        machine=f"{os.cpu_count()} CPU cores, {platform.machine()}, Python "
        f"{platform.python_version()}.\nLoad average (1, 5, 15 min) when the run "
        f"ended: {load_average()}",
        args=args,
        rerun=rerun_command(args),
    )
    start = text.find("\n## Serving")
    if start < 0:
        text = text.rstrip("\n") + "\n\n" + section
    else:
        end = text.find("\n## ", start + 1)
        tail = text[end:] if end >= 0 else "\n"
        text = text[:start].rstrip("\n") + "\n\n" + section.rstrip("\n") + tail
    path.write_text(text)


BENCHMARKS_INTRO = (
    "# Benchmarks\n\nMeasured figures, each with the command that reproduces it.\n"
)
SERVING_SECTION = """## Serving

`bench/bench_serving.py` registers and promotes each GGUF in a throw-away
registry, serves it with `python -m uvicorn serving.app:app` in a child process
on the loopback interface, and measures it against llama-cpp-python called in
the benchmark's own process on the same prompt tokens, greedy sampling,
{args.max_tokens} tokens at most and {args.threads} threads, alternating the
two so that load on the machine hits both alike ({args.rounds} rounds, medians).
Tokens/s are end to end: completion tokens over the time from request to last
token. Added time to first token is the API's minus in-process, per round.
Concurrency: {args.requests} streamed requests from {args.clients} clients at
once; the API decodes up to {args.parallel} of them together in one llama
context (`LLAMA_N_PARALLEL`), and the others queue.
Swap: the same load again, while a second vetted version (other weights for
the tiny model, a copy of the file for Gemma) is registered, promoted and
refreshed in; a request fails when it gets no 200 or no tokens, and the
versions that answered are read from each stream's `system_fingerprint`.

Targets: API single-stream tokens/s at least 0.95× in-process, added time to
first token at most 10 ms p50, no 5xx under 8 clients, 8-client aggregate
tokens/s at least 0.95× single-stream in-process, and no failed request
during the swap.

{table}

Machine: {machine}.

Rerun, from the repository root:

```sh
{rerun}
```
"""


def parse_args(argv: list[str] | None = None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--models",
        nargs="+",
        default=["gemma"],
        help="tiny, gemma, or paths to GGUF files",
    )
    parser.add_argument("--max-tokens", type=int, default=128)
    parser.add_argument("--n-ctx", type=int, default=2048)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--clients", type=int, default=8)
    parser.add_argument("--requests", type=int, default=24)
    parser.add_argument("--threads", type=int, default=os.cpu_count() or 1)
    parser.add_argument(
        "--parallel",
        type=int,
        default=4,
        help="generations the API decodes together (LLAMA_N_PARALLEL)",
    )
    parser.add_argument(
        "--write-docs",
        action="store_true",
        help="write the table into docs/benchmarks.md",
    )
    return parser.parse_args(argv)


def main(argv: list[str] | None = None) -> None:
    from yonca.logs import configure_logging
    from yonca.privacy import disable_telemetry

    args = parse_args(argv)
    disable_telemetry()
    configure_logging("WARNING")
    results = []
    for name in args.models:
        with tempfile.TemporaryDirectory(prefix="bench-serving-") as folder:
            results.append(bench_model(name, args, Path(folder)))
    table = report(results, args)
    print(table)
    print(json.dumps(results, indent=2))
    print(f"\nLoad average: {load_average()}")
    print(f"Rerun: {rerun_command(args)}")
    if args.write_docs:
        write_section(ROOT / "docs" / "benchmarks.md", table, args)


if __name__ == "__main__":
    main()
