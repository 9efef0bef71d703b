"""Load test of the HTTP service: requests/s and latency under concurrent clients.

    python bench/load.py [--seconds 60] [--clients 32] [--model DIR] [--threads N]
                         [--processes 1,2] [--client wrk|httpx] [--no-write]

For each --processes count, starts `pinyin-hanzi serve --processes N` (shipped model unless
--model) on a free 127.0.0.1 port, then CLIENTS concurrent connections POST one clause each to
/v1/convert, back to back, for SECONDS; the clauses are the pinyin column of
bench/data/pd98_test.tsv (PINYIN_HANZI_BENCH_DIR overrides the directory), taken in turn. The
clients are wrk (Debian's `wrk`, a C load generator, when on PATH: it leaves the CPUs to the
server) or one asyncio loop of httpx (Python: it takes about a core of its own). Client and
server share the machine, so this measures the whole box. With CLIENTS always waiting on an
answer, latency = CLIENTS / throughput (Little's law): a p50 of 50 ms for 32 clients needs
640 requests/s. Writes the table to docs/BENCHMARKS.md (section "load") unless --no-write.
"""

from __future__ import annotations

import argparse
import asyncio
import json
import re
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from contextlib import contextmanager
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402

CLAUSES = benchmark_dir() / "pd98_test.tsv"
WARMUP_REQUESTS = 20


def pinyin_clauses() -> list[str]:
    """The pinyin column of CLAUSES, the requests' inputs, taken in turn."""
    return [line.split("\t", 1)[0] for line in CLAUSES.read_text(encoding="utf-8").splitlines()
            if line.strip()]


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_server(port: int, model: Path | None, threads: int, processes: int, log
                 ) -> subprocess.Popen:
    args = [sys.executable, "-m", "pinyin_hanzi.cli", "serve", "--port", str(port),
            "--threads", str(threads), "--processes", str(processes)]
    if model is not None:
        args += ["--model", str(model)]
    return subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT)


@contextmanager
def running_server(model: Path | None, threads: int = 1, processes: int = 1):
    """`pinyin-hanzi serve` on a free port, healthy: yields (its URL, its process). On an error
    the end of its log goes to stderr; at the end the server is stopped (killed if it hangs)."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    with tempfile.TemporaryFile() as log:
        server = start_server(port, model, threads, processes, log)
        try:
            wait_until_healthy(url, server)
            yield url, server
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


WRK_SCRIPT = """
local bodies = %s
local i = 0
request = function()
  i = i %% #bodies + 1
  return wrk.format("POST", "%s", {["content-type"] = "application/json"}, bodies[i])
