"""Accuracy of the shipped model and the n-gram baselines on the public benchmarks.

    python bench/accuracy.py [--model DIR] [--data runs/data] [--orders 2,3]

The baselines are character n-gram HMMs (ngram.py) trained on the same training split as the
model (`--data`, from `pinyin-hanzi prepare`), sources pd98 + reviews. Scoring follows
../shared/bench/README.md (evaluate.py). Writes the table to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import json
import os
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.api import DEFAULT_MODEL, Converter  # noqa: E402
from pinyin_hanzi.evaluate import evaluate  # noqa: E402
from pinyin_hanzi.ngram import (CharNgram, NgramConverter, pair_counts_from,  # noqa: E402
                                training_clauses)
from pinyin_hanzi.vocab import Vocab  # noqa: E402

BENCH = Path(os.environ.get("PINYIN_HANZI_BENCH_DIR",
                            Path(__file__).resolve().parents[2] / "shared" / "bench"))
FILES = ("pd98_test.tsv", "reviews_test.tsv")
SOURCES = ("pd98", "reviews")
# What existing engines score (../shared/bench/README.md), for the same table.
ENGINES = {
    "libime 1.0.16 (fcitx5)": ("90.54 / 58.2 / 74.2", "92.61 / 66.7 / 85.8"),
    "libpinyin 2.8.1": ("90.42 / 54.9 / 59.8", "87.47 / 48.4 / 53.5"),
    "SunPinyin 3.0": ("88.52 / 49.4 / 64.2", "92.01 / 62.1 / 78.7"),
}


def cell(r: dict) -> str:
    return f"{100 * r['char_acc']:.2f} / {100 * r['top1']:.1f} / {100 * r['top5']:.1f}"


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=Path("runs/data"))
    parser.add_argument("--orders", default="2,3", help="n-gram baselines to train ('' = none)")
    args = parser.parse_args()

    rows, details = [], {}
    conv = Converter.load(args.model)
    name = (f"ours: {conv.label}" + (", word lattice" if conv.wordlm else "")
            + (f", {conv.lm.order}-gram fusion" if conv.lm else ""))
    results = [evaluate(lambda xs: conv.convert_many(xs, 5), BENCH / f) for f in FILES]
    rows.append([name, *map(cell, results)])
    details[name] = results
    for order in filter(None, args.orders.split(",")):
        lm = CharNgram.train(training_clauses(args.data, SOURCES), int(order))
        vocab = Vocab.load(args.data / "vocab.json")
        baseline = NgramConverter(lm, vocab, pair_counts_from(args.data, SOURCES))
        name = f"baseline: char {order}-gram HMM, same training split"
        results = [evaluate(lambda xs: baseline.convert_many(xs, 5), BENCH / f) for f in FILES]
        rows.append([name, *map(cell, results)])
        details[name] = results
    for engine, cells in ENGINES.items():
        rows.append([f"{engine} (../shared/bench)", *cells])

    table = ("## Accuracy on the public benchmarks\n\n"
             f"Command: `{command()}` (revision {git_revision()})  \nMachine: {machine()}\n\n"
             "Character accuracy / clause top-1 / clause top-5, in %, one clause at a time, "
             "no context, perfect toneless pinyin.\n\n"
             f"| engine | {' | '.join(FILES)} |\n|---|---|---|\n"
             + "".join(f"| {' | '.join(r)} |\n" for r in rows))
    print(table)
    write_section("accuracy", table)
    out = Path("runs/bench_accuracy.json")
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps(details, ensure_ascii=False, indent=1))


if __name__ == "__main__":
    main()
