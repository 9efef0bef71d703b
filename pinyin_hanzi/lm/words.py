"""A word bigram model over a pinyin-indexed lexicon, which the word-lattice decoder
(decode/lattice.py) fuses with the Transformer's per-syllable scores.

Why words: 2.5 M training hanzi are too few for the encoder (or a character n-gram) to learn
every word, so 模拟 comes out as 莫尼. A lexicon knows the word even where the corpus rarely says
it. This is how the engines users compare us with work (libime, Rime: lexicon + word n-gram);
here the lexicon proposes words and the encoder, which reads the whole clause, scores them.

* Lexicon: every word of the training text (jieba's segmentation of the training clauses, each
  word with the readings the data pipeline annotated in context) plus the `lexicon` source's
  words (pypinyin's and jieba's word lists, also annotated by the pipeline), keyed by their
  toneless syllables.
* Word model: bigram with Witten-Bell interpolation over an add-alpha unigram; words that are
  only in the word lists have count 0 and live on alpha.

In memory everything is a numpy array (no dict of 333 k words): the words as one UTF-8 buffer,
the bigrams as a csr.CountTable (rows by previous word, in the smallest integer types), the
lexicon as sorted reading keys (READING_BASE), so each question the decoder asks is a few
binary searches, and the compiled search reads the same arrays without copying them.
Saved as a compressed .npz of the same plain arrays (`WordLM.__init__` lists them; loaded
with allow_pickle=False, one at a time): no pickle, no parsing at load.
"""

from __future__ import annotations

import functools
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from pathlib import Path

import numpy as np

from ..files import read_arrays, save_arrays, utf8
from .csr import (CountTable, code_histogram, codes_fit, decoded, most_informative,
                  quantize_counts, smallest_int)

FORMAT = "pinyin-hanzi-wordlm/3"
BOUNDARY = 0  # word index of the clause start (as a history) and end (as a prediction)
UNKNOWN = -1  # a hanzi the lexicon does not list: scored with the add-alpha floor
MAX_WORD_LEN = 8
SPAN_CACHE = 512  # spans of typed syllables whose matching words are remembered
LAST_WORD_CACHE = 64  # left contexts whose last word is remembered
_TEXT_CHUNK = 1 << 16  # bytes of the words' text scanned at once for line starts


