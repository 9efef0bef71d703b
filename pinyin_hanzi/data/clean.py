"""Cleaning: normalise a raw line and split it into clauses worth training on (pure functions).

Rules (docs/DATA.md repeats them):
- NFKC, which also turns full-width ASCII (`ＡＢＣ１２３`, `，`) into half-width; NFKC never
  changes a unified CJK ideograph, and maps compatibility ideographs to their unified form.
- traditional -> simplified with OpenCC `t2s` for sources flagged as traditional.
- control and format characters removed; URLs and e-mail addresses replaced by a clause break.
- clauses are split at punctuation, symbols and whitespace; a clause keeps digits and Latin
  letters (the annotator marks them as non-pinyin) and is kept only if it has at least
  `min_hanzi` hanzi and hanzi make up at least `min_hanzi_share` of it.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from dataclasses import dataclass

# A clause as the benchmarks define it: a maximal run of CJK unified ideographs.
HANZI_RUN = re.compile(r"[\u4e00-\u9fff]+")
# ASCII only: Chinese text has no spaces, so `\S+` or `\w` would swallow the hanzi around them.
_URL = re.compile(r"(?:https?://|ftp://|www\.)[A-Za-z0-9\-._~:/?#\[\]@!$&'()*+,;=%]+",
                  re.IGNORECASE)
_EMAIL = re.compile(r"[A-Za-z0-9.+_-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
# Everything that is not a hanzi, a Latin letter or a digit ends a clause.
_CLAUSE_BREAK = re.compile(r"[^\u4e00-\u9fffA-Za-z0-9]+")


@dataclass(frozen=True)
class CleanConfig:
    min_hanzi: int = 2
    """Clauses with fewer hanzi carry no conversion signal."""
    max_chars: int = 256
    """Longer clauses are almost always run-on lists or garbage."""
    min_hanzi_share: float = 0.5
    """Drops clauses that are mostly Latin, digits or codes."""

    def __post_init__(self):
        if self.min_hanzi < 1:
            raise ValueError(f"min_hanzi must be >= 1, got {self.min_hanzi}")
        if not 0.0 <= self.min_hanzi_share <= 1.0:
            raise ValueError(f"min_hanzi_share must be in [0, 1], got {self.min_hanzi_share}")


def is_hanzi(char: str) -> bool:
    return "\u4e00" <= char <= "\u9fff"


@functools.cache
def _t2s():
    import opencc

    return opencc.OpenCC("t2s.json")


def to_simplified(text: str) -> str:
    return _t2s().convert(text)


def normalize(text: str, traditional: bool = False) -> str:
    """One raw line -> normalised text (same length class, clause breaks preserved)."""
    text = unicodedata.normalize("NFKC", text)
    if traditional:
        text = to_simplified(text)
    text = _URL.sub("\n", text)
    text = _EMAIL.sub("\n", text)
    # Control (Cc) and format (Cf, e.g. zero-width space) characters; whitespace survives as a break.
    return "".join(
        c if c.isspace() or unicodedata.category(c) not in ("Cc", "Cf") else "" for c in text
    )


def split_clauses(text: str, config: CleanConfig = CleanConfig()) -> list[str]:
    """Normalised text -> the clauses that pass the length and hanzi-share filters."""
    clauses = []
    for clause in _CLAUSE_BREAK.split(text):
        if not clause or len(clause) > config.max_chars:
            continue
        hanzi = sum(map(is_hanzi, clause))
        if hanzi >= config.min_hanzi and hanzi >= config.min_hanzi_share * len(clause):
            clauses.append(clause)
    return clauses
