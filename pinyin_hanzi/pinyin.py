"""Mandarin pinyin: the syllable inventory, tone notations, and normalisation of typed input.

This module owns the facts about pinyin that every later stage (segment, vocab, data, runtime)
relies on:

* ``SYLLABLES`` - every legal toneless syllable, with ü written ``v`` (``lv``, ``nve``), the
  erhua ``r`` and the interjections pypinyin knows (``hm``, ``hng``, ``m``, ``n``, ``ng``).
  ``SPELLINGS`` adds the aliases users type (``lue`` -> ``lve``, ``nue`` -> ``nve``).
* One syllable between pypinyin's notations: ``convert_syllable``, ``to_toneless``,
  ``parse_syllable`` (``hǎo`` / ``hao3`` / ``ha3o`` / ``hao``; ü as ``ü``, ``v`` or ``u:``).
* ``normalize_input`` - what a user typed -> lower-case letters with ``'`` between chunks, and
  ``PinyinError`` (with the position in the original text) for anything that is not pinyin.

Importing this module does not import pypinyin: the inventory below is a literal, because
inference latency matters. tests/test_pinyin.py recomputes it from ``pypinyin.pinyin_dict`` and
fails on drift; to regenerate, run that test's ``_syllables_from_pypinyin`` and paste the result.
"""

from __future__ import annotations

import unicodedata
from enum import IntEnum
from types import MappingProxyType
from typing import Mapping

__all__ = [
    "ALIASES", "MAX_SYLLABLE_LEN", "NORMAL", "SPELLINGS", "SYLLABLES", "TONE", "TONE2", "TONE3",
    "PinyinError", "Style", "convert_syllable", "is_syllable", "normalize_input",
    "normalize_with_offsets", "parse_syllable", "to_toneless",
]

# Generated offline from pypinyin 0.55 (see module docstring): every reading in
# pypinyin.pinyin_dict through to_normal(..., v_to_u=False), lower-cased, minus "ê" (no IME
# types it, and its characters also read "ei"/"e"), plus the erhua "r" (儿化, 花儿 hua r).
_SYLLABLE_TUPLE = (
    "a", "ai", "an", "ang", "ao", "ba", "bai", "ban", "bang", "bao", "bei", "ben", "beng", "bi",
    "bian", "biang", "biao", "bie", "bin", "bing", "bo", "bong", "bu", "ca", "cai", "can", "cang",
    "cao", "ce", "cei", "cen", "ceng", "cha", "chai", "chan", "chang", "chao", "che", "chen",
    "cheng", "chi", "chong", "chou", "chu", "chua", "chuai", "chuan", "chuang", "chui", "chun",
    "chuo", "ci", "cong", "cou", "cu", "cuan", "cui", "cun", "cuo", "da", "dai", "dan", "dang",
    "dao", "de", "dei", "den", "deng", "di", "dia", "dian", "diao", "die", "din", "ding", "diu",
    "dong", "dou", "du", "duan", "dui", "dun", "duo", "e", "ei", "en", "eng", "er", "fa", "fan",
    "fang", "fei", "fen", "feng", "fiao", "fo", "fou", "fu", "ga", "gai", "gan", "gang", "gao",
    "ge", "gei", "gen", "geng", "gong", "gou", "gu", "gua", "guai", "guan", "guang", "gui", "gun",
    "guo", "ha", "hai", "han", "hang", "hao", "he", "hei", "hen", "heng", "hm", "hng", "hong",
    "hou", "hu", "hua", "huai", "huan", "huang", "hui", "hun", "huo", "ji", "jia", "jian", "jiang",
    "jiao", "jie", "jin", "jing", "jiong", "jiu", "ju", "juan", "jue", "jun", "ka", "kai", "kan",
    "kang", "kao", "ke", "kei", "ken", "keng", "kong", "kou", "ku", "kua", "kuai", "kuan", "kuang",
    "kui", "kun", "kuo", "la", "lai", "lan", "lang", "lao", "le", "lei", "len", "leng", "li",
    "lia", "lian", "liang", "liao", "lie", "lin", "ling", "liu", "lo", "long", "lou", "lu", "luan",
    "lun", "luo", "lv", "lve", "m", "ma", "mai", "man", "mang", "mao", "me", "mei", "men", "meng",
    "mi", "mian", "miao", "mie", "min", "ming", "miu", "mo", "mou", "mu", "n", "na", "nai", "nan",
    "nang", "nao", "ne", "nei", "nen", "neng", "ng", "ni", "nia", "nian", "niang", "niao", "nie",
    "nin", "ning", "niu", "nong", "nou", "nu", "nuan", "nun", "nuo", "nv", "nve", "o", "ou", "pa",
    "pai", "pan", "pang", "pao", "pei", "pen", "peng", "pi", "pian", "piao", "pie", "pin", "ping",
    "po", "pou", "pu", "qi", "qia", "qian", "qiang", "qiao", "qie", "qin", "qing", "qiong", "qiu",
    "qu", "quan", "que", "qun", "r", "ran", "rang", "rao", "re", "ren", "reng", "ri", "rong",
    "rou", "ru", "rua", "ruan", "rui", "run", "ruo", "sa", "sai", "san", "sang", "sao", "se",
    "sen", "seng", "sha", "shai", "shan", "shang", "shao", "she", "shei", "shen", "sheng", "shi",
    "shou", "shu", "shua", "shuai", "shuan", "shuang", "shui", "shun", "shuo", "si", "song", "sou",
    "su", "suan", "sui", "sun", "suo", "ta", "tai", "tan", "tang", "tao", "te", "tei", "teng",
    "ti", "tian", "tiao", "tie", "ting", "tong", "tou", "tu", "tuan", "tui", "tun", "tuo", "wa",
    "wai", "wan", "wang", "wei", "wen", "weng", "wo", "wong", "wu", "xi", "xia", "xian", "xiang",
    "xiao", "xie", "xin", "xing", "xiong", "xiu", "xu", "xuan", "xue", "xun", "ya", "yan", "yang",
    "yao", "ye", "yi", "yin", "ying", "yo", "yong", "you", "yu", "yuan", "yue", "yun", "za", "zai",
    "zan", "zang", "zao", "ze", "zei", "zen", "zeng", "zha", "zhai", "zhan", "zhang", "zhao",
    "zhe", "zhei", "zhen", "zheng", "zhi", "zhong", "zhou", "zhu", "zhua", "zhuai", "zhuan",
    "zhuang", "zhui", "zhun", "zhuo", "zi", "zong", "zou", "zu", "zuan", "zui", "zun", "zuo",
)