class WordLM:
    def __init__(self, arrays: Mapping[str, np.ndarray]):
        """`arrays`: the plain arrays a saved model holds, by name (a dict, or the lazily read
        .npz, in which case one array at a time is read while this runs), as `save` writes
        them and the model keeps them:

        * words: the words' UTF-8, joined by newlines; word 0, the clause boundary, is empty;
        * counts[i]: how often word i was seen (counts[0]: clauses), or with count_values
          (csr.quantize_counts) its 8-bit code;
        * bigram_histories, bigram_rows, bigram_next, bigram_counts: the bigrams by previous
          word (csr.CountTable.from_rows);
        * syllables: the readings' syllables, UTF-8, joined by newlines;
        * reading_keys, reading_words: word reading_words[j] reads reading_keys[j], its
          syllables' digits (index in `syllables` + 1) in base 2^9, keys ascending; only
          readings of 2 to 7 syllables;
        * long_readings, long_words: 8-syllable readings as rows of digits, and their words;
        * alpha: the add-alpha of the unigram (one number)."""
        self.text = np.asarray(arrays["words"], dtype=np.uint8)
        self.starts = _line_starts(self.text)  # word i is text[starts[i]:starts[i + 1] - 1]
        n = len(self.starts) - 1
        counts = np.asarray(arrays["counts"])
        values = arrays.get("count_values")
        if counts.shape != (n,) or counts.dtype.kind not in "iu":
            raise ValueError(f"{n} words but {len(counts)} counts")
        if values is not None:
            values = np.asarray(values, dtype=np.int64)
            if not codes_fit(counts, values) or np.any(values < 0):
                raise ValueError("word count codes and their values do not fit together")
            total = int(code_histogram(counts, len(values)) @ values)
        else:
            total = int(counts.sum(dtype=np.int64))
        self.alpha = float(np.asarray(arrays["alpha"]).ravel()[0])
        self.total = total  # every count, the clauses' (word 0) included
        self.denominator = total + self.alpha * n
        self.floor = self.alpha / self.denominator
        self.counts = counts if values is not None else smallest_int(counts)
        self.count_values = values  # None: `counts` are the counts themselves
        del counts
        # Witten-Bell, per history h: c(h), the times h was followed by a kept bigram, and
        # T(h), the distinct words that followed it (so each history still sums to 1):
        # p = (count + t * lower) / d with t = T(h) and d = c(h) + T(h). A history never seen
        # (and UNKNOWN) gets t = d = 1, which leaves p = lower exactly (its count is 0).
        self.bigrams = CountTable.from_rows(
            arrays["bigram_histories"], arrays["bigram_rows"], arrays["bigram_next"],
            arrays["bigram_counts"], arrays.get("bigram_count_values"))
        if (self.bigrams.histories.max(initial=0) >= n
                or self.bigrams.max_next >= n):
            raise ValueError("a bigram refers to a word index out of range")
        self.syllables = _lines(arrays["syllables"])
        if len(self.syllables) >= READING_BASE:
            raise ValueError(f"{len(self.syllables)} syllables are too many for reading keys")
        self.syllable_id = {s: i for i, s in enumerate(self.syllables)}
        self._lexicon(arrays, n)
        # The one-hanzi words, which the decoder asks about for every candidate hanzi.
        short = np.flatnonzero(np.diff(self.starts) <= 5)
        self._single = {w: int(i) for i, w in zip(short, map(self.word, short)) if len(w) == 1}
        self._frequent: list[str] = []  # the most frequent words, built on first need
        self.span_words = functools.lru_cache(SPAN_CACHE)(self._span_words_uncached)
        """span_words(span: tuple of syllable sets) -> ((reading, word), ...): the words
        that fit the span exactly, remembered for the SPAN_CACHE spans last asked for."""
        self.last_word = functools.lru_cache(LAST_WORD_CACHE)(self._last_word_uncached)
        """last_word(text, max_len=7) -> the longest lexicon word `text` ends with (BOUNDARY
        for empty text, UNKNOWN when not even its last character is listed); each decode
        asks it of the left context, the same for every key of a clause."""

    def _lexicon(self, arrays: Mapping[str, np.ndarray], n: int):
        """The reading index: sorted integer keys of up to 7 syllables beside their words;
        8-syllable readings (a few hundred) in a dict by digit tuple."""
        keys, words = np.asarray(arrays["reading_keys"]), np.asarray(arrays["reading_words"])
        long, long_words = (np.asarray(arrays["long_readings"]),
                            np.asarray(arrays["long_words"]))
        if (keys.ndim != 1 or keys.dtype != np.int64 or words.shape != keys.shape
                or long.shape != (len(long_words), MAX_WORD_LEN)
                or words.dtype.kind not in "iu" or long.dtype.kind not in "iu"):
            raise ValueError("reading keys, reading words and long readings do not fit "
                             "together")
        for ids in (words, long_words):
            if len(ids) and (ids.min() < 0 or ids.max() >= n):
                raise ValueError("a reading refers to a word index out of range")
        if len(long) and (long.min() < 0 or long.max() > len(self.syllables)):
            raise ValueError("a reading refers to a syllable out of range")
        if len(keys) and (keys[0] <= 0 or np.any(keys[1:] < keys[:-1])):
            raise ValueError("reading keys are not sorted, or not keys")
        self.reading_keys, self.reading_words = keys, smallest_int(words)
        self._long_readings: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for digits, w in zip(long.tolist(), long_words.tolist()):
            self._long_readings[tuple(d for d in digits if d)].append(w)

    @classmethod
    def from_lists(cls, words: list[str], counts, readings: list[list[str]], prev, nxt,
                   pair_counts, alpha: float = 0.5) -> "WordLM":
        """words[0] is the clause boundary; readings[i] lists word i's toneless readings
        (syllables joined by spaces); bigrams in any order. The words are kept in code point
        order (renumbered if they come in another), which `word_id` searches."""
        if not (len(words) == len(counts) == len(readings)) or not words:
            raise ValueError("words, counts and readings must be equally long and non-empty")
        if any("\n" in w for w in words):
            raise ValueError("a word contains a newline")
        if words[0] != "" or len(set(words)) != len(words):
            raise ValueError("word 0 must be the boundary \"\" and no word may repeat")
        order = sorted(range(len(words)), key=words.__getitem__)
        if order != list(range(len(words))):
            new_id = np.empty(len(words), dtype=np.int64)
            new_id[order] = np.arange(len(words))
            words = [words[i] for i in order]
            counts = [counts[i] for i in order]
            readings = [readings[i] for i in order]
            prev, nxt = new_id[np.asarray(prev, dtype=np.int64)], new_id[
                np.asarray(nxt, dtype=np.int64)]
        syllables = sorted({s for rs in readings for r in rs for s in r.split()})
        syllable_id = {s: i + 1 for i, s in enumerate(syllables)}
        # Only what the decoder can ask for: 2..MAX_WORD_LEN syllables, one per hanzi; in the
        # order of their keys (the longest, beyond any key, last).
        entries = []
        for i, word_readings in enumerate(readings):
            for reading in word_readings:
                digits = [syllable_id[s] for s in reading.split()]
                if 2 <= len(digits) <= MAX_WORD_LEN and len(digits) == len(words[i]):
                    key = 0
                    for d in digits:
                        key = key * READING_BASE + d
                    entries.append((key, i, digits))
        entries.sort()
        short = [(key, i) for key, i, digits in entries if len(digits) <= KEY_SYLLABLES]
        long = [(digits, i) for _, i, digits in entries if len(digits) > KEY_SYLLABLES]
        prev, nxt = np.asarray(prev, dtype=np.int64), np.asarray(nxt, dtype=np.int64)
        pairs = np.lexsort((nxt, prev))
        bigrams = CountTable(prev[pairs], nxt[pairs],
                             np.asarray(pair_counts, dtype=np.int64)[pairs])
        codes, values = quantize_counts(counts)
        return cls({"words": utf8("\n".join(words)), "counts": codes, "count_values": values,
                    **bigrams.arrays("bigram_"),
                    "syllables": utf8("\n".join(syllables)),
                    "reading_keys": np.array([k for k, _ in short], dtype=np.int64),
                    "reading_words": np.array([i for _, i in short], dtype=np.int64),
                    "long_readings": _digit_rows([d for d, _ in long]),
                    "long_words": np.array([i for _, i in long], dtype=np.int64),
                    "alpha": np.array([alpha])})

    @classmethod
    def train(cls, clauses: Iterable[tuple[list[str], list[str]]],
              extra_words: Iterable[tuple[str, str]] = (), prune: int = 1,
              alpha: float = 0.5, prior: Mapping[str, float] | None = None,
              prior_weight: float = 0.0, max_pairs: int = 0) -> "WordLM":
        """clauses: (words, readings) of each training clause, in order; extra_words: (word,
        reading) from word lists, which join the lexicon with count 0. Bigrams seen fewer
        than `prune` times are dropped; max_pairs > 0: then only that many, the most
        informative, are kept (`with_pairs`). prior: relative frequencies of words in a larger
        corpus (priors.py); each adds `prior_weight` times the corpus size in words to its
        word's unigram count, and a listed word the lexicon lacks joins it with the reading
        pypinyin gives."""
        unigram: Counter = Counter()
        readings: dict[str, dict[str, None]] = defaultdict(dict)  # ordered sets
        pairs: Counter = Counter()
        for words, word_readings in clauses:
            previous = ""
            for word, reading in zip(words, word_readings):
                unigram[word] += 1
                readings[word][reading] = None
                pairs[(previous, word)] += 1
                previous = word
            pairs[(previous, "")] += 1
            unigram[""] += 1
        for word, reading in extra_words:
            if 1 < len(word) <= MAX_WORD_LEN:
                readings[word][reading] = None
        if prior and prior_weight > 0:
            from ..data.annotate import annotate
            from .priors import prior_counts

            corpus_words = sum(unigram.values()) - unigram[""]
            for word, count in prior_counts(prior, corpus_words, prior_weight).items():
                if word not in readings:
                    syllables = annotate(word)[0]
                    if len(word) > MAX_WORD_LEN or None in syllables:
                        continue
                    readings[word][" ".join(syllables)] = None
                unigram[word] += count
        words = [""] + sorted(w for w in readings if w)
        index = {w: i for i, w in enumerate(words)}
        kept = [(index[a], index[b], n) for (a, b), n in pairs.items() if n >= prune]
        prev, nxt, pair_counts = zip(*kept) if kept else ((), (), ())
        model = cls.from_lists(words, [unigram[w] for w in words],
                               [list(readings[w]) for w in words], prev, nxt, pair_counts, alpha)
        return model.with_pairs(max_pairs) if max_pairs else model

    def __len__(self) -> int:
        """The number of words, the clause boundary included."""
        return len(self.counts)

    def count(self, words) -> np.ndarray:
        """How often these words (by index) were seen."""
        return decoded(self.counts, self.count_values, words)

    def word(self, i: int) -> str:
        return self.text[self.starts[i]:self.starts[i + 1] - 1].tobytes().decode("utf-8")

    def word_id(self, word: str) -> int:
        """A word's index, or UNKNOWN: a binary search, the words being in code point order
        (`from_lists` keeps them so). A dict of every word, as this was before, took 0.4-0.7 s
        to build at the first left context and tens of MB to hold."""
        if len(word) <= 1:
            return self._single.get(word, UNKNOWN) if word else BOUNDARY
        lo, hi = 1, len(self)  # word 0, the boundary, is "" and before every other
        while lo < hi:
            mid = (lo + hi) // 2
            if self.word(mid) < word:
                lo = mid + 1
            else:
                hi = mid
        return lo if lo < len(self) and self.word(lo) == word else UNKNOWN

    def lexicon(self, syllables: list[str]) -> list[tuple[int, int, int]]:
        """Every lexicon word that reads as syllables[i:i + length], 2 <= length <=
        MAX_WORD_LEN: (i, length, word index), ordered by i, length, word index."""
        n = len(syllables)
        digits = [self.syllable_id.get(s, -1) + 1 for s in syllables]  # 0: not in the lexicon
        spans, queries, found = [], [], []
        for i in range(n):
            key = 0
            for length in range(1, min(MAX_WORD_LEN, n - i) + 1):
                d = digits[i + length - 1]
                if not d:
                    break
                if length <= KEY_SYLLABLES:
                    key = key * READING_BASE + d
                    if length > 1:
                        spans.append((i, length))
                        queries.append(key)
                else:
                    found.extend((i, length, w) for w in
                                 self._long_readings.get(tuple(digits[i:i + length]), ()))
        if queries:
            queries = np.array(queries, dtype=np.int64)
            lo = np.searchsorted(self.reading_keys, queries, "left").tolist()
            hi = np.searchsorted(self.reading_keys, queries, "right").tolist()
            for q in range(len(queries)):
                if hi[q] > lo[q]:
                    i, length = spans[q]
                    found.extend((i, length, w)
                                 for w in self.reading_words[lo[q]:hi[q]].tolist())
            found.sort(key=lambda x: x[:2])  # stable: words stay in order
        return found

    def matching(self, sets: list[Iterable[str]], max_len: int = 7
                 ) -> list[tuple[int, tuple[str, ...], int]]:
        """Every lexicon word of 2 to `max_len` (at most KEY_SYLLABLES) syllables whose reading
        takes, at each position p it covers, one of the syllables in sets[p] (an abbreviated
        or fuzzy input): (start position, reading, word index), by start, then length.
        Each span of positions is looked up once and remembered (`span_words`): an input
        method asks again at every keystroke, and only the spans that reach the last,
        growing syllable are new."""
        sets = [frozenset(options) for options in sets]
        found = []
        for start in range(len(sets)):
            for length in range(2, min(max_len, KEY_SYLLABLES, len(sets) - start) + 1):
                found.extend((start, reading, w)
                             for reading, w in self.span_words(tuple(sets[start:start + length])))
        return found

    def _span_words_uncached(self, span: tuple[frozenset, ...]
                             ) -> tuple[tuple[tuple[str, ...], int], ...]:
        """(reading, word) of the words whose reading takes one syllable of each set in
        `span`."""
        keys, lo, hi = self.reading_runs(span)
        found = []
        for key, a, b in zip(keys.tolist(), lo.tolist(), hi.tolist()):
            reading = self.spelled(key, len(span))
            found.extend((reading, w) for w in self.reading_words[a:b].tolist())
        return tuple(found)

    def reading_runs(self, span: tuple[frozenset, ...]
                     ) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """The reading keys that take one syllable of each set in `span`, and each key's run
        lo:hi of `reading_keys` (and `reading_words`). Words of one length and first syllables
        are one run of the sorted keys, so each position narrows the runs with one vectorised
        binary search."""
        length = len(span)
        none = np.zeros(0, dtype=np.int64)
        prefixes = np.zeros(1, dtype=np.int64)
        for k, options in enumerate(span):
            d = self.digits(options)
            if not len(d):
                return none, none, none
            prefixes = (prefixes[:, None] * READING_BASE + d[None, :]).ravel()
            scale = READING_BASE ** (length - 1 - k)
            lo = np.searchsorted(self.reading_keys, prefixes * scale, "left")
            hi = np.searchsorted(self.reading_keys, (prefixes + 1) * scale, "left")
            prefixes = prefixes[hi > lo]
            if not len(prefixes):
                return none, none, none
        return (prefixes, np.searchsorted(self.reading_keys, prefixes, "left"),
                np.searchsorted(self.reading_keys, prefixes, "right"))

    def digits(self, options) -> np.ndarray:
        """A position's syllables as reading-key digits (syllable id + 1), ascending; those
        the lexicon does not have left out."""
        ids = self.syllable_id
        return np.array(sorted(ids[s] + 1 for s in options if s in ids), dtype=np.int64)

    def spelled(self, key: int, length: int) -> tuple[str, ...]:
        """A reading key of `length` syllables as its syllables."""
        reading = []
        for _ in range(length):
            key, d = divmod(key, READING_BASE)
            reading.append(self.syllables[d - 1])
        return tuple(reversed(reading))

    def _last_word_uncached(self, text: str, max_len: int = 7) -> int:
        if not text:
            return BOUNDARY
        for n in range(min(max_len, len(text)), 0, -1):
            word = self.word_id(text[-n:])
            if word != UNKNOWN:
                return word
        return UNKNOWN

    def next_words(self, text: str, k: int = 5) -> list[str]:
        """Prediction (联想): the `k` words most often seen after the word `text` ends with,
        most frequent first, then (when it was followed by fewer) the most frequent words
        of all (bench/prediction.py: they are the next word 6-17 % of the time)."""
        previous = self.last_word(text)
        found: list[str] = []
        if previous != UNKNOWN:
            nexts, counts = self.bigrams.followers(previous)
            keep = nexts != BOUNDARY
            nexts, counts = nexts[keep], counts[keep]
            order = np.argsort(-counts, kind="stable")[:k]
            found = [self.word(int(i)) for i in nexts[order]]
        for word in self.most_frequent(k):
            if len(found) == k:
                break
            if word not in found:
                found.append(word)
        return found

    def most_frequent(self, k: int) -> list[str]:
        """The k most frequent words, the clause boundary aside (computed once, for the
        largest k asked)."""
        if len(self._frequent) < k:
            counts = np.array(self.count(np.arange(len(self))), dtype=np.int64)
            counts[BOUNDARY] = 0
            self._frequent = [self.word(int(i)) for i in np.argsort(-counts, kind="stable")[:k]]
        return self._frequent[:k]

    def logprobs(self, previous, words) -> np.ndarray:
        """log P(word | previous word), by index, for arrays that broadcast together
        (BOUNDARY as history = clause start, as the word = clause end; UNKNOWN = a hanzi the
        lexicon does not list)."""
        previous = np.asarray(previous, dtype=np.int64)
        words = np.asarray(words, dtype=np.int64)
        known = words >= 0
        lower = (np.where(known, self.count(np.where(known, words, 0)), 0)
                 + self.alpha) / self.denominator
        count, t, d = self.bigrams.lookup(previous, words)
        return np.log((count + t * lower) / d)

    def logprob(self, previous: int, word: int) -> float:
        return float(self.logprobs(previous, word))

    def with_pairs(self, pairs: int) -> "WordLM":
        """This model with only its `pairs` most informative word pairs (csr.most_informative:
        a pair the unigram already predicts, 的 after most words, goes before a rare pair of
        rare words). The whole model when it has no more."""
        if pairs < 0:
            raise ValueError(f"pairs must be >= 0, got {pairs}")
        if pairs >= len(self.bigrams):
            return self
        previous, nexts, counts = self.bigrams.pairs()
        lengths = np.diff(self.bigrams.rows.astype(np.int64))
        lower = (self.count(nexts) + self.alpha) / self.denominator
        keep = most_informative(counts, np.repeat(lengths, lengths), lower, pairs)
        table = CountTable(previous[keep], nexts[keep], counts[keep])
        return WordLM({**self._arrays(), **table.arrays("bigram_")})

    def _arrays(self) -> dict[str, np.ndarray]:
        """The arrays `__init__` takes, by name."""
        long = sorted((digits, w) for digits, ws in self._long_readings.items() for w in ws)
        return {
            "alpha": np.array([self.alpha]), "words": self.text, "counts": self.counts,
            **({} if self.count_values is None else {"count_values": self.count_values}),
            **self.bigrams.arrays("bigram_"), "syllables": utf8("\n".join(self.syllables)),
            "reading_keys": self.reading_keys, "reading_words": self.reading_words,
            "long_readings": _digit_rows([d for d, _ in long]),
            "long_words": smallest_int([w for _, w in long])}

    def save(self, path: Path):
        """The arrays `__init__` takes, as an .npz (files.save_arrays)."""
        save_arrays(path, FORMAT, self._arrays())

    @classmethod
    def load(cls, path: Path) -> "WordLM":
        with read_arrays(path, FORMAT, "word model") as data:
            return cls(data)


