"""Choose the decode weights on dev text: decode the dev clauses with every setting of a small
grid, over encoder scores computed once, and keep the best by mean clause top-1 over the
sources (so a big source does not drown a small one), then character accuracy."""

from __future__ import annotations

from collections.abc import Callable

from ..evaluate import char_errors
from . import make_decoder
from .config import DecodeConfig

# Character n-gram alone, then the word lattice with the character n-gram; the ranges come
# from the search logged in dev/EXPERIMENTS.md.
GRID = tuple([DecodeConfig(lm_weight=c) for c in (0.8, 1.3)] + [
    DecodeConfig(lm_weight=c, word_weight=w, word_bonus=b)
    for w in (0.6, 0.8, 1.0) for b in (-3.0, -2.0) for c in (0.3, 0.5)] + [
    DecodeConfig(lm_weight=c, word_weight=w, word_bonus=-4.0)
    for w in (1.2, 1.5) for c in (0.5, 0.7)] + [
    # the language models of today's text carry more weight (dev/weigh_sources.py)
    DecodeConfig(lm_weight=0.9, word_weight=1.8, word_bonus=-4.0)])


def tune(vocab, word_lm, char_lm, dev: dict[str, tuple[list, list]],
         grid: tuple[DecodeConfig, ...] = GRID, log: Callable[[str], None] = print
         ) -> tuple[DecodeConfig, list[tuple[DecodeConfig, dict]]]:
    """dev[source] = ((syllables, gold) pairs, the encoder scores of each). Returns the best
    setting and every setting's scores per source."""
    results = []
    for config in grid:
        decoder = make_decoder(vocab, config, word_lm, char_lm)
        scores = {source: dev_accuracy(decoder, pairs, encoder_scores)
                  for source, (pairs, encoder_scores) in dev.items()}
        results.append((config, scores))
        log(f"  {describe(config)}: " + "  ".join(
            f"{s} {100 * v['char_acc']:.2f}/{100 * v['top1']:.1f}" for s, v in scores.items()))

    def mean(scores, key):
        return sum(v[key] for v in scores.values()) / len(scores)

    best = max(results, key=lambda r: (mean(r[1], "top1"), mean(r[1], "char_acc")))[0]
    return best, results


def dev_accuracy(decoder, pairs: list, encoder_scores: list) -> dict[str, float]:
    """Character accuracy and clause top-1 of the decoder's best candidate on (syllables,
    gold) pairs, decoding the encoder scores computed for them beforehand."""
    right = errors = chars = 0
    for (syllables, gold), x in zip(pairs, encoder_scores):
        best = decoder.decode(syllables, x, 1)[0].text
        right += best == gold
        errors += char_errors(best, gold)
        chars += len(gold)
    return {"char_acc": 1 - errors / chars, "top1": right / len(pairs)}


def describe(config: DecodeConfig) -> str:
    if not config.word_weight:
        return f"char n-gram {config.lm_weight}"
    return (f"words {config.word_weight} (bonus {config.word_bonus}) + "
            f"char n-gram {config.lm_weight}")