SYLLABLES: frozenset[str] = frozenset(_SYLLABLE_TUPLE)

# Longest syllables: "zhuang", "shuang", "chuang". segment.py bounds its look-ahead with this.
MAX_SYLLABLE_LEN = 6

# Spellings users type for ü after l/n when they do not know the v convention (略 lue, 虐 nue).
# After j/q/x/y the u already means ü (学 xue), so those are ordinary syllables, not aliases.
ALIASES: Mapping[str, str] = MappingProxyType({"lue": "lve", "nue": "nve"})

# Every accepted toneless spelling -> its canonical syllable. Aliases keep the length of their
# target, so a spelling's span in the input is also the canonical syllable's span.
SPELLINGS: Mapping[str, str] = MappingProxyType(
    {**{s: s for s in _SYLLABLE_TUPLE}, **ALIASES}
)


class PinyinError(ValueError):
    """Input that is not pinyin: ``.position`` is a 0-based index into the ORIGINAL text and
    ``.span`` the offending slice of it, so a UI can underline exactly what is wrong."""

    def __init__(self, message: str, position: int = 0, span: str = "") -> None:
        # All three go to args so the error survives pickling (multiprocessing data workers).
        super().__init__(message, position, span)
        self.message = message
        self.position = position
        self.span = span

    def __str__(self) -> str:
        return self.message


class Style(IntEnum):
    """Tone notations, with pypinyin's names and values (``pypinyin.Style``)."""

    NORMAL = 0  # hao
    TONE = 1  # hǎo
    TONE2 = 2  # ha3o
    TONE3 = 8  # hao3


NORMAL, TONE, TONE2, TONE3 = Style.NORMAL, Style.TONE, Style.TONE2, Style.TONE3

