"""Experiment driver (dev/EXPERIMENTS.md, session 14): decoding weights around a model's own
(decode.json), on dev clauses of every source, its LMs and encoder scores computed once; the
mean over sources of clause top-1 and characters, as decode/tune.py ranks them.

python dev/decode_sweep.py --dev-clauses 1000 --words 1.2,1.5 --chars 0.5,0.7 --bonuses -4
"""
import argparse
import dataclasses
import itertools
import json
from pathlib import Path

from pinyin_hanzi.data.export_tsv import clause_pairs, spread
from pinyin_hanzi.decode import make_decoder
from pinyin_hanzi.decode.tune import dev_accuracy
from pinyin_hanzi.runtime.converter import Converter

ap = argparse.ArgumentParser()
ap.add_argument("--model", type=Path, default=None)
ap.add_argument("--data", type=Path, default=Path("runs/data_all"))
ap.add_argument("--sources", default="pd98,reviews,fiction,ted,hk,tatoeba,dictionary,"
                "manpages,lohelp,kernel")
ap.add_argument("--dev-clauses", type=int, default=1000)
ap.add_argument("--words", default="")
ap.add_argument("--chars", default="")
ap.add_argument("--bonuses", default="")
args = ap.parse_args()


def values(text, default):
    return [float(v) for v in text.split(",")] if text else [default]


conv = Converter.load(args.model)
sources = args.sources.split(",")
dev = {s: spread(clause_pairs(args.data, "dev", (s,)), args.dev_clauses) for s in sources}
scores = {s: conv.candidate_scores([x for x, _ in p]) for s, p in dev.items()}
base = conv.config
for w, c, b in itertools.product(values(args.words, base.word_weight),
                                 values(args.chars, base.lm_weight),
                                 values(args.bonuses, base.word_bonus)):
    config = dataclasses.replace(base, word_weight=w, lm_weight=c, word_bonus=b)
    decoder = make_decoder(conv.vocab, config, conv.word_lm, conv.char_lm)
    result = {s: dev_accuracy(decoder, dev[s], scores[s]) for s in sources}
    mean = [round(100 * sum(r[k] for r in result.values()) / len(result), 3)
            for k in ("top1", "char_acc")]
    print(json.dumps({"words": w, "chars": c, "bonus": b, "mean top1/char": mean,
                      **{s: [round(100 * r["char_acc"], 2), round(100 * r["top1"], 1)]
                         for s, r in result.items()}}), flush=True)
