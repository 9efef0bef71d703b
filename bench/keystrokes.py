"""Latency per keystroke of a typing session: one more letter typed, then its candidates.

    python bench/keystrokes.py [--model DIR] [--clauses 300] [--core 1]

Each clause's pinyin (no separators, as users type it) is typed one letter at a time into a
runtime.session.Session (its defaults: the last syllable may be unfinished, abbreviations
read, 5 whole conversions then words and hanzi for the start); each keystroke is timed from
`type` to the end of `candidates()`, the context left empty. One thread, pinned to `--core`
when taskset is there (what an input method on one core of a busy laptop gets). The first
clause of each file warms up and is not counted. The table goes to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import statistics
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.pinyin import PinyinError  # noqa: E402
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402
from pinyin_hanzi.runtime.session import Session  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]


def files() -> list[Path]:
    candidates = [benchmark_dir() / "pd98_test.tsv", benchmark_dir() / "reviews_test.tsv",
                  ROOT / "runs/heldout/debian_test.tsv", ROOT / "runs/heldout/hsk_test.tsv"]
    return [p for p in candidates if p.is_file()]


def keystroke_ms(conv: Converter, keys: str) -> list[float]:
    session, out = Session(conv), []
    for key in keys:
        start = time.perf_counter()
        session.type(key)
        try:
            session.candidates()
        except PinyinError:  # not pinyin yet: the keys stay on screen as typed
            pass
        out.append(1000 * (time.perf_counter() - start))
    return out


def summary(ms: list[float], digits: int = 2) -> str:
    """Table cells: how many, median, p95, p99 and max of times in ms."""
    ms = sorted(ms)
    at = lambda q: ms[min(len(ms) - 1, int(q * len(ms)))]  # noqa: E731
    return (f"{len(ms)} | {statistics.median(ms):.{digits}f} | {at(0.95):.{digits}f} | "
            f"{at(0.99):.{digits}f} | {ms[-1]:.1f}")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--clauses", type=int, default=300)
    parser.add_argument("--core", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if args.core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    conv = Converter.load(args.model, threads=1)
    rows, every = [], []
    for path in files():
        lines = [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8")]
        keys = [pinyin.replace(" ", "") for pinyin, _ in lines[:args.clauses + 1]]
        keystroke_ms(conv, keys[0])
        ms = [t for k in keys[1:] for t in keystroke_ms(conv, k)]
        every += ms
        rows.append(f"| {path.stem} | {summary(ms)} |")
        print(rows[-1], flush=True)
    rows.append(f"| all | {summary(every)} |")
    print(rows[-1])
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}.\n"
            f"Model: {args.model.name} ({conv.encoder.name}). {args.clauses} clauses of "
            "each file typed a letter at a time into a Session; each keystroke timed from "
            "`type` to the end of `candidates()` (goal: median <= 3 ms).\n\n"
            "| file | keystrokes | median ms | p95 ms | p99 ms | max ms |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if not args.no_write:
        write_section("keystrokes", "## Latency per keystroke (typing session)\n\n" + body)


if __name__ == "__main__":
    main()
