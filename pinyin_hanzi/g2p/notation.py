"""tone3 readings (`zhong1`, `le5`, `lv4`) -> the notations pypinyin's users know, and the
tone sandhi of 一 and 不.

Styles take pypinyin's names: tone3 (`zhong1`; the neutral tone written 5), tone (`zhōng`),
normal (`zhong`; ü written v, as pypinyin does), initials (`zh`; '' for a syllable without one).
"""

from __future__ import annotations

STYLES = ("tone3", "tone", "normal", "initials")
# pypinyin's strict initials, in its order (zh before z); its tone marks (phonetic_symbol.py).
# Written out here because importing any part of pypinyin loads its phrase dictionary (0.7 s
# and 60 MB a `g2p` call would pay); tests check every reading of its dictionary against it.
INITIALS = ("b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch",
            "sh", "r", "z", "c", "s")
MARKED = {"a": "āáǎà", "e": "ēéěè", "o": "ōóǒò", "i": "īíǐì", "u": "ūúǔù", "ü": "ǖǘǚǜ",
          "ê": ("ê\u0304", "ế", "ê\u030c", "ề"), "n": (None, "ń", "ň", "ǹ"),
          "m": ("m\u0304", "ḿ", None, "m\u0300")}


def _mark_at(syllable: str) -> int:
    """Where pypinyin puts the tone mark (style/_tone_rule.right_mark_index)."""
    for restored, vowel in (("iou", "u"), ("uei", "i"), ("uen", "u")):
        if restored in syllable:
            return syllable.index(vowel)
    for group in (("a", "o", "e"), ("iu", "ui"), ("i", "u", "ü"), ("n", "m", "ê")):
        for c in group:
            if c in syllable:
                return syllable.index(c) + len(c) - 1
    return -1


def _toned(reading: str) -> str:
    """tone3 -> tone marks; without a tone digit (a hanzi no dictionary reads) as it is."""
    tone = reading[-1:]
    if tone not in ("1", "2", "3", "4"):
        return (reading[:-1] if tone == "5" else reading).replace("v", "ü")
    syllable = reading[:-1].replace("v", "ü")
    at = _mark_at(syllable)
    mark = MARKED[syllable[at]][int(tone) - 1] if syllable[at:at + 1] in MARKED else None
    return syllable[:at] + mark + syllable[at + 1:] if mark else reading  # n1, m3: as pypinyin


def styled(reading: str, style: str) -> str:
    """A tone3 reading in `style`, as pypinyin's tone_convert writes it."""
    if style == "tone3":
        return reading
    if style == "tone":
        return _toned(reading)
    if style == "normal":
        return reading.rstrip("12345")
    if style == "initials":
        return next((i for i in INITIALS if reading.startswith(i)), "")
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
