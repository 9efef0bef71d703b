"""Fit the language models the decoder fuses with the Transformer, and choose their weights.

    pinyin-hanzi lm --model DIR --data runs/data

On the training split only, it trains a character n-gram (ngram.py) and the word lexicon +
bigram (wordlm.py); then it decodes dev clauses (4-32 hanzi, as the benchmarks) with every
setting of a small grid and writes the best (mean clause top-1 over the sources, then character
accuracy) into the model directory as decode.json, beside ngram.npz and wordlm.npz. The
encoder's scores are computed once and shared by every setting. The public benchmarks are
never used here.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from .api import Converter, DecodeConfig
from .data.export_tsv import clause_pairs, spread
from .evaluate import char_errors
from .ngram import NGRAM_FILE, CharNgram, training_clauses
from .priors import wordfreq_prior
from .vocab import atomic_write_text
from .wordlm import WORDLM_FILE, WordLM, listed_words, training_words

# Character n-gram alone, then the word lattice with the character n-gram; the ranges come
# from the search logged in docs/EXPERIMENTS.md.
GRID = tuple([DecodeConfig(lm_weight=c) for c in (0.8, 1.3)] + [
    DecodeConfig(lm_weight=c, word_weight=w, word_bonus=b)
    for w in (0.6, 0.8, 1.0) for b in (-3.0, -2.0) for c in (0.3, 0.5)] + [
    DecodeConfig(lm_weight=c, word_weight=w, word_bonus=-4.0)
    for w in (1.2, 1.5) for c in (0.5, 0.7)])


def fit(model_dir: Path, data_dir: Path, sources: tuple[str, ...], order: int = 3,
        prune: int = 2, word_prune: int = 1, dev_clauses: int = 1000,
        grid: tuple[DecodeConfig, ...] = GRID, log: Callable[[str], None] = print,
        prior_weight: float = 0.0, tune_only: bool = False) -> dict:
    """Train, tune and install; returns {"decode": best settings, "scores": per setting}.
    prior_weight > 0 adds wordfreq's word frequencies to the word model (priors.py).
    tune_only: keep the LMs already in model_dir (fit for another encoder on the same text,
    say) and choose only their weights."""
    model_dir = Path(model_dir)
    conv = Converter.load(model_dir)
    # Tuned per source (so a big one does not drown a small one); no sources = all as one.
    groups = {s: (s,) for s in sources} or {"dev": None}
    dev = {name: spread(clause_pairs(data_dir, "dev", group), dev_clauses)
           for name, group in groups.items()}
    dev = {name: pairs for name, pairs in dev.items() if pairs}
    if not dev:
        raise ValueError(f"{data_dir}/dev: no clauses of 4-32 hanzi from "
                         f"{', '.join(sources) or 'any source'}")
    if tune_only:
        log(f"tuning the weights of {model_dir}'s {NGRAM_FILE} and {WORDLM_FILE}")
        char_lm = CharNgram.load(model_dir / NGRAM_FILE)
        word_lm = WordLM.load(model_dir / WORDLM_FILE)
    else:
        log(f"training the character {order}-gram on {data_dir}/train "
            f"({', '.join(sources) or 'all sources'})")
        char_lm = CharNgram.train(training_clauses(data_dir, sources), order, prune)
        log("training the word model (jieba words of the training text + listed words)")
        prior = wordfreq_prior() if prior_weight > 0 else None
        word_lm = WordLM.train(training_words(data_dir, sources), listed_words(data_dir),
                               word_prune, prior=prior, prior_weight=prior_weight)
    log(f"  {len(char_lm):,} character n-grams; {len(word_lm):,} words, "
        f"{len(word_lm.bigrams):,} word bigrams")

    encoder_scores = {source: conv.candidate_scores([s for s, _ in pairs])
                      for source, pairs in dev.items()}
    results = []
    for config in grid:
        # The converter decodes as each setting says, over the encoder scores computed once.
        conv.decode = config
        conv.lm = char_lm if config.lm_weight else None
        conv.wordlm = word_lm if config.word_weight else None
        scores = {source: dev_accuracy(conv, pairs, encoder_scores[source])
                  for source, pairs in dev.items()}
        results.append((config, scores))
        log(f"  {_describe(config)}: " + "  ".join(
            f"{s} {100 * v['char_acc']:.2f}/{100 * v['top1']:.1f}" for s, v in scores.items()))

    def mean(scores, key):
        return sum(v[key] for v in scores.values()) / len(scores)

    best = max(results, key=lambda r: (mean(r[1], "top1"), mean(r[1], "char_acc")))[0]
    if not tune_only:
        char_lm.save(model_dir / NGRAM_FILE)
        if best.word_weight:
            word_lm.save(model_dir / WORDLM_FILE)
    atomic_write_text(model_dir / "decode.json", json.dumps(asdict(best)))
    log(f"best on dev: {_describe(best)}; written to {model_dir}/decode.json")
    return {"decode": asdict(best),
            "scores": [{"decode": asdict(c), "dev": s} for c, s in results]}


def dev_accuracy(conv: Converter, pairs: list, encoder_scores: list) -> dict[str, float]:
    """Character accuracy and clause top-1 of the converter's best candidate on (syllables,
    gold) pairs, decoding the encoder scores computed for them beforehand."""
    right = errors = chars = 0
    for (syllables, gold), x in zip(pairs, encoder_scores):
        best = conv.decode_scores(syllables, x, 1)[0].text
        right += best == gold
        errors += char_errors(best, gold)
        chars += len(gold)
    return {"char_acc": 1 - errors / chars, "top1": right / len(pairs)}


def _describe(config: DecodeConfig) -> str:
    if not config.word_weight:
        return f"char n-gram {config.lm_weight}"
    return (f"words {config.word_weight} (bonus {config.word_bonus}) + "
            f"char n-gram {config.lm_weight}")