# Reading keys: a reading of up to KEY_SYLLABLES syllables, as digits 1..READING_BASE - 1
# (syllable index + 1), is the integer of those digits in base READING_BASE. No digit is 0,
# so readings of different lengths never share a key.
READING_BITS = 9
READING_BASE = 1 << READING_BITS
KEY_SYLLABLES = 63 // READING_BITS  # 7 syllables fit an int64


def _digit_rows(readings: list[list[int]]) -> np.ndarray:
    """Readings as rows of MAX_WORD_LEN syllable digits, 0 after the end (uint16)."""
    rows = np.zeros((len(readings), MAX_WORD_LEN), dtype=np.uint16)
    for row, digits in zip(rows, readings):
        row[:len(digits)] = digits
    return rows


def _line_starts(text: np.ndarray) -> np.ndarray:
    """Where each newline-separated line of `text` starts, and len(text) + 1 (int32). In
    chunks: at once, the comparison and its int64 positions cost 4x the words' text at load."""
    ends = [np.flatnonzero(text[a:a + _TEXT_CHUNK] == ord("\n")).astype(np.int32) + (a + 1)
            for a in range(0, len(text), _TEXT_CHUNK)]
    return np.concatenate([np.zeros(1, np.int32), *ends,
                           np.array([len(text) + 1], np.int32)])


def _lines(utf8: np.ndarray) -> list[str]:
    text = bytes(np.asarray(utf8, dtype=np.uint8)).decode("utf-8")
    return text.split("\n") if text else []
