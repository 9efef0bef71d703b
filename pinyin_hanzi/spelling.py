"""What each typed syllable may stand for: the syllable sets an input method decodes over.

A parse (segment.py) gives one spelling per position and its kind. Here each becomes the set
of canonical syllables the user may mean, as librime turns spellings into syllables by rule:

* ``FULL`` - the syllable itself; with ``complete_last``, the last one also stands for every
  syllable it begins (``ni ha`` while typing: ha, hai, han, hang, hao);
* a bare ``r`` right after a whole syllable (``is_erhua``) - erhua 儿, read as ``er`` (``na r``
  哪儿, as HSK and many textbooks write it; the model has no hanzi for the syllable ``r``), or,
  with ``abbreviated``, as the initial it also is (``zhongguo r m`` 中国人民); the converter
  charges the second a little, so that 儿 wins a near tie;
* ``PARTIAL`` / ``ABBREVIATED`` - every syllable the letters begin (``zho`` -> zhong, zhou;
  ``g`` -> ga ... guo; a lone ``z`` begins zh syllables too, as in Rime, so ``zgrm`` can be
  中国人民); with ``abbreviated``, the syllables that are also initials (``m``, ``n``, ``r``)
  are read as initials too;
* fuzzy pairs (模糊音, each an option, off by default) then add the syllables one swap away:
  initials ``z/zh c/ch s/sh n/l f/h r/l``, finals ``an/ang en/eng in/ing ian/iang uan/uang``;
  each pair swaps the initial or final as typed, so pairs do not chain (``n/l`` and ``r/l``
  read ``ren`` as ``ren`` or ``len``, never ``nen``).
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache

from .pinyin import SPELLINGS, SYLLABLES
from .segment import FULL, Segmentation

__all__ = ["FUZZY_PAIRS", "InputOptions", "is_erhua", "syllable_sets"]

FUZZY_PAIRS: tuple[str, ...] = (
    "z/zh", "c/ch", "s/sh", "n/l", "f/h", "r/l",
    "an/ang", "en/eng", "in/ing", "ian/iang", "uan/uang",
)
_INITIALS = ("zh", "ch", "sh", "b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q",
             "x", "r", "z", "c", "s", "y", "w")


@dataclass(frozen=True)
class InputOptions:
    """How typed pinyin is read.

    ``abbreviated``: syllables may be cut short, down to their initial (``zgrm``, ``zhongg``),
    tried only when the input is not whole pinyin; ``complete_last``: the last syllable may be
    unfinished even when it spells a whole one (``ni ha`` -> 你好), as while typing;
    ``fuzzy``: the ``FUZZY_PAIRS`` to treat as one sound."""

    abbreviated: bool = True
    complete_last: bool = False
    fuzzy: frozenset[str] = frozenset()

    def __post_init__(self):
        if isinstance(self.fuzzy, str):  # its letters were the pairs: "unknown pair '/'"
            raise TypeError(f"fuzzy is a set of pairs, e.g. {{'z/zh'}}; got the string "
                            f"{self.fuzzy!r}")
        unknown = sorted(set(self.fuzzy) - set(FUZZY_PAIRS))
        if unknown:
            raise ValueError(f"unknown fuzzy pair {unknown[0]!r}; choose from "
                             f"{', '.join(FUZZY_PAIRS)}")
        object.__setattr__(self, "fuzzy", frozenset(self.fuzzy))


def _split(syllable: str) -> tuple[str, str]:
    """``zhong`` -> ("zh", "ong"), ``an`` -> ("", "an")."""
    for head in _INITIALS:
        if syllable.startswith(head) and len(syllable) > len(head):
            return head, syllable[len(head):]
    return "", syllable


@lru_cache(maxsize=None)
def _begun_by(prefix: str) -> frozenset[str]:
    """The canonical syllables a spelling starting with ``prefix`` may be."""
    return frozenset(canonical for spelling, canonical in SPELLINGS.items()
                     if spelling.startswith(prefix))


@lru_cache(maxsize=None)
def _fuzzy_variants(syllable: str, pairs: frozenset[str]) -> frozenset[str]:
    """``syllable`` and what each pair makes of its initial or final as typed. Pairs do not
    chain (with n/l and r/l, ``ren`` is not ``nen``): swapping what an earlier pair made
    depended on the set's order, that is on the process's hash seed."""
    head, final = _split(syllable)
    heads, finals = {head}, {final}
    for pair in pairs:
        a, b = pair.split("/")
        swap = {a: b, b: a}
        if pair in FUZZY_PAIRS[:6]:
            heads.add(swap.get(head, head))
        else:
            finals.add(swap.get(final, final))
    return frozenset(h + f for h in heads for f in finals if h + f in SYLLABLES)


def is_erhua(seg: Segmentation, i: int) -> bool:
    """Whether syllable ``i`` of ``seg`` is a bare ``r`` typed right after a whole syllable."""
    return (seg.syllables[i] == "r" and seg.kinds[i] == FULL and i > 0
            and seg.kinds[i - 1] == FULL and bool(set(seg.syllables[i - 1]) & set("aeiouv")))


def syllable_sets(seg: Segmentation, options: InputOptions) -> list[frozenset[str]]:
    """Per position of ``seg``'s best split, the syllables it may stand for (its own first
    when it is one)."""
    sets = []
    last = len(seg.syllables) - 1
    for i, (syllable, kind) in enumerate(zip(seg.syllables, seg.kinds)):
        if is_erhua(seg, i):
            cut = options.abbreviated or (i == last and options.complete_last)
            base = frozenset({"er"}) | (_begun_by(syllable) - {"r"} if cut else frozenset())
        elif kind == FULL and not (i == last and options.complete_last):
            consonant_only = not set(syllable) & set("aeiouv")
            wide = options.abbreviated and consonant_only and len(_begun_by(syllable)) > 1
            base = _begun_by(syllable) if wide else frozenset((syllable,))
        else:
            base = _begun_by(syllable)
        if options.fuzzy:
            base = frozenset(v for s in base for v in _fuzzy_variants(s, options.fuzzy))
        sets.append(base)
    return sets
