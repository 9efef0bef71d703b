"""What learning from the user buys: a user commits `--clauses` clauses of one domain, then
types the next `--clauses` of it. python bench/learning.py [--model DIR] [--clauses 500]

Each file is read in order (debian_test and hsk_test from bench/heldout.py, the review
benchmark, the domain test splits bench/accuracy.py exported to runs/bench_domains/). Its
first clauses are committed into a fresh runtime.history.UserHistory; the next ones are typed
into a Session with and without it and scored on the first candidate (char / clause %), as
bench/accuracy.py scores. The history's weight (0.5) was chosen on the TED split; the other
files are reported with it. The table goes to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402
from pinyin_hanzi.runtime.history import UserHistory  # noqa: E402
from pinyin_hanzi.runtime.session import Session  # noqa: E402
from pinyin_hanzi.spelling import InputOptions  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
DOMAINS = ("ted", "fiction", "hk", "tatoeba", "manpages", "lohelp")
MIN_CLAUSES = 200  # committed and typed each, at the least


def files() -> list[Path]:
    candidates = [ROOT / "runs/heldout/debian_test.tsv", ROOT / "runs/heldout/hsk_test.tsv",
                  benchmark_dir() / "reviews_test.tsv"]
    candidates += [ROOT / "runs/bench_domains" / f"{d}_test.tsv" for d in DOMAINS]
    return [p for p in candidates if p.is_file()]


def score(conv: Converter, rows, history: UserHistory | None) -> tuple[float, float]:
    right = total = whole = 0
    for pinyin, hanzi in rows:
        session = Session(conv, options=InputOptions(), history=history)
        session.type(pinyin)
        best = session.candidates()[0].text
        right += sum(a == b for a, b in zip(best, hanzi))
        total += len(hanzi)
        whole += best == hanzi
    return 100 * right / total, 100 * whole / len(rows)


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--clauses", type=int, default=500)
    args = parser.parse_args()
    conv = Converter.load(args.model, threads=1)
    rows = []
    for path in files():
        lines = [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8")]
        # A file shorter than 2 x --clauses is split in halves (TED's test split: 882).
        half = min(args.clauses, len(lines) // 2)
        committed, typed = lines[:half], lines[half:2 * half]
        if half < MIN_CLAUSES:
            print(f"{path.name}: fewer than {2 * MIN_CLAUSES} clauses, skipped")
            continue
        history = UserHistory()
        for _, hanzi in committed:
            history.remember(hanzi)
        before, after = score(conv, typed, None), score(conv, typed, history)
        tuned = " (the weight was chosen on it)" if path.stem == "ted_test" else ""
        rows.append(f"| {path.stem} ({half} + {half}){tuned} | {before[0]:.2f} / {before[1]:.1f} | "
                    f"{after[0]:.2f} / {after[1]:.1f} | {after[0] - before[0]:+.2f} |")
        print(rows[-1], flush=True)
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}.\n"
            f"A user commits {args.clauses} clauses of a file, then types its next "
            f"{args.clauses} (a shorter file: its halves): first candidate, char / clause %, "
            "without and with the history (runtime/history.py, weight 0.5 chosen on ted).\n\n"
            "| file | without | with history | char gain |\n|---|---|---|---|\n"
            + "\n".join(rows) + "\n")
    write_section("learning", "## Learning from the user\n\n" + body)


if __name__ == "__main__":
    main()