end
"""
BATCH = 64  # clauses per /v1/convert/batch request (the route's cap)
BATCH_CLIENTS = 4


def run_wrk(url: str, clauses: list[str], clients: int, seconds: float,
            batch: int = 0) -> dict:
    """wrk with 2 threads and `clients` connections; its own latency percentiles. Each
    request is one clause to /v1/convert, or `batch` clauses to /v1/convert/batch."""
    if batch:
        route, payloads = "/v1/convert/batch", [{"inputs": clauses[i:i + batch]} for i in
                                                range(0, len(clauses) - batch + 1, batch)]
    else:
        route, payloads = "/v1/convert", [{"pinyin": c} for c in clauses]
    bodies = "{" + ",".join(json.dumps(json.dumps(p, ensure_ascii=False), ensure_ascii=False)
                            for p in payloads) + "}"
    with tempfile.NamedTemporaryFile("w", suffix=".lua", encoding="utf-8") as script:
        script.write(WRK_SCRIPT % (bodies, route))
        script.flush()
        for clause in clauses[:WARMUP_REQUESTS]:
            httpx.post(url + "/v1/convert", json={"pinyin": clause}, timeout=60)
        out = subprocess.run(["wrk", f"-t{min(2, clients)}", f"-c{clients}",
                              f"-d{seconds:.0f}s", "--latency", "-s", script.name, url + "/"],
                             capture_output=True, text=True, check=True).stdout

    def ms(label: str) -> float:
        value, unit = re.search(rf"^\s*{label}\s+([\d.]+)(us|ms|s)\s*$", out, re.M).groups()
        return float(value) * {"us": 1e-3, "ms": 1.0, "s": 1e3}[unit]

    total = int(re.search(r"(\d+) requests in", out).group(1))
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    socket_errors = re.search(r"Socket errors: (.*)", out)
    errors = int(bad.group(1)) if bad else 0
    failures = [("non-2xx", errors)] if errors else []
    if socket_errors:
        counts = [int(n) for n in re.findall(r"\d+", socket_errors.group(1))]
        errors += sum(counts)
        failures.append((f"socket errors: {socket_errors.group(1)}", sum(counts)))
    return {"requests": total, "errors": errors, "seconds": seconds,
            "rps": float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1)),
            "p50_ms": ms("50%"), "p99_ms": ms("99%"), "failures": failures}


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=60.0)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--threads", type=int, default=1,
                        help="the server's encoder threads per conversion (serve's default)")
    parser.add_argument("--processes", default="1,2",
                        help="server processes, one run per comma-separated count")
    parser.add_argument("--client", choices=("wrk", "httpx"),
                        default="wrk" if shutil.which("wrk") else "httpx")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()

    clauses = pinyin_clauses()
    rows, batch_rows, failures = [], [], []
    for processes in [int(n) for n in args.processes.split(",")]:
        with running_server(args.model, args.threads, processes) as (url, _):
            result = (run_wrk(url, clauses, args.clients, args.seconds)
                      if args.client == "wrk" else
                      asyncio.run(run_clients(url, clauses, args.clients, args.seconds)))
            if args.client == "wrk":
                batched = run_wrk(url, clauses, BATCH_CLIENTS, args.seconds / 2, BATCH)
                batch_rows.append(
                    f"| {processes} | {BATCH_CLIENTS} | {BATCH} | {batched['requests']} | "
                    f"{batched['rps'] * BATCH:.0f} | {batched['p50_ms']:.0f} | "
                    f"{batched['p99_ms']:.0f} | {batched['errors']} |")
                print(batch_rows[-1], flush=True)
                failures += [(f"{processes} processes, batch route: {why}", n)
                             for why, n in batched["failures"]]
        rows.append(f"| {processes} | {args.clients} | {result['requests']} | "
                    f"{result['rps']:.1f} | {result['p50_ms']:.1f} | {result['p99_ms']:.1f} | "
                    f"{result['errors']} |")
        print(rows[-1], flush=True)
        failures += [(f"{processes} processes: {why}", n) for why, n in result["failures"]]

    model = args.model.name if args.model else "shipped default_model"
    client = ("wrk (2 threads)" if args.client == "wrk" else "one asyncio loop of httpx")
    table = ("## HTTP service under load\n\n"
             f"Command: `{command()}` (revision {git_revision()})  \nMachine: {machine()}\n\n"
             f"`pinyin-hanzi serve --processes N` ({model}, backend auto, encoder threads "
             f"per conversion: {args.threads}, conversions at once: the CPUs shared among "
             f"the processes; the connections dealt to the processes in turn, the requests "
             f"waiting in a process converted together) and {args.clients} concurrent "
             f"connections of {client} on the "
             f"same machine, each POSTing one clause of {CLAUSES.name} at a time to "
             f"/v1/convert for {args.seconds:.0f} s.\n\n"
             "| processes | clients | requests | requests/s | p50 ms | p99 ms | errors |\n"
             "|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if batch_rows:
        table += (f"\nThe batch route: {BATCH_CLIENTS} connections POSTing {BATCH} clauses at a "
                  f"time to /v1/convert/batch for {args.seconds / 2:.0f} s.\n\n"
                  "| processes | clients | clauses per request | requests | clauses/s | "
                  "p50 ms | p99 ms | errors |\n|---|---|---|---|---|---|---|---|\n"
                  + "\n".join(batch_rows) + "\n")
    if failures:  # what went wrong, as the client saw it
        table += "\nErrors: " + "; ".join(f"{why or 'no message'} (x{count})"
                                           for why, count in failures) + "\n"
    print(table)
    if not args.no_write:
        write_section("load", table)


if __name__ == "__main__":
    main()