# Combining marks after NFD: tone marks, and the two that change a vowel.
_TONE_MARKS = MappingProxyType({"\u0304": 1, "\u0301": 2, "\u030c": 3, "\u0300": 4})
_TONE_MARK_OF = {tone: mark for mark, tone in _TONE_MARKS.items()}
_DIAERESIS = "\u0308"  # u + ¨ = ü -> v
_CIRCUMFLEX = "\u0302"  # e + ^ = ê -> e (ê is not in the inventory; see above)
_LETTERS = frozenset("abcdefghijklmnopqrstuvwxyz")
# Latin alpha and script g appear in pinyin typeset with textbook fonts; NFKC keeps them.
_LOOKALIKES = MappingProxyType({"\u0251": "a", "\u0261": "g"})
_TONE_DIGITS = frozenset("12345")
# Apostrophes (ASCII and the typographic ones word processors substitute) and any white space.
_QUOTES = frozenset("'\u2018\u2019")


def _is_separator(ch: str) -> bool:
    return ch in _QUOTES or ch.isspace()


def _pieces(ch: str) -> str:
    """One original character as NFKC, lower-cased, then NFD (base letters + combining marks).

    Done per character, not on the whole string, so every piece maps back to one original index.
    """
    return unicodedata.normalize("NFD", unicodedata.normalize("NFKC", ch).lower())


def _is_foreign(ch: str) -> bool:
    """True if no piece of ``ch`` could ever be part of pinyin (used to widen error spans)."""
    for p in _pieces(ch):
        p = _LOOKALIKES.get(p, p)
        if not (p in _LETTERS or p in _TONE_MARKS or p in (_DIAERESIS, _CIRCUMFLEX, ":")
                or p in _TONE_DIGITS or _is_separator(p)):
            return True
    return False


def _not_pinyin(text: str, index: int, what: str = "not pinyin") -> PinyinError:
    end = index + 1
    if _is_foreign(text[index]):
        # Name the whole foreign run (中国 in "ni中国"), not just its first character.
        while end < len(text) and _is_foreign(text[end]):
            end += 1
    span = text[index:end]
    return PinyinError(f"{what} at position {index}: {span!r}", index, span)


def _scan(text: str) -> list[list]:
    """Tokenise ``text`` into ``[kind, value, index]``: kind is "letter" (a-z, ü as v),
    "mark" or "digit" (value = tone 1-5) or "sep"; ``index`` is into ``text``.

    Raises PinyinError at the first character that fits none of these.
    """
    tokens: list[list] = []
    for i, ch in enumerate(text):
        for p in _pieces(ch):
            p = _LOOKALIKES.get(p, p)
            prev = tokens[-1] if tokens else None
            after_letter = prev is not None and prev[0] == "letter"
            if p in _LETTERS:
                tokens.append(["letter", p, i])
            elif _is_separator(p):
                tokens.append(["sep", "'", i])
            elif p in _TONE_MARKS and after_letter:
                tokens.append(["mark", _TONE_MARKS[p], i])
            elif p in (_DIAERESIS, ":") and after_letter and prev[1] == "u":
                prev[1] = "v"
            elif p == _CIRCUMFLEX and after_letter and prev[1] == "e":
                pass
            elif p in _TONE_DIGITS and prev is not None and prev[0] in ("letter", "mark"):
                tokens.append(["digit", int(p), i])
            elif p in _TONE_DIGITS:
                raise _not_pinyin(text, i, "misplaced tone digit")
            else:
                raise _not_pinyin(text, i)
    return tokens


def normalize_with_offsets(text: str) -> tuple[str, tuple[int, ...]]:
    """Like ``normalize_input``, also returning where each output character came from.

    ``offsets[k]`` is the index in ``text`` of output character ``k``; one extra final entry,
    ``len(text)``, lets a span ``[a, b)`` of the output map back as ``text[offsets[a]:offsets[b]]``
    (tone digits inside the span are included, which is what a user would select).
    """
    out: list[str] = []
    offsets: list[int] = []
    pending_sep = -1  # index of the first separator of the current run, -1 if none
    for kind, value, index in _scan(text):
        if kind == "sep":
            if pending_sep < 0:
                pending_sep = index
        elif kind == "letter":
            # Leading and trailing separators vanish; inner runs become one "'".
            if pending_sep >= 0 and out:
                out.append("'")
                offsets.append(pending_sep)
            pending_sep = -1
            out.append(value)
            offsets.append(index)
    if not out:
        raise PinyinError("empty input: no pinyin letters", 0, text)
    offsets.append(len(text))
    return "".join(out), tuple(offsets)


