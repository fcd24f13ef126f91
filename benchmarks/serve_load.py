"""Load test of ``embedkit serve`` on this machine: loopback only, bounded in count and time.

    python -m benchmarks.serve_load --prepare      # once: the 1M-word space and its HNSW index (~14 min)
    python -m benchmarks.serve_load                # default model and 1M words, 1 and 2 workers
    python -m benchmarks.serve_load --models default --workers 1 --seconds 5   # a quick look

For each model and number of worker processes, a real server (``python -m embedkit serve
--port 0``) is started and a client in this process (threads, one keep-alive connection
each) sends requests to 127.0.0.1 only:

- single ``GET /similar`` and ``GET /analogy`` queries (k = 10), with 1 client (latency) and
  with ``--clients`` clients at once (throughput);
- ``POST /batch`` requests of 100 and of 1,000 analogies.

Each run stops after ``--requests`` requests or ``--seconds`` seconds, whichever is first.
Reported: requests/s, queries/s and client-side p50/p99 latency. The same queries are then
answered in this process by the library (:class:`~embedkit.session.QuerySession`:
single ``analogy`` calls and ``analogy_batch``) to say what the HTTP layer costs per query.
The memory of the server processes (RSS and PSS from ``/proc``) shows what the
memory-mapped model shares between workers.

The 1M-word space is the synthetic clustered space of :mod:`benchmarks.query_speed` (not
uniform noise), kept in ``--workdir`` with its HNSW index (the same folder that benchmark
uses, so either builds it once). The client shares the machine's 2 cores with the server:
the figures include that competition, as any load test on one machine does.
Results: ``benchmarks/results/serve_load-DATE.{json,md}``.
"""

from __future__ import annotations

import argparse
import datetime
import http.client
import json
import os
import re
import statistics
import subprocess
import sys
import threading
import time
from pathlib import Path
from typing import Any

import numpy as np

import embedkit
from embedkit.default import default_model_path, load_default
from embedkit.session import QuerySession

from .query_speed import embedding_like_space

RESULTS = Path(__file__).parent / "results"
SERVING = re.compile(r"serving .* on http://127\.0\.0\.1:(\d+) ")
POOL = 30_000
"""Queries use the most frequent words, as real ones mostly do."""


def log(message: str) -> None:
    print(f"[{time.strftime('%H:%M:%S')}] {message}", file=sys.stderr, flush=True)


# --- the models ----------------------------------------------------------------------------------
def large_model(workdir: Path, size: int) -> Path:
    """The native folder of the synthetic ``size``-word space (written once)."""
    folder = workdir / f"space-{size}"
    if not (folder / "meta.json").is_file():
        log(f"generating the {size:,}-word space in {folder}")
        folder.parent.mkdir(parents=True, exist_ok=True)
        embedkit.Vectors([f"w{i}" for i in range(size)], embedding_like_space(size)).save(folder)
    return folder


def prepare(workdir: Path, size: int) -> None:
    """Write the large space and build (or check) its saved HNSW index."""
    folder = large_model(workdir, size)
    vectors = embedkit.load(folder, mmap=True).use_index("hnsw")
    began = time.perf_counter()
    vectors.build_index()
    log(f"HNSW index of {folder} ready in {time.perf_counter() - began:.0f} s")


def queries(words: list[str], count: int, seed: int) -> tuple[list[str], list[list[str]]]:
    """Random words and random triples of distinct words among the first :data:`POOL`."""
    rng = np.random.default_rng(seed)
    pool = min(len(words), POOL)
    single = [words[i] for i in rng.integers(0, pool, count)]
    triples = [[words[i] for i in rng.choice(pool, 3, replace=False)] for _ in range(count)]
    return single, triples


