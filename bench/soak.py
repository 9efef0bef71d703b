"""Soak test of the HTTP service: does its memory grow under sustained load?

    python bench/soak.py [--minutes 10] [--clients 32] [--model DIR]

Starts `pinyin-hanzi serve` (one process) as bench/load.py does and keeps CLIENTS wrk
connections POSTing clauses to /v1/convert for MINUTES, one wrk run a minute; after each
minute it reads the server's resident memory (VmRSS in /proc). Growth is the last minute's
RSS against the first's (after the first minute the caches are warm). Needs wrk and Linux.
Writes the table to docs/BENCHMARKS.md (section "soak") unless --no-write.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from load import pinyin_clauses, run_wrk, running_server  # noqa: E402
from report import command, git_revision, machine, write_section  # noqa: E402


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    raise RuntimeError(f"no VmRSS for process {pid}")


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--minutes", type=int, default=10)
    parser.add_argument("--clients", type=int, default=32)
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    clauses = pinyin_clauses()
    rows, rss = [], []
    with running_server(args.model) as (url, server):
        for minute in range(1, args.minutes + 1):
            result = run_wrk(url, clauses, args.clients, 60)
            rss.append(rss_mb(server.pid))
            rows.append(f"| {minute} | {result['requests']} | {result['rps']:.1f} | "
                        f"{result['p99_ms']:.1f} | {result['errors']} | {rss[-1]:.1f} |")
            print(rows[-1], flush=True)
    growth = 100 * (rss[-1] - rss[0]) / rss[0]
    body = (f"Command: `{command()}` (revision {git_revision()})  \nMachine: {machine()}\n\n"
            f"`pinyin-hanzi serve` (one process, {args.model or 'shipped default_model'}) "
            f"under {args.clients} wrk connections for {args.minutes} min; the server's RSS "
            f"after each minute. Growth from minute 1 to {args.minutes}: {growth:+.1f} % "
            "(goal: at most 10 %).\n\n"
            "| minute | requests | requests/s | p99 ms | errors | RSS MB |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    print(body)
    if not args.no_write:
        write_section("soak", "## HTTP service: a 10-minute soak\n\n" + body)


if __name__ == "__main__":
    main()
