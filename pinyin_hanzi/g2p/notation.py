"""tone3 readings (`zhong1`, `le5`, `lv4`) -> the notations pypinyin's users know, and the
tone sandhi of 一 and 不.

Styles take pypinyin's names: tone3 (`zhong1`; the neutral tone written 5), tone (`zhōng`),
normal (`zhong`; ü written v, as pypinyin does), initials (`zh`; '' for a syllable without one).
"""

from __future__ import annotations

STYLES = ("tone3", "tone", "normal", "initials")


def styled(reading: str, style: str) -> str:
    if style == "tone3":
        return reading  # before the import: pypinyin's takes 0.7 s and 60 MB
    from pypinyin.contrib.tone_convert import to_initials, to_normal, to_tone

    if style == "tone":
        return to_tone(reading)
    if style == "normal":
        return to_normal(reading)
    if style == "initials":
        return to_initials(reading, strict=True)
    raise ValueError(f"style must be one of {', '.join(STYLES)}, got {style!r}")


NUMERALS = set("零〇一二三四五六七八九十百千万亿两第")


def sandhi(run: str, readings: list[str]) -> list[str]:
    """The spoken tones of 一 and 不 in one run of hanzi, given their citation readings:
    不 before a fourth tone is bu2; 一 before a fourth tone is yi2 and before the other tones
    yi4, but stays yi1 at the end, in numbers and ordinals (第一, 十一, 一九九八), and is yi5
    between a repeated verb (看一看)."""
    out = list(readings)
    for i, char in enumerate(run[:-1]):
        following = readings[i + 1][-1:]
        if char == "不" and readings[i] == "bu4" and following == "4":
            out[i] = "bu2"
        elif char == "一" and readings[i] == "yi1":
            if run[i + 1] in NUMERALS or (i and run[i - 1] in NUMERALS):
                continue
            if i and run[i - 1] == run[i + 1]:
                out[i] = "yi5"
            else:
                out[i] = "yi2" if following == "4" else "yi4"
    return out
