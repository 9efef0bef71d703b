"""Experiment driver (dev/EXPERIMENTS.md, session 7): sweep LM settings (pruning, prior weight) and decoding weights on dev; one encoder.

python dev/lm_sweep.py --model DIR --data runs/data_all --out runs/sweep.jsonl \
    --variants "c2w1p0,c3w2p0,..."   (c = char trigram prune, w = word bigram prune, p = prior)
"""
import argparse
import json
import re
import time
from pathlib import Path

from pinyin_hanzi.data.export_tsv import clause_pairs, spread
from pinyin_hanzi.decode import DecodeConfig, make_decoder
from pinyin_hanzi.decode.tune import dev_accuracy
from pinyin_hanzi.lm.corpus import listed_words, training_clauses, training_words
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.lm.priors import wordfreq_prior
from pinyin_hanzi.lm.words import WordLM
from pinyin_hanzi.runtime.converter import Converter

ap = argparse.ArgumentParser()
ap.add_argument("--model", type=Path, required=True)
ap.add_argument("--data", type=Path, default=Path("runs/data_all"))
ap.add_argument("--sources", default="pd98,reviews,fiction,ted,hk,tatoeba,dictionary,"
                "manpages,lohelp,kernel")
ap.add_argument("--train-sources", default="")
ap.add_argument("--dev-clauses", type=int, default=300)
ap.add_argument("--variants", required=True)
ap.add_argument("--grid", default="1.0:-3:0.5,1.2:-3:0.5,1.2:-4:0.5,1.5:-4:0.5,1.2:-4:0.7,"
                "1.5:-5:0.7")
ap.add_argument("--out", type=Path, required=True)
args = ap.parse_args()

sources = tuple(args.sources.split(","))
train_sources = tuple(args.train_sources.split(",")) if args.train_sources else sources
conv = Converter.load(args.model)
dev = {s: spread(clause_pairs(args.data, "dev", (s,)), args.dev_clauses) for s in sources}
scores = {s: conv.candidate_scores([x for x, _ in p]) for s, p in dev.items()}
grid = [DecodeConfig(lm_weight=float(c), word_weight=float(w), word_bonus=float(b))
        for w, b, c in (g.split(":") for g in args.grid.split(","))]
t = time.time()
words = list(training_words(args.data, train_sources))
listed = list(listed_words(args.data))
print(f"segmented in {time.time() - t:.0f} s", flush=True)
prior = wordfreq_prior()
char_cache, word_cache = {}, {}
for variant in args.variants.split(","):
    c, w, p = re.fullmatch(r"c(\d+)w(\d+)p([\d.]+)", variant).groups()
    if c not in char_cache:
        char_cache[c] = CharNgram.train(training_clauses(args.data, train_sources), 3, int(c))
    if (w, p) not in word_cache:
        word_cache[(w, p)] = WordLM.train(words, listed, int(w), prior=prior,
                                          prior_weight=float(p))
    char_lm, word_lm = char_cache[c], word_cache[(w, p)]
    def table_mb(t):
        return sum(a.nbytes for a in (t.rows, t.next, t.counts, t.d, t.histories)
                   if a is not None) / 1e6
    char_mb = sum(table_mb(t) for t in char_lm.tables)
    word_mb = (table_mb(word_lm.bigrams) + (word_lm.text.nbytes + word_lm.counts.nbytes
               + word_lm.reading_keys.nbytes + word_lm.reading_words.nbytes) / 1e6)
    for config in grid:
        decoder = make_decoder(conv.vocab, config, word_lm, char_lm)
        res = {}
        for s, pairs in dev.items():
            acc = dev_accuracy(decoder, pairs, scores[s])
            res[s] = (round(100 * acc["char_acc"], 2), round(100 * acc["top1"], 1))
        mean = (round(sum(v[0] for v in res.values()) / len(res), 2),
                round(sum(v[1] for v in res.values()) / len(res), 2))
        row = {"variant": variant, "decode": [config.word_weight, config.word_bonus,
                                              config.lm_weight],
               "mean": mean, "dev": res, "char_ngrams": len(char_lm),
               "words": len(word_lm), "bigrams": len(word_lm.bigrams),
               "char_mb": round(char_mb, 1), "word_mb": round(word_mb, 1)}
        print(json.dumps(row), flush=True)
        with open(args.out, "a") as f:
            f.write(json.dumps(row) + "\n")
