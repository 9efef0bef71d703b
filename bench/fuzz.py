"""The long fuzzing run: tests/runtime/test_fuzz.py with many examples, and what it ran.

    python bench/fuzz.py [--examples 20000]

Runs the fuzz tests (every HTTP route against the service's OpenAPI schema with schemathesis;
convert, segment and typing sessions with hypothesis) with `--examples` examples per test,
counts the requests and direct calls made and how they were answered, and writes the table to
docs/BENCHMARKS.md. A failure (a 5xx, an answer off the schema, an exception other than the
ValueError naming the problem) fails the run: hypothesis prints the smallest input that does it.
"""

from __future__ import annotations

import argparse
import json
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--examples", type=int, default=20_000, help="per fuzz test")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        report = Path(tmp) / "calls.json"
        env = dict(os.environ, FUZZ_EXAMPLES=str(args.examples), FUZZ_REPORT=str(report))
        start = time.monotonic()
        run = subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                              "tests/runtime/test_fuzz.py"], cwd=ROOT, env=env)
        minutes = (time.monotonic() - start) / 60
        calls = json.loads(report.read_text()) if report.is_file() else {}
    rows = "\n".join(f"| {what} | {n:,} |" for what, n in sorted(calls.items()))
    verdict = "passed: no 5xx, no answer off the schema, no traceback" if run.returncode == 0 \
        else f"FAILED (pytest exit status {run.returncode})"
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}.\n"
            f"{args.examples:,} examples per fuzz test (tests/runtime/test_fuzz.py), "
            f"{minutes:.0f} min: {verdict}.\n\n| what | count |\n|---|---|\n{rows}\n")
    print(body)
    if not args.no_write:
        write_section("fuzz", "## Fuzzing: the HTTP contract and direct calls\n\n" + body)
    sys.exit(run.returncode)


if __name__ == "__main__":
    main()