# --- the server ---------------------------------------------------------------------------------
class Service:
    """``embedkit serve --port 0`` as a subprocess; stopped with SIGTERM."""

    def __init__(self, model: Path | None, workers: int) -> None:
        command = [sys.executable, "-m", "embedkit", "serve", "--port", "0", "--workers", str(workers)]
        if model is not None:
            command += ["--model", str(model)]
        self.process = subprocess.Popen(
            command, stdin=subprocess.DEVNULL, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True
        )
        self.log: list[str] = []
        self.port = 0
        found = threading.Event()

        def drain() -> None:
            for line in self.process.stderr:
                self.log.append(line)
                match = SERVING.search(line)
                if match:
                    self.port = int(match.group(1))
                    found.set()
            found.set()

        threading.Thread(target=drain, daemon=True).start()
        began = time.perf_counter()
        if not found.wait(1800) or not self.port:
            raise RuntimeError("the server did not start: " + "".join(self.log)[-2000:])
        while not self._healthy():
            if self.process.poll() is not None or time.perf_counter() - began > 1800:
                raise RuntimeError("the server did not answer: " + "".join(self.log)[-2000:])
            time.sleep(0.2)
        self.startup_seconds = time.perf_counter() - began

    def _healthy(self) -> bool:
        try:
            connection = http.client.HTTPConnection("127.0.0.1", self.port, timeout=5)
            connection.request("GET", "/health")
            return connection.getresponse().status == 200
        except OSError:
            return False

    def memory(self) -> dict[str, Any]:
        """RSS and PSS (MiB) of the server process and of each worker it spawned."""
        found = subprocess.run(
            ["pgrep", "-P", str(self.process.pid), "-f", "spawn_main"], capture_output=True, text=True
        ).stdout.split()
        pids = [int(p) for p in found] or [self.process.pid]

        def read(pid: int) -> dict[str, float]:
            fields = {}
            with open(f"/proc/{pid}/smaps_rollup") as handle:
                for line in handle:
                    parts = line.split()
                    if parts[0] in ("Rss:", "Pss:", "Shared_Clean:"):
                        fields[parts[0][:-1].lower()] = int(parts[1]) / 1024
            return fields

        rows = [read(pid) for pid in pids]
        return {
            "processes": len(rows),
            "rss_mib": sum(r["rss"] for r in rows),
            "pss_mib": sum(r["pss"] for r in rows),
            "shared_clean_mib": sum(r["shared_clean"] for r in rows),
            "parent_rss_mib": read(self.process.pid)["rss"] if found else 0.0,
        }

    def stop(self) -> int:
        self.process.terminate()
        try:
            return self.process.wait(60)
        except subprocess.TimeoutExpired:
            self.process.kill()
            return self.process.wait()


# --- the client ---------------------------------------------------------------------------------
def load(port: int, requests: list[tuple[str, str, bytes | None]], clients: int, seconds: float) -> dict:
    """Send ``requests`` (method, path, body) from ``clients`` threads until done or ``seconds`` pass."""
    lock = threading.Lock()
    state = {"next": 0}
    latencies: list[float] = []
    failures: list[str] = []
    deadline = time.perf_counter() + seconds

    def client() -> None:
        connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        headers = {"Content-Type": "application/json"}
        while time.perf_counter() < deadline:
            with lock:
                if state["next"] >= len(requests):
                    return
                method, path, body = requests[state["next"]]
                state["next"] += 1
            began = time.perf_counter()
            connection.request(method, path, body=body, headers=headers if body else {})
            response = connection.getresponse()
            payload = response.read()
            took = time.perf_counter() - began
            with lock:
                latencies.append(took)
                if response.status != 200:
                    failures.append(f"{response.status} {payload[:200]!r}")
        connection.close()

    threads = [threading.Thread(target=client) for _ in range(clients)]
    began = time.perf_counter()
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    wall = time.perf_counter() - began
    if failures:
        raise RuntimeError(f"{len(failures)} requests failed, e.g. {failures[0]}")
    ms = np.array(latencies) * 1000
    return {
        "requests": len(latencies),
        "clients": clients,
        "seconds": wall,
        "requests_per_s": len(latencies) / wall,
        "p50_ms": float(np.percentile(ms, 50)),
        "p99_ms": float(np.percentile(ms, 99)),
    }


def scenarios(words: list[str], count: int) -> dict[str, list[tuple[str, str, bytes | None]]]:
    """The request lists: single similar and analogy queries, batches of 100 and 1,000 analogies."""
    from urllib.parse import urlencode

    single, triples = queries(words, count, seed=5)
    _, batch_triples = queries(words, 1000 * 20, seed=6)
    batches: dict[int, list[tuple[str, str, bytes | None]]] = {}
    for size, how_many in ((100, min(count, 200)), (1000, 20)):
        batches[size] = [
            ("POST", "/batch", json.dumps({"analogies": batch_triples[i * size % 19000 :][:size]}).encode())
            for i in range(how_many)
        ]
    return {
        "similar": [("GET", "/similar?" + urlencode({"word": w, "k": 10}), None) for w in single],
        "analogy": [("GET", "/analogy?" + urlencode(dict(zip("abc", t), k=10)), None) for t in triples],
        "batch100": batches[100],
        "batch1000": batches[1000],
    }


