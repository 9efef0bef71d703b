"""A character n-gram language model: the baseline converter, and a fusion partner for the
Transformer's n-best decoding.

Witten-Bell interpolation (each order backs off to the next shorter context in proportion to
how many distinct characters followed that context), add-one unigrams, clause start `^` and
end `$` markers. Trained on the hanzi runs of the prepared training split, the same text the
Transformer sees. Saved as JSON, gzipped in a model directory (counts only; no pickle).

As a converter (`NgramConverter`), it is the classic HMM of pinyin engines: hidden characters
scored by the n-gram model, each emitting its syllable with P(syllable | character) counted in
the same training text, decoded with a beam over the candidate lattice.
"""

from __future__ import annotations

import functools
import gzip
import json
import math
from collections import Counter
from collections.abc import Iterable
from pathlib import Path

from .data.clean import HANZI_RUN
from .decode import Candidate, beam_search
from .vocab import atomic_write_bytes

BOS, EOS = "^", "$"
NGRAM_FILE = "ngram.json.gz"  # its name in a model directory


class CharNgram:
    def __init__(self, order: int, counts: dict[str, int]):
        if order < 1:
            raise ValueError(f"n-gram order must be >= 1, got {order}")
        self.order = order
        self.counts = counts  # every k-gram string, 1 <= k <= order, -> count
        self.context: Counter = Counter()  # c(h): times h was followed by anything
        self.types: Counter = Counter()  # T(h): distinct characters that followed h
        for gram, n in counts.items():
            if len(gram) > 1:
                self.context[gram[:-1]] += n
                self.types[gram[:-1]] += 1
        self.total = sum(n for g, n in counts.items() if len(g) == 1)
        self.vocab_size = sum(1 for g in counts if len(g) == 1) + 1
        self._cache = functools.lru_cache(maxsize=1 << 20)(self._logprob)

    @classmethod
    def train(cls, clauses: Iterable[str], order: int = 2, prune: int = 1) -> "CharNgram":
        """Count every k-gram up to `order`; n-grams of the highest order seen fewer than
        `prune` times are dropped (a smaller file; their mass backs off to lower orders)."""
        counts: Counter = Counter()
        for clause in clauses:
            padded = BOS * (order - 1) + clause + EOS
            for i in range(order - 1, len(padded)):
                for k in range(1, order + 1):
                    if i - k + 1 >= 0:
                        gram = padded[i - k + 1:i + 1]
                        if gram[-1] != BOS:
                            counts[gram] += 1
        return cls(order, {g: n for g, n in counts.items() if n >= prune or len(g) < order})

    def _prob(self, history: str, char: str) -> float:
        if not history:
            return (self.counts.get(char, 0) + 1) / (self.total + self.vocab_size)
        lower = self._prob(history[1:], char)
        c_h = self.context.get(history, 0)
        if not c_h:
            return lower
        t_h = self.types[history]
        return (self.counts.get(history + char, 0) + t_h * lower) / (c_h + t_h)

    def _logprob(self, history: str, char: str) -> float:
        return math.log(self._prob(history, char))

    def logprob(self, text: str, char: str) -> float:
        """log P(char | the clause so far `text`)."""
        n = self.order - 1
        history = (BOS * n + text)[-n:] if n else ""
        return self._cache(history, char)

    def end_logprob(self, text: str) -> float:
        return self.logprob(text, EOS)

    def to_json(self) -> dict:
        return {"format": "pinyin-hanzi-ngram/1", "order": self.order, "counts": self.counts}

    def save(self, path: Path):
        """JSON; gzipped when the name ends in .gz (as NGRAM_FILE in a model directory)."""
        raw = json.dumps(self.to_json(), ensure_ascii=False).encode("utf-8")
        path = Path(path)
        atomic_write_bytes(path, gzip.compress(raw, mtime=0) if path.suffix == ".gz" else raw)

    @classmethod
    def load(cls, path: Path) -> "CharNgram":
        try:
            raw = Path(path).read_bytes()
            data = json.loads(gzip.decompress(raw) if Path(path).suffix == ".gz" else raw)
            return cls(int(data["order"]), dict(data["counts"]))
        except FileNotFoundError:
            raise FileNotFoundError(f"{path}: n-gram model file is missing") from None
        except (OSError, EOFError, UnicodeDecodeError, json.JSONDecodeError, KeyError,
                TypeError, ValueError) as e:
            raise ValueError(f"{path}: not a valid n-gram model file ({e})") from None


def training_clauses(data_dir: Path, sources) -> Iterable[str]:
    from .data.prepare import iter_records

    for record in iter_records(data_dir, "train", sources):
        yield from HANZI_RUN.findall(record["text"])


class NgramConverter:
    """The HMM baseline: n-gram over characters, P(syllable | character) emissions."""

    def __init__(self, lm: CharNgram, vocab, pair_counts: Counter, beam: int = 16):
        self.lm, self.vocab, self.beam = lm, vocab, beam
        char_totals: Counter = Counter()
        for (_, char), n in pair_counts.items():
            char_totals[char] += n
        self.emission = {}
        for syllable, chars in vocab.candidates.items():
            ids, logps = [], []
            for char in chars:
                # Add-0.5 smoothing keeps readings pypinyin lists but the corpus never used.
                p = (pair_counts.get((syllable, char), 0) + 0.5) / (char_totals[char] + 2)
                ids.append(vocab.hanzi_id[char])
                logps.append(math.log(p))
            self.emission[syllable] = (ids, logps)

    def convert_many(self, texts: list[str], k: int = 5) -> list[list[Candidate]]:
        """Typed pinyin -> candidates, using the segmenter's best split."""
        from .segment import segment

        return [self.convert_syllables(list(segment(t).syllables), k) for t in texts]

    def convert_syllables(self, syllables: list[str], k: int = 5) -> list[Candidate]:
        import numpy as np

        positions = []
        for s in syllables:
            ids, logps = self.emission.get(s, ([], []))
            if not ids:
                raise ValueError(f"no hanzi known for syllable {s!r}")
            positions.append((np.array(ids), np.array(logps)))
        return beam_search(positions, self.vocab.hanzi, k, beam=self.beam, lm=self.lm,
                           lm_weight=1.0)


def pair_counts_from(data_dir: Path, sources) -> Counter:
    from .data.prepare import iter_records

    pairs: Counter = Counter()
    for record in iter_records(data_dir, "train", sources):
        for char, syllable in zip(record["text"], record["pinyin"]):
            if syllable is not None:
                pairs[(syllable, char)] += 1
    return pairs
