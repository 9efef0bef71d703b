"""Pinyin annotation: one toneless and one TONE3 syllable per hanzi, `None` for anything else.

pypinyin's phrase dictionary resolves polyphones (银行 yin hang / 行走 xing zou). Each maximal
hanzi run is annotated on its own, as the benchmarks were, so a digit or Latin letter never gets
a syllable and never shifts the alignment.
"""

from __future__ import annotations

import functools
import re

from .clean import HANZI_RUN

_TONE_DIGIT = re.compile(r"[1-5]$")


@functools.cache
def _pypinyin():
    import pypinyin

    return pypinyin


def annotate(clause: str) -> tuple[list[str | None], list[str | None]]:
    """`你好ab` -> (['ni', 'hao', None, None], ['ni3', 'hao3', None, None])."""
    pypinyin = _pypinyin()
    toneless: list[str | None] = [None] * len(clause)
    tone3: list[str | None] = [None] * len(clause)
    for match in HANZI_RUN.finditer(clause):
        run = match.group()
        syllables = pypinyin.lazy_pinyin(
            run, style=pypinyin.Style.TONE3, neutral_tone_with_five=True,
            errors=lambda chars: ["?"] * len(chars),
        )
        if len(syllables) != len(run):  # pypinyin promises 1:1 with this errors= policy
            raise AssertionError(f"pypinyin misaligned {run!r}: {syllables}")
        for offset, syllable in enumerate(syllables, match.start()):
            # The placeholder may come back as "?5": neutral_tone_with_five appends to it.
            if not syllable.startswith("?"):
                tone3[offset] = syllable
                toneless[offset] = _TONE_DIGIT.sub("", syllable)
    return toneless, tone3
