"""What a decoder is told (`DecodeConfig`, a model directory's decode.json) and what it
returns (`Candidate`)."""

from __future__ import annotations

import json
import math
from dataclasses import asdict, dataclass, fields
from pathlib import Path

from ..data.clean import HANZI_RUN
from ..files import atomic_write_text


@dataclass(frozen=True)
class Candidate:
    text: str
    score: float
    """Log-probability of the clause (encoder, plus the weighted language models if fused)."""


def clause_tail(context: str) -> str:
    """The part of the text before the input that the same clause goes on from: its last run
    of hanzi if it ends with one (中国 picked for the start of zhongguorenmin), else "" (a
    comma, a full stop or nothing before the input: a new clause starts). The language
    models score the input's first words after it."""
    context = context[-64:]
    runs = list(HANZI_RUN.finditer(context))
    return runs[-1].group() if runs and runs[-1].end() == len(context) else ""


@dataclass(frozen=True)
class DecodeConfig:
    """How candidates are formed; stored as decode.json in a model directory."""

    lm_weight: float = 0.0
    """Weight of the character n-gram model (ngram.npz); 0 = not used."""
    word_weight: float = 0.0
    """Weight of the word model (wordlm.npz); > 0 decodes over the word lattice."""
    word_bonus: float = 0.0
    """Added to a path per word (< 0 favours fewer, longer words); tuned on dev."""
    beam: int = 16
    width: int = 8
    """Candidates kept per position before the beam."""

    def __post_init__(self):
        for name in ("lm_weight", "word_weight", "word_bonus"):
            value = getattr(self, name)
            if (isinstance(value, bool) or not isinstance(value, (int, float))
                    or not math.isfinite(value)):
                raise ValueError(f"{name} must be a finite number, got {value!r}")
            if name != "word_bonus" and value < 0:
                raise ValueError(f"{name} must be >= 0, got {value!r}")
        for name in ("beam", "width"):
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be an integer >= 1, got {value!r}")

    @classmethod
    def read(cls, path: Path) -> "DecodeConfig":
        """From a decode.json; any error names the file."""
        path = Path(path)
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict):
                raise TypeError("not a JSON object")
            unknown = set(data) - {f.name for f in fields(cls)}
            if unknown:
                raise TypeError(f"unknown settings {sorted(unknown)}")
            return cls(**data)
        except (json.JSONDecodeError, UnicodeDecodeError, TypeError, ValueError) as e:
            raise ValueError(f"{path}: not a valid decode config ({e})") from None

    def write(self, path: Path):
        atomic_write_text(Path(path), json.dumps(asdict(self)))
