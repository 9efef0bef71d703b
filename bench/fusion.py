"""Tune the weight of a character n-gram fused into the model's beam, on dev data only.

    python bench/fusion.py --model DIR --data runs/data [--order 3] [--prune 2]
                           [--weights 0,0.1,0.2,0.3,0.5] [--install]

Dev files are the dev split's pd98 and reviews clauses (4-32 hanzi, as the benchmarks); the
public benchmarks are never used for tuning. With --install, ngram.json and decode.json (the
best weight) are written into the model directory.
"""

from __future__ import annotations

import argparse
import json
from pathlib import Path

from pinyin_hanzi.api import Converter, DecodeConfig
from pinyin_hanzi.data.export_tsv import export_tsv
from pinyin_hanzi.evaluate import evaluate
from pinyin_hanzi.ngram import CharNgram, training_clauses
from pinyin_hanzi.vocab import atomic_write_text

SOURCES = ("pd98", "reviews")


def main():
    parser = argparse.ArgumentParser(description=__doc__)
    parser.add_argument("--model", type=Path, required=True)
    parser.add_argument("--data", type=Path, default=Path("runs/data"))
    parser.add_argument("--order", type=int, default=3)
    parser.add_argument("--prune", type=int, default=2)
    parser.add_argument("--weights", default="0,0.1,0.2,0.3,0.5")
    parser.add_argument("--dev-clauses", type=int, default=1000)
    parser.add_argument("--install", action="store_true")
    args = parser.parse_args()

    dev_files = []
    for source in SOURCES:
        path = Path("runs") / f"dev_{source}.tsv"
        export_tsv(args.data, "dev", path, (source,), limit=args.dev_clauses)
        dev_files.append(path)
    lm = CharNgram.train(training_clauses(args.data, SOURCES), args.order, args.prune)
    conv = Converter.load(args.model)
    conv.lm = lm
    results = {}
    for weight in (float(w) for w in args.weights.split(",")):
        conv.decode = DecodeConfig(lm_weight=weight)
        scores = [evaluate(lambda xs: conv.convert_many(xs, 5), f) for f in dev_files]
        results[weight] = scores
        print(f"lm_weight {weight}: " + "  ".join(
            f"{f.stem} {100 * r['char_acc']:.2f}/{100 * r['top1']:.1f}/{100 * r['top5']:.1f}"
            for f, r in zip(dev_files, scores)), flush=True)
    best = max(results, key=lambda w: sum(r["top1"] for r in results[w]))
    print(f"best weight on dev (mean clause top-1): {best}; n-grams: {len(lm.counts):,}")
    if args.install:
        lm.save(args.model / "ngram.json")
        atomic_write_text(args.model / "decode.json",
                          json.dumps({"lm_weight": best, "beam": 16, "width": 8}))
        print(f"installed into {args.model}")


if __name__ == "__main__":
    main()
