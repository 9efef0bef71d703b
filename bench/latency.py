"""Latency, memory and cold start of the conversion engine, as an input method sees them.

    python bench/latency.py [--model DIR] [--backends onnx,torch] [--clauses 500] [--core 0]
                            [--repeats 1]

Each backend runs in a fresh process pinned to one core with one encoder thread: it imports
the package and loads the model (cold start), converts 50 warm-up clauses of
bench/data/pd98_test.tsv, then times `convert(clause, top_k=5)` one clause at a time
(bench/data/README.md's protocol). Memory is that process's peak resident set, and its
resident set after the timed clauses (what an input method holds while it runs). The
table goes to docs/BENCHMARKS.md; the machines are shared, so compare rows of one run, and
`--repeats N` measures each backend N times, interleaved, one row each, to show the spread.
"""

from __future__ import annotations

import argparse
import json
import os
import statistics
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

WARMUP = 50
# The budget (issue 4, and issue 18 for memory once the LMs grew), and libime on the same file.
TARGETS = {"median_ms": 3.0, "p95_ms": 8.0, "rss_mb": 100, "cold_s": 1.5}
LIBIME = "3.0 ms / 8.4 ms / 29 MB"


def worker(model: str | None, backend: str, clauses: int, clause_file: Path) -> dict:
    """Runs inside the pinned child process; prints one JSON line."""
    start = time.perf_counter()
    from pinyin_hanzi.runtime.converter import Converter

    conv = Converter.load(model, backend=backend, threads=1)
    cold = time.perf_counter() - start
    if backend == "torch":
        import torch

        torch.set_num_threads(1)
    lines = clause_file.read_text(encoding="utf-8").splitlines()
    queries = [line.split("\t")[0] for line in lines][:WARMUP + clauses]
    for q in queries[:WARMUP]:
        conv.convert(q, 5)
    times = []
    for q in queries[WARMUP:]:
        t = time.perf_counter()
        conv.convert(q, 5)
        times.append(time.perf_counter() - t)
    times.sort()
    import resource

    rss_mb = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss / 1024
    return {"backend": conv.label, "cold_s": cold, "clauses": len(times),
            "median_ms": 1000 * statistics.median(times),
            "p95_ms": 1000 * times[int(0.95 * (len(times) - 1))], "rss_mb": rss_mb,
            "rss_end_mb": resident_mb()}


def resident_mb() -> float:
    """The resident set now (Linux's /proc), after the timed clauses; NaN elsewhere."""
    try:
        status = Path("/proc/self/status").read_text()
        return int(status.split("VmRSS:")[1].split()[0]) / 1024
    except (OSError, IndexError, ValueError):
        return float("nan")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", default=None, help="model directory (default: shipped)")
    parser.add_argument("--backends", default="onnx,torch")
    parser.add_argument("--clauses", type=int, default=500)
    parser.add_argument("--core", type=int, default=0, help="CPU core to pin the child to")
    parser.add_argument("--worker", help=argparse.SUPPRESS)
    parser.add_argument("--clause-file", type=Path, help=argparse.SUPPRESS)
    parser.add_argument("--repeats", type=int, default=1, help="runs per backend")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.worker:
        print(json.dumps(worker(args.model, args.worker, args.clauses, args.clause_file)))
        return

    # The parent finds the file, so the measured child imports nothing but the runtime.
    from pinyin_hanzi.data.decontaminate import benchmark_dir

    clause_file = benchmark_dir() / "pd98_test.tsv"
    rows = []
    for backend in args.backends.split(",") * args.repeats:
        cmd = [sys.executable, __file__, "--worker", backend, "--clauses", str(args.clauses),
               "--clause-file", str(clause_file)]
        if args.model:
            cmd += ["--model", args.model]
        env = dict(os.environ, OMP_NUM_THREADS="1", MKL_NUM_THREADS="1")
        out = subprocess.run(["taskset", "-c", str(args.core), *cmd], capture_output=True,
                             text=True, env=env)
        if out.returncode:
            sys.exit(f"{backend}: {out.stderr.strip().splitlines()[-1]}")
        r = json.loads(out.stdout.strip().splitlines()[-1])
        rows.append(f"| {r['backend']} | {r['median_ms']:.1f} | {r['p95_ms']:.1f} | "
                    f"{r['rss_mb']:.0f} | {r['rss_end_mb']:.0f} | {r['cold_s']:.2f} | "
                    f"{r['clauses']} |")
        print(rows[-1], flush=True)

    table = ("## Latency, memory, cold start (one clause at a time, top-5)\n\n"
             f"Command: `{command()}` (revision {git_revision()})  \nMachine: {machine()}; "
             f"child process pinned to core {args.core} with `taskset`, 1 encoder thread, "
             f"OMP_NUM_THREADS=1, {WARMUP} warm-up clauses of pd98_test.tsv.\n\n"
             f"Targets (issues 4 and 18): median <= {TARGETS['median_ms']} ms, p95 <= "
             f"{TARGETS['p95_ms']} ms, peak RSS <= {TARGETS['rss_mb']} MB, cold start <= "
             f"{TARGETS['cold_s']} s. libime on the same file: {LIBIME}.\n\n"
             "| engine | median ms | p95 ms | peak RSS MB | RSS after MB | cold start s | "
             "clauses |\n|---|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(table)
    if not args.no_write:
        write_section("latency", table)


if __name__ == "__main__":
    main()
