"""Noisy input: pure, seeded rewrites of a clause's toneless syllables (``zhong guo ren min``).

Users rarely type clean, fully separated pinyin. These functions turn the syllables annotate.py
produced into what people really type, so a model trained on them can convert it too:

* ``abbreviate`` - initials only (简拼): ``zhong guo ren min`` -> ``zh g r m``, for every
  syllable or, with ``p < 1``, a random share of them (``zhong g ren m``), as IMEs accept both.
  zh/ch/sh are one initial; y and w count too (IMEs take ``wm`` for 我们 wo men); a syllable
  without a consonant initial (``a``, ``e``, ``ou``, ``er``) stays whole.
* ``fuzzy`` - fuzzy pinyin (模糊音), the confusions speakers of southern dialects make and IMEs
  offer as options: z/zh, c/ch, s/sh, n/l, f/h initials and an/ang, en/eng, in/ing endings
  (``FUZZY_PAIRS``). A syllable may take one initial and one ending swap at once (``zhang`` ->
  ``zan``), but only legal syllables come out (``zhi`` -> ``zi``, never ``zhing``).
* ``separators`` - the syllables as one typed string, each boundary a space, an apostrophe or
  nothing, sometimes doubled (``xi'anzai  ma``). Separators fall only between syllables, so
  ``segment.segment`` parses the result (within its length limits) and the original syllables
  are one of its ``all_splits()``; with ``p_missing=0`` they are exactly its best split.

Every function takes ``rng``: a ``random.Random``, advanced in place so a stream of calls draws
fresh noise, or an int seed. Nothing here touches the global ``random`` state, so the seed alone
fixes the output. Probabilities are per syllable (per boundary for ``separators``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from types import MappingProxyType

from pinyin_hanzi.pinyin import SYLLABLES

__all__ = ["FUZZY_PAIRS", "FUZZY_VARIANTS", "abbreviate", "fuzzy", "initial", "separators"]

# Letters that start a consonant initial. y and w are not initials in the official scheme, but
# they are what IMEs expect in an abbreviation.
_CONSONANTS = frozenset("bcdfghjklmnpqrstwxyz")
_RETROFLEX = ("zh", "ch", "sh")
_SEPARATORS = (" ", "'")

# (part, a, b): a <-> b as the initial, or as the end of the final (xian <-> xiang).
FUZZY_PAIRS: tuple[tuple[str, str, str], ...] = (
    ("initial", "z", "zh"), ("initial", "c", "ch"), ("initial", "s", "sh"),
    ("initial", "n", "l"), ("initial", "f", "h"),
    ("final", "an", "ang"), ("final", "en", "eng"), ("final", "in", "ing"),
)


def _swaps(part: str) -> dict[str, str]:
    return {a: b for kind, x, y in FUZZY_PAIRS if kind == part for a, b in ((x, y), (y, x))}


_INITIAL_SWAP, _FINAL_SWAP = _swaps("initial"), _swaps("final")


def _split_initial(syllable: str) -> tuple[str, str]:
    """``zhong`` -> ("zh", "ong"), ``guo`` -> ("g", "uo"), ``ou`` -> ("", "ou")."""
    size = 2 if syllable[:2] in _RETROFLEX else int(syllable[:1] in _CONSONANTS)
    return syllable[:size], syllable[size:]


def initial(syllable: str) -> str:
    """The abbreviation of one syllable: ``zhong`` -> ``zh``, ``guo`` -> ``g``, ``er`` -> ``er``."""
    head, _ = _split_initial(syllable)
    return head or syllable


def _confusions(syllable: str) -> tuple[str, ...]:
    """The legal syllables one initial swap, one ending swap, or both away from ``syllable``."""
    head, rest = _split_initial(syllable)
    heads = {head, _INITIAL_SWAP.get(head, head)}
    rests = {rest} | {rest[:-len(old)] + new for old, new in _FINAL_SWAP.items()
                      if rest.endswith(old)}
    return tuple(sorted(({h + r for h in heads for r in rests} & SYLLABLES) - {syllable}))


# Every syllable -> what fuzzy() may turn it into (sorted, so choices do not depend on hashing).
FUZZY_VARIANTS: Mapping[str, tuple[str, ...]] = MappingProxyType(
    {s: _confusions(s) for s in sorted(SYLLABLES)}
)


def _as_rng(rng: random.Random | int) -> random.Random:
    if isinstance(rng, random.Random):
        return rng
    if isinstance(rng, int) and not isinstance(rng, bool):
        return random.Random(rng)
    # None would seed from the OS and make the output irreproducible.
    raise TypeError(f"rng must be a random.Random or an int seed, got {rng!r}")


def _check_probability(name: str, p: float) -> None:
    if not 0.0 <= p <= 1.0:
        raise ValueError(f"{name} must be in [0, 1], got {p}")


def abbreviate(syllables: Sequence[str], rng: random.Random | int, p: float = 1.0) -> list[str]:
    """Each syllable, with probability ``p``, -> its ``initial``: ``zhong guo`` -> ``zh g``."""
    rng = _as_rng(rng)
    _check_probability("p", p)
    return [initial(s) if rng.random() < p else s for s in syllables]


def fuzzy(syllables: Sequence[str], rng: random.Random | int, p: float) -> list[str]:
    """Each syllable, with probability ``p``, -> one of its ``FUZZY_VARIANTS`` (uniformly).

    A syllable with no variant (``ba``) or outside the inventory is kept as it is.
    """
    rng = _as_rng(rng)
    _check_probability("p", p)
    out = []
    for s in syllables:
        variants = FUZZY_VARIANTS.get(s, ())
        hit = rng.random() < p
        out.append(rng.choice(variants) if hit and variants else s)
    return out


def separators(syllables: Sequence[str], rng: random.Random | int, p_missing: float,
               p_extra: float) -> str:
    """The syllables as typed text: each boundary is left out with probability ``p_missing``,
    else gets a space or an apostrophe, doubled with probability ``p_extra`` (``ni' hao``)."""
    rng = _as_rng(rng)
    _check_probability("p_missing", p_missing)
    _check_probability("p_extra", p_extra)
    parts = list(syllables[:1])
    for s in syllables[1:]:
        if rng.random() >= p_missing:
            parts.append(rng.choice(_SEPARATORS))
            if rng.random() < p_extra:
                parts.append(rng.choice(_SEPARATORS))
        parts.append(s)
    return "".join(parts)
