"""A character n-gram language model: a fusion partner for the Transformer's n-best decoding,
and the language model of the HMM baseline (decode/hmm.py).

Witten-Bell interpolation (each order backs off to the next shorter context in proportion to
how many distinct characters followed that context), add-one unigrams, clause start `^` and
end `$` markers. Trained on the hanzi runs of the prepared training split, the same text the
Transformer sees.

The counts are numpy arrays, not a dict of strings: each character has an id (its place in
`chars`), and each order's n-grams sit in a csr.CountTable, grouped by their history (the ids of
the characters before, as one integer in base `len(chars) + 1`), in the smallest integer types
that hold them. `logprobs` scores a whole batch of (history, character) questions with a few
binary searches, which is how the decoders ask. Saved as a compressed .npz of those arrays as
they are kept (NGRAM_FILE, loaded with allow_pickle=False): a few MB, loaded in a fraction of a
second.
"""

from __future__ import annotations

from collections.abc import Iterable
from pathlib import Path

import numpy as np

from ..files import read_arrays, save_arrays, utf8
from .csr import CountTable, most_informative, smallest_int

BOS, EOS = "^", "$"
FORMAT = "pinyin-hanzi-ngram/3"


class CharNgram:
    def __init__(self, order: int, chars: str, unigrams: tuple[np.ndarray, np.ndarray],
                 tables: list[CountTable]):
        """chars: every character the model has seen, BOS included; a character's id is its
        index there, and any other character gets id len(chars). unigrams: the ids seen
        (ascending) and their counts. tables[k - 1]: the (k+1)-grams by their k-character
        history (one-character histories by character id, in a dense table; longer ones by
        key, the ids in base len(chars) + 1, oldest first), see csr.CountTable."""
        if order < 1:
            raise ValueError(f"n-gram order must be >= 1, got {order}")
        if len(tables) != order - 1:
            raise ValueError(f"expected {order - 1} n-gram tables for order {order}")
        self.order, self.chars = order, chars
        self.base = base = len(chars) + 1
        if base ** order >= 2 ** 63:
            raise ValueError(f"{len(chars)} characters are too many for a {order}-gram key")
        # A character's id by binary search in its code points (a dict of 22 k characters
        # held 1.5 MB of the 100 MB an input method may use).
        self.codepoints = np.frombuffer(chars.encode("utf-32-le"), dtype=np.uint32)
        self._by_codepoint = np.argsort(self.codepoints, kind="stable").astype(np.int32)
        self._sorted_codepoints = self.codepoints[self._by_codepoint]
        self.unknown = len(chars)
        self.bos, self.eos = self.ids(BOS + EOS)
        ids, counts = (np.asarray(a) for a in unigrams)
        if (ids.ndim != 1 or counts.shape != ids.shape or counts.dtype.kind not in "iu"
                or ids.dtype.kind not in "iu"):
            raise ValueError("1-grams are not character ids beside integer counts")
        if len(ids) and (ids.min() < 0 or ids.max() >= self.unknown
                         or np.any(ids[1:] <= ids[:-1])):
            raise ValueError("1-grams are not distinct character ids in range, ascending")
        for k, table in enumerate(tables, 1):
            if (table.histories is None) != (k == 1) or k == 1 and len(table.rows) != base + 1:
                raise ValueError(f"the {k + 1}-gram table needs rows by "
                                 + ("character id, one per character" if k == 1 else "key"))
            if (table.max_next >= self.unknown
                    or k > 1 and table.histories.max(initial=0) >= base ** k):
                raise ValueError(f"the {k + 1}-grams have a character id out of range")
        # Witten-Bell, per history h: c(h), the times h was followed by anything, and T(h), the
        # distinct characters that followed it; p = (count + t * lower) / d with t = T(h) and
        # d = c(h) + T(h) (each table keeps its d).
        self._unigrams = ids.reshape(-1, 1), counts
        self.tables = list(tables)
        self.unigram = np.zeros(base, dtype=np.int64)
        self.unigram[ids] = counts
        self.total = int(self.unigram.sum())
        self.vocab_size = len(ids) + 1
        self.unigram_probs = (self.unigram + 1) / (self.total + self.vocab_size)

    @classmethod
    def _from_keys(cls, order: int, chars: str, keys: list[np.ndarray],
                   counts: list[np.ndarray]) -> "CharNgram":
        """keys[k - 1], counts[k - 1]: the k-grams as sorted integer keys (their ids in base
        len(chars) + 1, oldest first), and their counts."""
        base = len(chars) + 1
        tables = [CountTable(*np.divmod(key, base), count, dense=base if k == 2 else 0)
                  for k, (key, count) in enumerate(zip(keys[1:], counts[1:]), 2)]
        return cls(order, chars, (keys[0], counts[0]), tables)

    @classmethod
    def from_counts(cls, order: int, counts: dict[str, int]) -> "CharNgram":
        """From every k-gram string (1 <= k <= order) -> its count."""
        if order < 1:
            raise ValueError(f"n-gram order must be >= 1, got {order}")
        if any(not 1 <= len(g) <= order for g in counts):
            raise ValueError(f"an n-gram is empty or longer than the order {order}")
        chars = "".join(sorted({c for g in counts for c in g}))
        ids = {c: i for i, c in enumerate(chars)}
        base = len(chars) + 1
        by_order = [[] for _ in range(order)]
        for gram, n in counts.items():  # sorted as integer keys: faster than as id lists
            key = 0
            for c in gram:
                key = key * base + ids[c]
            by_order[len(gram) - 1].append((key, int(n)))
        keys, values = [], []
        for pairs in by_order:
            pairs.sort()
            keys.append(np.array([key for key, _ in pairs], dtype=np.int64))
            values.append(np.array([n for _, n in pairs], dtype=np.int64))
        return cls._from_keys(order, chars, keys, values)

    def to_counts(self) -> dict[str, int]:
        """The counts as k-gram strings (for inspection and tests; the model uses arrays)."""
        out = {}
        for k in range(1, self.order + 1):
            ids, counts = self.grams(k)
            for row, n in zip(ids.tolist(), counts.tolist()):
                out["".join(self.chars[c] for c in row)] = n
        return out

    def __len__(self) -> int:
        """The number of n-grams stored."""
        return len(self._unigrams[0]) + sum(len(table) for table in self.tables)

    def grams(self, k: int) -> tuple[np.ndarray, np.ndarray]:
        """The k-grams as sorted rows of k character ids, and their counts."""
        if k == 1:
            return self._unigrams
        history, nxt, counts = self.tables[k - 2].pairs()
        return np.column_stack([_id_rows(history, k - 1, self.base), nxt]), counts

    @classmethod
    def train(cls, clauses: Iterable[str], order: int = 2, prune: int = 1,
              prune_middle: int = 1) -> "CharNgram":
        """Count every k-gram up to `order`; n-grams of the highest order seen fewer than
        `prune` times are dropped (a smaller file; their mass backs off to lower orders), and
        those of the orders between 3 and the highest seen fewer than `prune_middle` times
        (at most `prune`, so that every kept n-gram keeps its history)."""
        if prune_middle > max(prune, 1):
            raise ValueError(f"prune_middle ({prune_middle}) must not exceed prune ({prune})")
        if order < 1:
            raise ValueError(f"n-gram order must be >= 1, got {order}")
        # Counted as arrays, not a dict of strings: every clause padded and joined into one
        # array of character ids, each k-gram an integer key ending at every position that is
        # not padding (40 M hanzi in a minute, where a Counter took half an hour).
        text = "".join(BOS * (order - 1) + clause + EOS for clause in clauses)
        codes = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        del text
        points, ids = np.unique(codes, return_inverse=True)
        del codes
        chars = "".join(map(chr, points.tolist()))
        base = len(chars) + 1
        ids = ids.astype(np.int64)
        ends = np.flatnonzero(ids != chars.find(BOS)) if order > 1 else np.arange(len(ids))
        keys, counts, key = [], [], np.zeros(len(ends), dtype=np.int64)
        for k in range(1, order + 1):
            key += ids[ends - (k - 1)] * base ** (k - 1)
            grams, n = np.unique(key, return_counts=True)
            least = prune if k == order else prune_middle if k >= 3 else 1
            keep = n >= least
            keys.append(grams[keep])
            counts.append(n[keep])
        return cls._from_keys(order, chars, keys, counts)

    def with_top(self, n: int, k: int | None = None) -> "CharNgram":
        """This model with only the `n` most informative of its k-grams (default: the highest
        order; the other orders whole; csr.most_informative, p_lower the (k-1)-gram model's).
        The whole model when it has no more than `n`."""
        k = self.order if k is None else k
        if n < 0 or not 2 <= k <= self.order:
            raise ValueError(f"keep n >= 0 of the k-grams, 2 <= k <= {self.order}; got n = "
                             f"{n}, k = {k}")
        table = self.tables[k - 2]
        if n >= len(table):
            return self
        histories, nexts, counts = table.pairs()
        unigrams = (self._unigrams[0][:, 0], self._unigrams[1])
        lower = CharNgram(k - 1, self.chars, unigrams, self.tables[:k - 2])
        p_lower = np.exp(lower.logprobs(histories % self.base ** (k - 2), nexts))
        lengths = np.diff(table.rows.astype(np.int64))
        keep = most_informative(counts, np.repeat(lengths, lengths), p_lower, n)
        tables = list(self.tables)
        tables[k - 2] = CountTable(histories[keep], nexts[keep], counts[keep],
                                   dense=self.base if k == 2 else 0)
        return CharNgram(self.order, self.chars, unigrams, tables)

    def ids(self, text: str) -> list[int]:
        """Each character's id (`unknown` for one the model has not seen)."""
        wanted = np.frombuffer(text.encode("utf-32-le"), dtype=np.uint32)
        if not self.unknown:
            return [0] * len(wanted)  # no characters: every one is unknown (id 0)
        at = np.searchsorted(self._sorted_codepoints, wanted).clip(0, self.unknown - 1)
        found = self._sorted_codepoints[at] == wanted
        return np.where(found, self._by_codepoint[at], self.unknown).tolist()

    def history(self, text: str) -> int:
        """The key of the history after `text`: the ids of its last order - 1 characters (the
        clause start padded with BOS) in base `base`, oldest first."""
        key = 0
        for c in ([self.bos] * self.order + self.ids(text[-self.order:]))[-(self.order - 1):]:
            key = key * self.base + c
        return key if self.order > 1 else 0

    def extend(self, history: int, char: int) -> int:
        """The history key after one more character (by id)."""
        return (history % self.base ** (self.order - 2)) * self.base + char \
            if self.order > 1 else 0

    def logprobs(self, histories, chars) -> np.ndarray:
        """log P(char | history) for arrays of history keys (see `history`) and character
        ids that broadcast together; float64."""
        chars = np.asarray(chars, dtype=np.int64)
        histories = np.asarray(histories, dtype=np.int64)
        p = self.unigram_probs[chars]
        if self.order == 1:  # no history, but the same broadcasting as the other orders
            p = p + np.zeros(histories.shape)
        for k, table in enumerate(self.tables, 1):
            key = histories % self.base ** k if k < self.order - 1 else histories
            count, t, d = table.lookup(key, chars)
            p = (count + t * p) / d
        return np.log(p)

    def logprob(self, text: str, char: str) -> float:
        """log P(char | the clause so far `text`)."""
        return float(self.logprobs(self.history(text), self.ids(char)[0]))

    def end_logprob(self, text: str) -> float:
        return self.logprob(text, EOS)

    def save(self, path: Path):
        """A compressed .npz of the arrays the model holds: the unigrams, and each table's
        csr arrays (`table_{n}_...` for the n-grams), loaded as they are."""
        ids, counts = self._unigrams
        arrays = {"order": np.array([self.order]), "chars": utf8(self.chars),
                  "unigram_ids": smallest_int(ids[:, 0]), "unigram_counts": counts}
        for n, table in enumerate(self.tables, 2):
            arrays.update(table.arrays(f"table_{n}_"))
        save_arrays(path, FORMAT, arrays)

    @classmethod
    def load(cls, path: Path) -> "CharNgram":
        with read_arrays(path, FORMAT, "n-gram model") as data:
            order = int(data["order"][0])
            chars = bytes(data["chars"]).decode("utf-8")
            tables = [CountTable.from_rows(
                data[f"table_{n}_histories"] if n > 2 else None, data[f"table_{n}_rows"],
                data[f"table_{n}_next"], data[f"table_{n}_counts"],
                data.get(f"table_{n}_count_values"))
                for n in range(2, order + 1)]
            return cls(order, chars, (data["unigram_ids"], data["unigram_counts"]), tables)


def _id_rows(keys: np.ndarray, k: int, base: int) -> np.ndarray:
    """Integer keys of k >= 1 character ids in base `base` -> rows of those ids, oldest
    first."""
    columns = []
    for _ in range(k):
        keys, column = np.divmod(keys, base)
        columns.append(column)
    return np.stack(columns[::-1], axis=1)
