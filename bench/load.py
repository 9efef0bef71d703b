"""Load test of the HTTP service: requests/s and latency under concurrent clients.

    python bench/load.py [--seconds 60] [--clients 32] [--model DIR] [--threads N] [--no-write]

Starts `pinyin-hanzi serve` (shipped model unless --model) in a subprocess on a free 127.0.0.1
port, then CLIENTS concurrent clients (one asyncio loop, httpx) POST one clause each to
/v1/convert, back to back, for SECONDS; the clauses are the pinyin column of
bench/data/pd98_test.tsv (PINYIN_HANZI_BENCH_DIR overrides the directory), taken in turn.
Client and server share the machine, so this measures the whole box. Writes the table to
docs/BENCHMARKS.md (section "load") unless --no-write.
"""

from __future__ import annotations

import argparse
import asyncio
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402

CLAUSES = benchmark_dir() / "pd98_test.tsv"
WARMUP_REQUESTS = 20


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, model: Path | None, threads: int, log) -> subprocess.Popen:
    args = [sys.executable, "-m", "pinyin_hanzi.cli", "serve", "--port", str(port),
            "--threads", str(threads)]
    if model is not None:
        args += ["--model", str(model)]
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


def wait_until_healthy(url: str, server: subprocess.Popen, timeout: float = 120.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if server.poll() is not None:
            raise RuntimeError(f"the server exited with status {server.returncode}")
        try:
            if httpx.get(url + "/health", timeout=2).json().get("model_loaded"):
                return
        except (httpx.HTTPError, ValueError):
            pass
        time.sleep(0.2)
    raise RuntimeError(f"the server did not answer /health within {timeout:.0f} s")


async def run_clients(url: str, clauses: list[str], clients: int, seconds: float) -> dict:
    latencies, errors, sent, failures = [], 0, 0, Counter()
    limits = httpx.Limits(max_connections=clients, max_keepalive_connections=clients)
    async with httpx.AsyncClient(base_url=url, limits=limits, timeout=60) as http:
        for clause in clauses[:WARMUP_REQUESTS]:
            await http.post("/v1/convert", json={"pinyin": clause})

        async def client():
            nonlocal errors, sent
            while time.monotonic() < deadline:
                clause = clauses[sent % len(clauses)]
                sent += 1
                start = time.perf_counter()
                try:
                    response = await http.post("/v1/convert", json={"pinyin": clause})
                    ok = response.status_code == 200
                    why = f"HTTP {response.status_code}: {response.text[:200]}"
                except httpx.HTTPError as e:
                    ok, why = False, f"{type(e).__name__}: {e}"
                if ok:
                    latencies.append(time.perf_counter() - start)
                else:
                    errors += 1
                    failures[why] += 1

        start = time.monotonic()
        deadline = start + seconds
        await asyncio.gather(*(client() for _ in range(clients)))
        elapsed = time.monotonic() - start
    latencies.sort()

    def quantile(q: float) -> float:
        return 1000 * latencies[min(len(latencies) - 1, int(q * len(latencies)))] \
            if latencies else float("nan")

    return {"requests": len(latencies) + errors, "ok": len(latencies), "errors": errors,
            "seconds": elapsed, "rps": len(latencies) / elapsed,
            "p50_ms": quantile(0.50), "p99_ms": quantile(0.99),
            "failures": failures.most_common(5)}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--threads", type=int, default=0,
                        help="the server's encoder threads (0 = the library default)")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()

    clauses = [line.split("\t", 1)[0] for line in CLAUSES.read_text(encoding="utf-8")
               .splitlines() if line.strip()]
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = start_server(port, args.model, args.threads, log)
        try:
            wait_until_healthy(url, server)
            result = asyncio.run(run_clients(url, clauses, args.clients, args.seconds))
        except BaseException:
            log.seek(0)
            sys.stderr.write(log.read().decode(errors="replace")[-3000:])
            raise
        finally:
            server.terminate()
            try:
                server.wait(15)
            except subprocess.TimeoutExpired:
                server.kill()

    model = args.model.name if args.model else "shipped default_model"
    table = ("## HTTP service under load\n\n"
             f"Command: `{command()}` (revision {git_revision()})  \nMachine: {machine()}\n\n"
             f"`pinyin-hanzi serve` ({model}, backend auto, encoder threads: "
             f"{args.threads or 'default'}) and {args.clients} concurrent clients in one "
             f"asyncio loop on the same machine, each POSTing one clause of "
             f"{CLAUSES.name} at a time to /v1/convert for {result['seconds']:.0f} s.\n\n"
             "| clients | requests | requests/s | p50 ms | p99 ms | errors |\n"
             "|---|---|---|---|---|---|\n"
             f"| {args.clients} | {result['requests']} | {result['rps']:.1f} | "
             f"{result['p50_ms']:.1f} | {result['p99_ms']:.1f} | {result['errors']} |\n")
    if result["failures"]:  # what went wrong, as the client saw it
        table += "\nErrors: " + "; ".join(f"{why or 'no message'} (x{count})"
                                           for why, count in result["failures"]) + "\n"
    print(table)
    if not args.no_write:
        write_section("load", table)


if __name__ == "__main__":
    main()
