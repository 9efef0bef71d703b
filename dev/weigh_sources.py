"""Which source weights in the language models' counts, with which encoder? Reads the training
text once (jieba cuts it once), then for each weighting fits the character n-gram and the word
model as `pinyin-hanzi lm --source-weights` would, and decodes the dev clauses of every source
at a few decode settings around the shipped one, with each encoder's scores:

    python dev/weigh_sources.py --sources pd98,reviews,... --watch tv_subtitles_dgk,lit_essays \
        --model pinyin_hanzi/assets/default_model --model runs/enc_w0.5 --prior-weights 1,2 \
        --config 'even:' --config 'old2:pd98=2,reviews=2' --config 'old2@9:pd98=2,reviews=2' \
        --out runs/weigh.jsonl

A config is NAME[@PRUNE[/WORD_PRUNE]]:SOURCE=TIMES,...; they override --prune and --word-prune.
--watch sources are scored but neither trained on nor counted in the mean that chooses (the
leave-one-source-out view). One JSON line per (weighting, prior, encoder, decode setting) goes
to --out; dev/EXPERIMENTS.md (session 17) has the runs.
"""

from __future__ import annotations

import argparse
import json
import time
from pathlib import Path

from pinyin_hanzi.data.export_tsv import clause_pairs, spread
from pinyin_hanzi.data.records import hanzi_runs, iter_records
from pinyin_hanzi.decode.config import DecodeConfig
from pinyin_hanzi.decode.tune import describe, tune
from pinyin_hanzi.lm.corpus import readable_words, check_weights, listed_words, source_weight
from pinyin_hanzi.lm.ngram import CharNgram
from pinyin_hanzi.lm.priors import wordfreq_prior
from pinyin_hanzi.lm.words import WordLM
from pinyin_hanzi.runtime.converter import Converter

GRID = tuple(DecodeConfig(lm_weight=c, word_weight=w, word_bonus=-4.0)
             for w, c in ((1.5, 0.7), (1.2, 0.7), (1.5, 0.5), (1.8, 0.9)))


def parse_config(text: str) -> tuple[str, dict[str, int]]:
    name, _, spec = text.partition(":")
    weights = {k.strip(): int(v) for k, v in
               (item.split("=") for item in spec.split(",") if item.strip())}
    return name, weights


def read_text(data_dir: Path, sources: tuple[str, ...]):
    """[(source, hanzi runs, jieba pieces)] of every training record, read once."""
    import jieba

    jieba.setLogLevel(60)
    records = []
    for record in iter_records(data_dir, "train", sources):
        runs = [record["text"][a:b] for a, b in hanzi_runs(record)]
        records.append((record["source"], runs, list(readable_words(record, jieba.lcut))))
    return records


def main():
    ap = argparse.ArgumentParser(description=__doc__)
    ap.add_argument("--model", type=Path, action="append",
                    help="encoder(s) to score with, each a model directory (default: shipped)")
    ap.add_argument("--data", type=Path, default=Path("runs/data_modern"))
    ap.add_argument("--sources", required=True)
    ap.add_argument("--watch", default="")
    ap.add_argument("--config", action="append", required=True)
    ap.add_argument("--prune", type=int, default=7)
    ap.add_argument("--word-prune", type=int, default=2)
    ap.add_argument("--prior-weights", default="1", help="comma-separated; each is tried")
    ap.add_argument("--dev-clauses", type=int, default=300)
    ap.add_argument("--out", type=Path, required=True)
    args = ap.parse_args()
    sources = tuple(s for s in args.sources.split(",") if s)
    watch = tuple(s for s in args.watch.split(",") if s)
    configs = [parse_config(c) for c in args.config]
    for _, weights in configs:
        check_weights(weights, sources)

    t = time.time()
    models = args.model or [Path("pinyin_hanzi/assets/default_model")]
    dev = {s: spread(clause_pairs(args.data, "dev", (s,)), args.dev_clauses)
           for s in sources + watch}
    encoders = {}
    for model in models:
        conv = Converter.load(model)
        encoders[model.name] = conv.vocab, {
            s: (pairs, conv.candidate_scores([x for x, _ in pairs]))
            for s, pairs in dev.items() if pairs}
    records = read_text(args.data, sources)
    listed = list(listed_words(args.data))
    prior_weights = [float(w) for w in args.prior_weights.split(",")]
    prior = wordfreq_prior() if max(prior_weights) > 0 else None
    print(f"read {len(records):,} records, dev of {len(dev)} sources in "
          f"{time.time() - t:.0f} s", flush=True)
    multi = len(encoders) > 1

    for name, weights in configs:
        t = time.time()
        times = [(runs, pieces, source_weight(s, weights)) for s, runs, pieces in records]
        # name@9/3: character n-grams pruned at 9, word bigrams at 3
        prune, _, word_prune = name.partition("@")[2].partition("/")
        char_lm = CharNgram.train((c for runs, _, n in times for _ in range(n) for c in runs),
                                  3, int(prune or args.prune))
        for prior_weight in prior_weights:
            word_lm = WordLM.train((p for _, pieces, n in times for _ in range(n)
                                    for p in pieces), listed,
                                   int(word_prune or args.word_prune),
                                   prior=prior, prior_weight=prior_weight)
            for model, (vocab, scored) in encoders.items():
                _, results = tune(vocab, word_lm, char_lm, scored, GRID, log=lambda _: None)
                label = f"{name} prior {prior_weight}" + (f" {model}" if multi else "")
                for config, scores in results:
                    report(args.out, label, weights, config, scores, sources, char_lm,
                           word_lm)
        print(f"{name}: fitted and scored in {time.time() - t:.0f} s", flush=True)


def report(out, name, weights, config, scores, sources, char_lm, word_lm):
    chosen = [scores[s] for s in sources if s in scores]
    row = {"weighting": name, "weights": weights, "decode": describe(config),
           "char_ngrams": len(char_lm), "words": len(word_lm),
           "word_bigrams": len(word_lm.bigrams),
           "mean_top1": 100 * sum(v["top1"] for v in chosen) / len(chosen),
           "mean_char": 100 * sum(v["char_acc"] for v in chosen) / len(chosen),
           "dev": {s: [round(100 * v["char_acc"], 2), round(100 * v["top1"], 1)]
                   for s, v in scores.items()}}
    with open(out, "a", encoding="utf-8") as f:
        f.write(json.dumps(row, ensure_ascii=False) + "\n")
    print(f"{name} {describe(config)}: {len(char_lm):,} n-grams, mean "
          f"{row['mean_char']:.2f}/{row['mean_top1']:.2f}; "
          + " ".join(f"{s} {a}/{b}" for s, (a, b) in row["dev"].items()), flush=True)


if __name__ == "__main__":
    main()