def in_process(session: QuerySession, words: list[str], repeats: int = 15) -> dict:
    """The same queries answered by the library in this process (no HTTP): the baseline."""
    single, triples = queries(words, 2000, seed=5)
    _, batch_triples = queries(words, 1000 * 20, seed=6)
    session.analogy_batch(batch_triples[:100])  # warm-up
    began = time.perf_counter()
    for t in triples[:1000]:
        session.analogy(*t)
    single_analogy = (time.perf_counter() - began) / 1000
    began = time.perf_counter()
    for w in single[:1000]:
        session.similar(w)
    single_similar = (time.perf_counter() - began) / 1000
    out = {
        "similar_ms": 1000 * single_similar,
        "analogy_ms": 1000 * single_analogy,
        "threads": embedkit.get_threads(),
    }
    for size in (100, 1000):
        times = []
        for r in range(repeats):
            chunk = batch_triples[r * size % 19000 :][:size]
            began = time.perf_counter()
            session.analogy_batch(chunk)
            times.append(time.perf_counter() - began)
        out[f"batch{size}_ms"] = 1000 * statistics.median(times)
        out[f"batch{size}_queries_per_s"] = size / statistics.median(times)
    return out


def measure(name: str, model: Path | None, workers_list: list[int], args: argparse.Namespace) -> dict:
    """Every scenario against a server of ``model`` with each number of workers, then in process."""
    session = QuerySession.open(model, mmap=True)  # None: the default model
    words = session.vectors.words
    result: dict[str, Any] = {
        "words": len(words),
        "dim": session.vectors.dim,
        "index": session.vectors.index_kind(),
        "runs": [],
    }
    plan = scenarios(words, args.requests)
    for workers in workers_list:
        service = Service(model, workers)
        log(f"{name}: {workers} worker(s) up in {service.startup_seconds:.1f} s on port {service.port}")
        run: dict[str, Any] = {"workers": workers, "startup_seconds": service.startup_seconds}
        try:
            # warm every worker's connection pool and caches
            load(service.port, plan["analogy"][:200], 4, 10)
            run["memory"] = service.memory()
            for kind in ("similar", "analogy"):
                run[f"{kind}_1client"] = load(service.port, plan[kind], 1, args.seconds)
                run[f"{kind}_{args.clients}clients"] = load(
                    service.port, plan[kind], args.clients, args.seconds
                )
            for size in (100, 1000):
                run[f"batch{size}_1client"] = load(service.port, plan[f"batch{size}"], 1, args.seconds)
                run[f"batch{size}_2clients"] = load(service.port, plan[f"batch{size}"], 2, args.seconds)
            for key, value in run.items():
                if isinstance(value, dict) and "requests_per_s" in value:
                    log(
                        f"  {key}: {value['requests_per_s']:,.1f} req/s, p50 {value['p50_ms']:.2f} ms, "
                        f"p99 {value['p99_ms']:.2f} ms ({value['requests']} requests)"
                    )
        finally:
            code = service.stop()
            run["exit_code"] = code
        result["runs"].append(run)
    result["in_process"] = in_process(session, words)
    log(f"{name}: in process {result['in_process']}")
    return result


