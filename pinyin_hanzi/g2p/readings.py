"""Each hanzi's readings with tone, and the reading vocabulary the G2P model answers in.

Readings are written in pypinyin's TONE3 notation with 5 for the neutral tone and v for ü
(`zhong1`, `le5`, `lv4`), the notation of the prepared records' `tone3` field. A hanzi's
readings are every one pypinyin's dictionary lists, plus every one seen in the training labels
(pypinyin's phrase dictionary gives neutral tones, 桌子 zi5, that its character table lacks).
The model answers only among a hanzi's own readings; a hanzi with one reading needs no model.
"""

from __future__ import annotations

import json
from collections.abc import Iterable
from dataclasses import dataclass, field
from pathlib import Path

import numpy as np

from ..files import atomic_write_text

FORMAT = "pinyin-hanzi-readings/1"


def dictionary_readings(char: str) -> list[str]:
    """pypinyin's readings of one hanzi in tone3 (most common first), [] if it has none."""
    from pypinyin.contrib.tone_convert import to_tone3
    from pypinyin.pinyin_dict import pinyin_dict

    marked = pinyin_dict.get(ord(char)) if len(char) == 1 else None
    if not marked:
        return []
    out = []
    for reading in marked.split(","):
        tone3 = to_tone3(reading, neutral_tone_with_five=True)
        if tone3 not in out:
            out.append(tone3)
    return out


@dataclass
class ReadingTable:
    readings: list[str]
    """The reading vocabulary: every toned syllable some hanzi is read as."""
    choices: dict[str, list[int]]
    """hanzi -> its readings (indices into `readings`), the dictionary's first reading first."""
    reading_id: dict[str, int] = field(init=False, repr=False)

    def __post_init__(self):
        self.reading_id = {r: i for i, r in enumerate(self.readings)}

    @classmethod
    def build(cls, hanzi: Iterable[str], seen: Iterable[tuple[str, str]] = ()) -> "ReadingTable":
        """The table for `hanzi` (a vocabulary) from pypinyin's dictionary, widened by the
        (hanzi, reading) pairs `seen` in labels."""
        per_char: dict[str, list[str]] = {}
        for char in hanzi:
            found = dictionary_readings(char)
            if found:
                per_char[char] = found
        for char, reading in sorted(seen):  # sorted: the same table in every process
            if char in per_char and reading not in per_char[char]:
                per_char[char].append(reading)
        readings = sorted({r for rs in per_char.values() for r in rs})
        index = {r: i for i, r in enumerate(readings)}
        return cls(readings, {c: [index[r] for r in rs] for c, rs in per_char.items()})

    def is_polyphone(self, char: str) -> bool:
        return len(self.choices.get(char, ())) > 1

    def slot(self, char: str, reading: str) -> int:
        """Index of `reading` among `char`'s choices, -1 if it is not one of them."""
        rid = self.reading_id.get(reading)
        try:
            return self.choices[char].index(rid)
        except (KeyError, ValueError):
            return -1

    @property
    def max_choices(self) -> int:
        return max(len(c) for c in self.choices.values())

    def choice_array(self, hanzi: list[str]) -> np.ndarray:
        """(len(hanzi), max_choices) reading ids of each vocabulary hanzi, -1 padded; a hanzi
        without a reading has none."""
        out = np.full((len(hanzi), self.max_choices), -1, dtype=np.int64)
        for i, char in enumerate(hanzi):
            ids = self.choices.get(char, ())
            out[i, :len(ids)] = ids
        return out

    def save(self, path: Path):
        atomic_write_text(Path(path), json.dumps(
            {"format": FORMAT, "readings": self.readings,
             "choices": {c: ids for c, ids in self.choices.items()}}, ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> "ReadingTable":
        try:
            data = json.loads(Path(path).read_text(encoding="utf-8"))
            if data.get("format") != FORMAT:
                raise ValueError(f"format {data.get('format')!r}, expected {FORMAT!r}")
            table = cls(list(data["readings"]), {c: list(map(int, ids))
                                                 for c, ids in data["choices"].items()})
            n = len(table.readings)
            if any(not ids or min(ids) < 0 or max(ids) >= n for ids in table.choices.values()):
                raise ValueError("a reading index is out of range")
            return table
        except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError,
                AttributeError, ValueError) as e:
            raise ValueError(f"{path}: not a reading table ({e})") from None
