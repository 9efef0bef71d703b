"""Fit a model directory's language models and choose its decode weights:

    pinyin-hanzi lm --model DIR --data runs/data

On the training split only, it trains a character n-gram (lm/ngram.py) and the word lexicon +
bigram (lm/words.py); then it decodes dev clauses (4-32 hanzi, as the benchmarks) with every
setting of a small grid (decode/tune.py) and writes the best into the model directory as
decode.json, beside ngram.npz and wordlm.npz. The public benchmarks are never used here.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from dataclasses import asdict
from pathlib import Path

from ..checkpoint import DECODE_FILE, NGRAM_FILE, WORDLM_FILE
from ..data.export_tsv import clause_pairs, spread
from ..data.records import check_sources, data_sources, sources_hint
from ..decode.config import DecodeConfig
from ..decode.tune import GRID, describe, tune
from ..lm.corpus import check_weights, listed_words, training_clauses, training_words
from ..lm.ngram import CharNgram
from ..lm.priors import wordfreq_prior
from ..lm.words import WordLM
from .converter import Converter


def fit(model_dir: Path, data_dir: Path, sources: tuple[str, ...], order: int = 3,
        prune: int = 2, word_prune: int = 1, dev_clauses: int = 1000,
        grid: tuple[DecodeConfig, ...] = GRID, log: Callable[[str], None] = print,
        prior_weight: float = 0.0, tune_only: bool = False,
        lexicon_splits: tuple[str, ...] = ("train",), prune_middle: int = 1,
        weights: dict[str, int] | None = None, word_pairs: int = 0,
        ngram_top: dict[int, int] | None = None) -> dict:
    """Train, tune and install; returns {"decode": best settings, "scores": per setting}.
    prior_weight > 0 adds wordfreq's word frequencies to the word model (lm/priors.py).
    tune_only: keep the LMs already in model_dir (fit for another encoder on the same text,
    say) and choose only their weights. lexicon_splits: which splits of the `lexicon` source
    the word model lists. prune / prune_middle: CharNgram.train's cut-offs. weights: {source:
    n}, each clause of a source counted n times (lm/corpus.py). word_pairs > 0: the word model
    keeps only that many of its bigrams, the most informative (WordLM.with_pairs); ngram_top
    {k: n}: the character n-gram only n of its k-grams (CharNgram.with_top)."""
    model_dir = Path(model_dir)
    # With no --sources, the data's own: a misspelt name weighted nothing, silently.
    check_weights(weights or {}, sources or data_sources(data_dir))
    conv = Converter.load(model_dir)
    check_sources(data_dir, sources)
    # Tuned per source (so a big one does not drown a small one); no sources = all as one.
    groups = {s: (s,) for s in sources} or {"dev": None}
    dev = {name: spread(clause_pairs(data_dir, "dev", group), dev_clauses)
           for name, group in groups.items()}
    dev = {name: pairs for name, pairs in dev.items() if pairs}
    if not dev:
        raise ValueError(f"{data_dir}/dev: no clauses of 4-32 hanzi from "
                         f"{', '.join(sources) or 'any source'}" + sources_hint(data_dir))
    if tune_only:
        missing = [n for n in (NGRAM_FILE, WORDLM_FILE) if not (model_dir / n).is_file()]
        if missing:  # a model saved anew has none: the message named only the file
            raise FileNotFoundError(
                f"{model_dir}: no {' or '.join(missing)} to re-tune: fit them with `lm` "
                "(without --tune-only), or copy them in from the model they were fit beside")
        log(f"tuning the weights of {model_dir}'s {NGRAM_FILE} and {WORDLM_FILE}")
        char_lm = CharNgram.load(model_dir / NGRAM_FILE)
        word_lm = WordLM.load(model_dir / WORDLM_FILE)
    else:
        log(f"training the character {order}-gram on {data_dir}/train "
            f"({', '.join(sources) or 'all sources'})"
            + "".join(f", {s} x{n}" for s, n in (weights or {}).items()))
        char_lm = CharNgram.train(training_clauses(data_dir, sources, weights), order, prune,
                                  prune_middle)
        for k, n in sorted((ngram_top or {}).items(), reverse=True):  # the higher order first
            char_lm = char_lm.with_top(n, k)
        log("training the word model (jieba words of the training text + listed words)")
        prior = wordfreq_prior() if prior_weight > 0 else None
        word_lm = WordLM.train(training_words(data_dir, sources, weights),
                               listed_words(data_dir, lexicon_splits),
                               word_prune, prior=prior, prior_weight=prior_weight,
                               max_pairs=word_pairs)
    log(f"  {len(char_lm):,} character n-grams; {len(word_lm):,} words, "
        f"{len(word_lm.bigrams):,} word bigrams")

    # The encoder's scores are computed once and shared by every setting.
    scored = {source: (pairs, conv.candidate_scores([s for s, _ in pairs]))
              for source, pairs in dev.items()}
    best, results = tune(conv.vocab, word_lm, char_lm, scored, grid, log)
    _install(model_dir, best, None if tune_only else char_lm,
             word_lm if best.word_weight and not tune_only else None)
    log(f"best on dev: {describe(best)}; written to {model_dir}/{DECODE_FILE}")
    return {"decode": asdict(best),
            "scores": [{"decode": asdict(c), "dev": s} for c, s in results]}


def _install(model_dir: Path, best: DecodeConfig, char_lm: CharNgram | None,
             word_lm: WordLM | None) -> None:
    """Write the models and their weights beside them under other names first, then put all
    in place: written one after another, a kill or a full disk in between left new models
    with the old weights (or one new model beside an old one)."""
    writes = {NGRAM_FILE: char_lm.save if char_lm is not None else None,
              WORDLM_FILE: word_lm.save if word_lm is not None else None,
              DECODE_FILE: best.write}
    staged = [name for name, write in writes.items() if write is not None]
    for name in staged:
        writes[name](model_dir / f"{name}.new")
    for name in staged:
        os.replace(model_dir / f"{name}.new", model_dir / name)