def normalize_input(text: str) -> str:
    """What a user typed -> lower-case a-z (ü as ``v``) with one ``'`` between chunks.

    NFKC (full-width letters), lower-case, ``ü``/``u:`` -> ``v``, tone marks dropped, tone
    digits dropped (a digit 1-5 right after a letter; ``ha3o`` and ``hao3`` both work, so a
    digit is NOT a syllable boundary - type ``xi'an`` for 西安), runs of spaces and apostrophes
    -> one ``'``. Aliases such as ``lue`` are left for ``segment`` to resolve, because ``lue``
    may also be ``lu'e``.

    Anything else raises ``PinyinError``, e.g. ``"Nǐ hǎo,"`` -> ``not pinyin at position 6: ','``.

    >>> normalize_input("Nǐ  HAO3 lü'lu:e ")
    "ni'hao'lv'lve"
    """
    return normalize_with_offsets(text)[0]


def parse_syllable(s: str) -> tuple[str, int]:
    """One syllable in any notation -> (canonical toneless syllable, tone 1-5; 5 = neutral).

    ``hǎo``, ``hao3``, ``ha3o`` -> ("hao", 3); ``hao`` -> ("hao", 5); ``lu:e4``, ``lüè``,
    ``lue4`` -> ("lve", 4). Raises PinyinError if ``s`` is not exactly one legal syllable.
    """
    letters: list[str] = []
    tone = 0
    for kind, value, index in _scan(s):
        if kind == "sep":
            raise PinyinError(f"not one syllable at position {index}: {s!r}", index, s)
        if kind == "letter":
            letters.append(value)
        elif tone:
            raise PinyinError(f"two tones at position {index}: {s!r}", index, s)
        else:
            tone = value
    base = "".join(letters)
    if base not in SPELLINGS:
        raise PinyinError(f"not a pinyin syllable at position 0: {s!r}", 0, s)
    return SPELLINGS[base], tone or 5


def is_syllable(s: str) -> bool:
    """True if ``s`` is a toneless spelling we accept (``SYLLABLES`` or an alias)."""
    return s in SPELLINGS


def _mark_index(base: str) -> int:
    """Which letter carries the tone mark (the standard rule; pypinyin agrees)."""
    for vowel in "ae":
        if vowel in base:
            return base.index(vowel)
    if "ou" in base:
        return base.index("o")
    for i in range(len(base) - 1, -1, -1):
        if base[i] in "iouv":
            return i
    # Syllabic consonants: hm -> m, hng/ng/n -> n, and r (which in practice is toneless).
    return min(base.index(c) for c in "mnr" if c in base)


def convert_syllable(
    s: str, to: Style = TONE3, *, v_to_u: bool = False, neutral_tone_with_five: bool = False
) -> str:
    """One syllable in any notation -> the notation ``to`` (pypinyin's output conventions).

    ü is written ``v`` unless ``v_to_u``; TONE always writes ü because ``v`` cannot carry a mark.
    The neutral tone has no digit unless ``neutral_tone_with_five``.

    >>> [convert_syllable("lüè", t) for t in (NORMAL, TONE, TONE2, TONE3)]
    ['lve', 'lüè', 'lve4', 'lve4']
    >>> convert_syllable("hao3", TONE2), convert_syllable("ha3o", TONE)
    ('ha3o', 'hǎo')
    """
    base, tone = parse_syllable(s)
    to = Style(to)
    if to == TONE:
        base = base.replace("v", "ü")
    elif v_to_u:
        base = base.replace("v", "ü")
    if to == NORMAL:
        return base
    digit = str(tone) if tone != 5 or neutral_tone_with_five else ""
    if to == TONE3:
        return base + digit
    at = _mark_index(base.replace("ü", "v")) + 1
    if to == TONE2:
        return base[:at] + digit + base[at:]
    mark = _TONE_MARK_OF.get(tone, "")
    return unicodedata.normalize("NFC", base[:at] + mark + base[at:])


def to_toneless(s: str) -> str:
    """One syllable in any notation -> canonical toneless (``Lǚ`` -> ``lv``)."""
    return parse_syllable(s)[0]
