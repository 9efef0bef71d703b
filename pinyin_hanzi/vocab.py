"""Vocabularies and the candidate table, saved as one JSON file.

* Input tokens: specials, then every legal syllable (``pinyin.SYLLABLES``), then every hanzi.
  Hanzi are inputs too, because pretraining reads raw hanzi text (objectives.py).
* Output labels: the hanzi, index 0 being ``<unk>`` (a hanzi too rare to learn).
* ``candidates[syllable]``: the hanzi that can be read that way, most frequent first: every pair
  seen in the training split, plus every reading pypinyin lists for a hanzi in the vocabulary
  (so 行 offers both xing and hang even if the corpus only had one). The model's output for a
  syllable is restricted to these.
"""

from __future__ import annotations

import json
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .files import atomic_write_text
from .pinyin import SYLLABLES, to_toneless

PAD, UNK, MASK = "<pad>", "<unk>", "<mask>"
SPECIALS = (PAD, UNK, MASK)
PAD_ID, UNK_ID, MASK_ID = 0, 1, 2
UNK_HANZI = 0  # label index of <unk>
IGNORE = -100  # label of a position that has no loss


@dataclass
class Vocab:
    syllables: list[str]
    hanzi: list[str]  # hanzi[0] == UNK
    candidates: dict[str, list[str]]
    traditional: list[str] | None = None
    """Hanzi that are traditional or variant forms of another (國 of 国), `traditional_forms`;
    None in files written before it was stored (then computed on first need)."""

    def __post_init__(self):
        self.syllable_id = {s: i for i, s in enumerate(self.syllables)}
        self.hanzi_id = {h: i for i, h in enumerate(self.hanzi)}
        self.syllable_offset = len(SPECIALS)
        self.hanzi_offset = self.syllable_offset + len(self.syllables)
        self._candidate_arrays: dict[str, np.ndarray] = {}

    @property
    def input_size(self) -> int:
        return self.hanzi_offset + len(self.hanzi)

    def syllable_token(self, syllable: str) -> int:
        return self.syllable_offset + self.syllable_id[syllable]

    def hanzi_token(self, char: str) -> int:
        return self.hanzi_offset + self.hanzi_id.get(char, UNK_HANZI)

    def label(self, char: str) -> int:
        return self.hanzi_id.get(char, UNK_HANZI)

    def candidate_ids(self, syllable: str) -> list[int]:
        return [self.hanzi_id[h] for h in self.candidates.get(syllable, ())]

    def candidate_array(self, syllable: str) -> np.ndarray:
        """The hanzi ids a syllable may be, ascending and distinct: the order in which the
        encoders score a syllable's candidates and the decoders read those scores."""
        ids = self._candidate_arrays.get(syllable)
        if ids is None:
            ids = self._candidate_arrays[syllable] = np.array(
                sorted(set(self.candidate_ids(syllable))), dtype=np.int64)
        return ids

    def traditional_forms(self) -> set[str]:
        if self.traditional is None:
            self.traditional = traditional_forms(self.hanzi[1:])
        return set(self.traditional)

    def simplified_only(self) -> "Vocab":
        """The same vocabulary (same ids) with traditional and variant forms out of the
        candidate table; a syllable that has nothing else keeps them."""
        out = self.traditional_forms()
        candidates = {s: [h for h in hs if h not in out] or hs
                      for s, hs in self.candidates.items()}
        return Vocab(self.syllables, self.hanzi, candidates, self.traditional)

    @classmethod
    def build(cls, hanzi_counts: Counter, pairs: Counter, min_count: int = 2) -> "Vocab":
        """From training-split counts of hanzi and of (syllable, hanzi) pairs."""
        from pypinyin import Style, pinyin

        hanzi = [h for h, n in hanzi_counts.most_common() if n >= min_count]
        known = set(hanzi)
        table: dict[str, Counter] = {s: Counter() for s in sorted(SYLLABLES)}
        for (syllable, char), n in pairs.items():
            if char in known and syllable in table:
                table[syllable][char] += n
        for char in hanzi:
            for reading in pinyin(char, style=Style.NORMAL, heteronym=True)[0]:
                try:
                    syllable = to_toneless(reading)
                except ValueError:  # a reading outside the inventory (ê): not typeable
                    continue
                if syllable in table:
                    table[syllable][char] += 0  # possible, unseen: ranks after seen pairs
        rank = {h: i for i, h in enumerate(hanzi)}
        candidates = {
            s: sorted(c, key=lambda h: (-c[h], rank[h])) for s, c in table.items()
        }
        return cls(sorted(SYLLABLES), [UNK, *hanzi], candidates, traditional_forms(hanzi))

    def to_json(self) -> dict:
        out = {"format": "pinyin-hanzi-vocab/1", "syllables": self.syllables,
               "hanzi": self.hanzi, "candidates": self.candidates}
        if self.traditional is not None:
            out["traditional"] = self.traditional
        return out

    def save(self, path: Path):
        atomic_write_text(Path(path), json.dumps(self.to_json(), ensure_ascii=False))

    @classmethod
    def load(cls, path: Path) -> "Vocab":
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            vocab = cls(data["syllables"], data["hanzi"], data["candidates"],
                        data.get("traditional"))
            unknown = [h for hs in vocab.candidates.values() for h in hs
                       if h not in vocab.hanzi_id]
            unknown += [h for h in vocab.traditional or () if h not in vocab.hanzi_id]
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: vocabulary file is missing") from None
        except (json.JSONDecodeError, KeyError, TypeError, AttributeError,
                UnicodeDecodeError) as e:
            raise ValueError(f"{path}: not a valid vocabulary file ({e!r})") from None
        if vocab.hanzi[:1] != [UNK]:
            raise ValueError(f"{path}: hanzi[0] must be {UNK!r}")
        if unknown:
            raise ValueError(f"{path}: candidate table names hanzi not in the vocabulary: "
                             f"{unknown[:5]}")
        return vocab


def traditional_forms(chars) -> list[str]:
    """The characters a simplified-Chinese user does not expect among candidates: outside
    GB 2312 (the 6,763 common simplified hanzi) and changed by OpenCC's traditional ->
    simplified table. Both tests are needed: 乾 and 麽 are GB 2312 hanzi that OpenCC maps to
    another, and rare simplified hanzi (镕, 堃) lie outside GB 2312 unchanged."""
    from opencc import OpenCC

    t2s = OpenCC("t2s")
    chars = [c for c in chars if len(c) == 1]
    mapped = t2s.convert("\n".join(chars)).split("\n")
    return [c for c, m in zip(chars, mapped) if m != c and not in_gb2312(c)]


def in_gb2312(text: str) -> bool:
    """Whether every character of `text` is in GB 2312 (the 6,763 common simplified hanzi,
    ASCII and the common punctuation)."""
    try:
        text.encode("gb2312")
        return True
    except UnicodeEncodeError:
        return False
