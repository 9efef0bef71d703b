"""Tune typed-input decoding on dev clauses, never on the test files: accuracy per variant and
whether the reading the clause was written in is among the readings converted.

    python dev/forms_dev.py [--variants mix30,fuzzy,unfinished,initials]
                            [--domains kernel,tatoeba,ted] [--clauses 200] [--peers /tmp/peers]

The dev clauses are each domain's dev split of runs/data_all, exported once to
runs/dev_forms/<domain>_dev.tsv (data/export_tsv.py, 400 spread clauses). Each variant is
bench/input_forms.py's, with its seed, written to runs/dev_forms/variants/. Per file: char and
top-1 % (evaluate.py), "gold reading in" (% of clauses whose original syllables are among
`Converter.readings`: below 100 the reading search misses; near 100 the merge of the
readings' candidates picks wrong), readings per input, ms per clause; libime on the same
inputs when its driver is set up (`--peers`). Session 13 chose the reading settings with it
(dev/EXPERIMENTS.md).
"""

from __future__ import annotations

import argparse
import os
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))
from accuracy import peer_results  # noqa: E402
from input_forms import VARIANTS, write_variant  # noqa: E402

from pinyin_hanzi.data.export_tsv import export_tsv  # noqa: E402
from pinyin_hanzi.evaluate import evaluate  # noqa: E402
from pinyin_hanzi.runtime.converter import DEFAULT_MODEL, Converter  # noqa: E402

DEV = ROOT / "runs" / "dev_forms"


def dev_rows(domain: str, clauses: int, data: Path) -> list[tuple[list[str], str]]:
    path = DEV / f"{domain}_dev.tsv"
    if not path.is_file():
        DEV.mkdir(parents=True, exist_ok=True)
        export_tsv(data, "dev", path, (domain,), limit=400)
    rows = [line.rstrip("\n").split("\t") for line in path.open(encoding="utf-8")]
    return [(p.split(), h) for p, h in rows[:clauses]]


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--model", type=Path, default=DEFAULT_MODEL)
    parser.add_argument("--data", type=Path, default=ROOT / "runs" / "data_all")
    parser.add_argument("--variants", default="mix30,fuzzy,unfinished,initials")
    parser.add_argument("--domains", default="kernel,tatoeba,ted")
    parser.add_argument("--clauses", type=int, default=200)
    parser.add_argument("--peers", type=Path, default=None)
    args = parser.parse_args()

    conv = Converter.load(args.model, threads=1)
    out = DEV / "variants"
    out.mkdir(parents=True, exist_ok=True)
    for variant in args.variants.split(","):
        rewrite, options, flags = VARIANTS[variant]
        files, gold = {}, {}
        for domain in args.domains.split(","):
            rows = dev_rows(domain, args.clauses, args.data)
            label = f"{domain} {variant}"
            files[label] = write_variant(f"{domain}_{variant}", rows, rewrite, out)
            gold[label] = [tuple(syllables) for syllables, _ in rows]
        for label, path in files.items():
            typed = [line.split("\t")[0] for line in path.open(encoding="utf-8")]
            started = time.perf_counter()
            result = evaluate(lambda xs: conv.convert_many(xs, 5, options=options), path, 5,
                              batch_size=1)
            ms = 1000 * (time.perf_counter() - started) / len(typed)
            inside = readings = 0
            for text, syllables in zip(typed, gold[label]):
                try:
                    found = conv.readings(text, options)
                except ValueError:
                    continue
                inside += syllables in found
                readings += len(found)
            print(f"{label:20s} char {100 * result['char_acc']:.2f} top-1 "
                  f"{100 * result['top1']:.1f} gold reading in {100 * inside / len(typed):.1f} "
                  f"% readings {readings / len(typed):.2f} ms {ms:.1f}", flush=True)
        if args.peers is not None:
            os.environ["LIBIME_FUZZY"] = flags
            for label, r in (peer_results("libime", files, args.peers) or {}).items():
                print(f"{label:20s} libime char {100 * r['char_acc']:.2f} top-1 "
                      f"{100 * r['top1']:.1f}", flush=True)


if __name__ == "__main__":
    main()