# --- the report -------------------------------------------------------------------------------
def markdown(result: dict) -> str:
    lines = [
        f"Service load test, {result['date']}, embedkit {embedkit.__version__}, load average before "
        f"{result['load']}, {result['cores']} cores shared by client and server.\n"
    ]
    clients = result["args"]["clients"]
    for name, model in result["models"].items():
        base = model["in_process"]
        lines += [
            f"\n### {name}: {model['words']:,} words x {model['dim']}, {model['index']} index\n",
            "| workers | request | clients | requests/s | queries/s | p50 ms | p99 ms |",
            "|---|---|---|---|---|---|---|",
        ]
        for run in model["runs"]:
            for key, label, per in (
                ("similar_1client", "GET /similar", 1),
                (f"similar_{clients}clients", "GET /similar", 1),
                ("analogy_1client", "GET /analogy", 1),
                (f"analogy_{clients}clients", "GET /analogy", 1),
                ("batch100_1client", "POST /batch, 100 analogies", 100),
                ("batch100_2clients", "POST /batch, 100 analogies", 100),
                ("batch1000_1client", "POST /batch, 1,000 analogies", 1000),
                ("batch1000_2clients", "POST /batch, 1,000 analogies", 1000),
            ):
                row = run[key]
                rate = row["requests_per_s"]
                lines.append(
                    f"| {run['workers']} | {label} | {row['clients']} | {rate:,.1f} | {rate * per:,.0f} "
                    f"| {row['p50_ms']:.2f} | {row['p99_ms']:.2f} |"
                )
        one = model["runs"][0]
        single, batch = one["analogy_1client"]["p50_ms"], one["batch1000_1client"]["p50_ms"]
        lines += [
            "",
            f"In process (no HTTP, {base['threads']} threads): single `analogy` {base['analogy_ms']:.3f} ms, "
            f"`similar` {base['similar_ms']:.3f} ms; `analogy_batch` of 100 {base['batch100_ms']:.1f} ms "
            f"({base['batch100_queries_per_s']:,.0f} queries/s), of 1,000 {base['batch1000_ms']:.1f} ms "
            f"({base['batch1000_queries_per_s']:,.0f} queries/s).",
            f"HTTP cost, 1 worker: single analogy {single - base['analogy_ms']:.2f} ms per query "
            f"(p50 {single:.2f} ms against {base['analogy_ms']:.3f} ms); batch of 1,000 "
            f"{(batch - base['batch1000_ms']):.1f} µs per query "
            f"(p50 {batch:.1f} ms against {base['batch1000_ms']:.1f} ms in process).",
        ]
        for run in model["runs"]:
            memory = run.get("memory")
            if memory:
                parent = memory["parent_rss_mib"]
                lines.append(
                    f"Memory, {run['workers']} worker(s): RSS {memory['rss_mib']:,.0f} MiB, "
                    f"PSS {memory['pss_mib']:,.0f} MiB (the serving processes"
                    + (f"; the supervising parent {parent:,.0f} MiB RSS)." if parent else ").")
                )
    return "\n".join(lines) + "\n"


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument(
        "--prepare", action="store_true", help="only write the large space and build its index"
    )
    parser.add_argument("--models", nargs="+", default=["default", "large"], choices=["default", "large"])
    parser.add_argument("--workers", type=int, nargs="+", default=[1, 2])
    parser.add_argument("--large", type=int, default=1_000_000, help="words in the large space")
    parser.add_argument("--requests", type=int, default=3000, help="most single requests per run")
    parser.add_argument("--seconds", type=float, default=15, help="longest run")
    parser.add_argument("--clients", type=int, default=4, help="concurrent clients of the throughput runs")
    parser.add_argument(
        "--workdir", default="/tmp/embedkit-query-speed", help="where the large space is kept"
    )
    args = parser.parse_args(argv)
    workdir = Path(args.workdir)
    if args.prepare:
        prepare(workdir, args.large)
        return
    date = datetime.date.today().isoformat()
    loadavg = " ".join(f"{x:.1f}" for x in os.getloadavg())
    result: dict[str, Any] = {"date": date, "args": vars(args), "cores": os.cpu_count(), "load": loadavg}
    result["models"] = {}
    if "default" in args.models:
        load_default(progress=False)
        log(f"default model: {default_model_path()}")
        result["models"]["default model"] = measure("default model", None, args.workers, args)
    if "large" in args.models:
        folder = large_model(workdir, args.large)
        result["models"][f"{args.large:,} words (synthetic, clustered)"] = measure(
            f"{args.large:,} words", folder, args.workers, args
        )
    RESULTS.mkdir(exist_ok=True)
    (RESULTS / f"serve_load-{date}.json").write_text(json.dumps(result, indent=2))
    text = markdown(result)
    (RESULTS / f"serve_load-{date}.md").write_text(text)
    print(text)


if __name__ == "__main__":
    main()
