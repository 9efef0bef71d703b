"""A word bigram model over a pinyin-indexed lexicon, and the word-lattice decoder that fuses it
with the Transformer's per-syllable scores.

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
* Decoding (`lattice_search`): left-to-right over syllable positions; an arc is a lexicon word
  or one of the encoder's best hanzi; a path scores the sum of the encoder's log-probs of its
  hanzi, plus `word_weight` times the word model's log-prob, plus `word_bonus` per word, plus
  (optionally) a weighted character n-gram log-prob.

In memory everything is a numpy array (no dict of 333 k words): the words as one UTF-8 buffer,
the bigrams as sorted integer keys, the lexicon as sorted reading keys (`_reading_keys`). The
decoder asks its questions a position at a time, as arrays, so each is a few binary searches.
Saved as a compressed .npz of the same plain arrays (`WordLM.__init__` lists them; loaded
with allow_pickle=False, one at a time): no pickle, no parsing at load.
"""

from __future__ import annotations

import bisect
import heapq
from collections import Counter, defaultdict
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .decode import Candidate
from .npz import read_arrays, save_arrays, utf8

FORMAT = "pinyin-hanzi-wordlm/2"
LEGACY_FORMAT = "pinyin-hanzi-wordlm/1"  # words' readings as text; scripts/convert_lm_files.py
WORDLM_FILE = "wordlm.npz"  # its name in a model directory
BOUNDARY = 0  # word index of the clause start (as a history) and end (as a prediction)
UNKNOWN = -1  # a hanzi the lexicon does not list: scored with the add-alpha floor
MAX_WORD_LEN = 8


class WordLM:
    def __init__(self, arrays: Mapping[str, np.ndarray]):
        """`arrays`: the plain arrays a saved model holds, by name (a dict, or the lazily read
        .npz, in which case one large array at a time is in memory while this runs):

        * words: the words' UTF-8, joined by newlines; word 0, the clause boundary, is empty;
        * counts[i]: how often word i was seen (counts[0]: clauses);
        * prev, next, pair_counts: bigram j is (prev[j], next[j]), seen pair_counts[j] times,
          sorted by (prev, next);
        * syllables: the readings' syllables, UTF-8, joined by newlines;
        * readings, reading_words: word reading_words[j] reads readings[j], a row of
          MAX_WORD_LEN syllable digits (index in `syllables` + 1; 0 after the end), rows of 2
          to MAX_WORD_LEN syllables sorted by (reading, word);
        * alpha: the add-alpha of the unigram (one number)."""
        self._text = np.asarray(arrays["words"], dtype=np.uint8)
        self._starts = _line_starts(self._text)  # word i is text[starts[i]:starts[i + 1] - 1]
        n = len(self._starts) - 1
        counts = np.asarray(arrays["counts"])
        if counts.shape != (n,) or counts.dtype.kind not in "iu":
            raise ValueError(f"{n} words but {len(counts)} counts")
        self.alpha = float(np.asarray(arrays["alpha"]).ravel()[0])
        self.denominator = counts.sum(dtype=np.int64) + self.alpha * n
        self.floor = self.alpha / self.denominator
        # Each per-word table has one entry more, at index -1 = UNKNOWN: count 0, so its
        # unigram is the add-alpha floor, and an unseen history (below).
        self._counts = np.r_[counts, 0]
        self.counts = self._counts[:-1]
        del counts
        self._bigrams(arrays, n)
        self.syllables = _lines(arrays["syllables"])
        if len(self.syllables) >= _READING_BASE:
            raise ValueError(f"{len(self.syllables)} syllables are too many for reading keys")
        self.syllable_id = {s: i for i, s in enumerate(self.syllables)}
        self._lexicon(np.asarray(arrays["readings"]), np.asarray(arrays["reading_words"]), n)
        # The one-hanzi words, which the decoder asks about for every candidate hanzi.
        short = np.flatnonzero(np.diff(self._starts) <= 5)
        self._single = {w: int(i) for i, w in zip(short, map(self.word, short)) if len(w) == 1}
        self._index: dict[str, int] | None = None  # every word, built on first need

    def _bigrams(self, arrays: Mapping[str, np.ndarray], n: int):
        """The bigram table: sorted keys and counts, and Witten-Bell's t and d per history."""
        # A bigram's key is prev * (n + 1) + next + 1: with UNKNOWN (-1) for either word, a
        # query key is negative or ends in digit 0, so it matches nothing.
        self._base = n + 1
        prev = np.asarray(arrays["prev"])
        if len(prev) and (prev.min() < 0 or prev.max() >= n):
            raise ValueError("a bigram refers to a word index out of range")
        rows = np.flatnonzero(np.r_[True, prev[1:] != prev[:-1]])[:len(prev)]
        history = prev[rows]
        keys = prev.astype(np.int64)
        del prev
        keys *= self._base
        nxt = np.asarray(arrays["next"])
        if nxt.shape != keys.shape or len(nxt) and (nxt.min() < 0 or nxt.max() >= n):
            raise ValueError("a bigram refers to a word index out of range")
        keys += nxt
        keys += 1
        del nxt
        if np.any(keys[1:] <= keys[:-1]):
            raise ValueError("bigrams are not sorted by (prev, next), or repeat")
        self.bigram_keys = keys
        self.bigram_counts = np.asarray(arrays["pair_counts"])
        if self.bigram_counts.shape != keys.shape:
            raise ValueError("prev, next and pair_counts must be equally long")
        # Witten-Bell, per history h: c(h), the times h was followed by a kept bigram, and
        # T(h), the distinct words that followed it (so each history still sums to 1):
        # p = (count + t * lower) / d with t = T(h) and d = c(h) + T(h). A history never seen
        # (and UNKNOWN) gets t = d = 1, which leaves p = lower exactly (its count is 0).
        context = (np.add.reduceat(self.bigram_counts, rows, dtype=np.int64) if len(rows)
                   else np.zeros(0, dtype=np.int64))
        types = np.diff(np.r_[rows, len(keys)])
        seen = context > 0
        self._t, self._d = np.ones(n + 1, dtype=np.int32), np.ones(n + 1, dtype=np.int64)
        self._t[history[seen]] = types[seen]
        self._d[history[seen]] = context[seen] + types[seen]

    def _lexicon(self, readings: np.ndarray, words: np.ndarray, n: int):
        """The reading index: readings of up to 7 syllables as sorted integer keys (each
        syllable digit in 9 bits), beside their words; 8-syllable readings (a few hundred)
        in a dict by digit tuple."""
        if readings.shape != (len(words), MAX_WORD_LEN) or readings.dtype.kind not in "iu":
            raise ValueError(f"readings must be rows of {MAX_WORD_LEN} syllable digits, one "
                             "per reading word")
        if len(words) and (readings.max() > len(self.syllables) or words.min() < 0
                           or words.max() >= n):
            raise ValueError("a reading refers to a syllable or word index out of range")
        # Readings too long for a key come last.
        short = len(readings) - int(np.count_nonzero(readings[:, _KEY_SYLLABLES:].any(axis=1)))
        self._long_readings: dict[tuple[int, ...], list[int]] = defaultdict(list)
        for digits, w in zip(readings[short:].tolist(), words[short:].tolist()):
            self._long_readings[tuple(d for d in digits if d)].append(w)
        self.reading_keys = _reading_keys(readings[:short, :_KEY_SYLLABLES])
        self.reading_words = words[:short]
        if (np.any(self.reading_keys[1:] < self.reading_keys[:-1])
                or readings[:short, _KEY_SYLLABLES:].any()):
            raise ValueError("readings are not sorted")

    @classmethod
    def from_lists(cls, words: list[str], counts, readings: list[list[str]], prev, nxt,
                   pair_counts, alpha: float = 0.5) -> "WordLM":
        """words[0] is the clause boundary; readings[i] lists word i's toneless readings
        (syllables joined by spaces); bigrams in any order."""
        if not (len(words) == len(counts) == len(readings)) or not words:
            raise ValueError("words, counts and readings must be equally long and non-empty")
        if any("\n" in w for w in words):
            raise ValueError("a word contains a newline")
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
                        key = key * _READING_BASE + d
                    entries.append((key, i, digits))
        entries.sort()
        table = np.zeros((len(entries), MAX_WORD_LEN), dtype=np.uint16)
        for row, (_, _, digits) in enumerate(entries):
            table[row, :len(digits)] = digits
        prev, nxt = np.asarray(prev, dtype=np.int32), np.asarray(nxt, dtype=np.int32)
        pairs = np.lexsort((nxt, prev))
        return cls({"words": utf8("\n".join(words)), "counts": np.asarray(counts, np.int64),
                    "prev": prev[pairs], "next": nxt[pairs],
                    "pair_counts": np.asarray(pair_counts, dtype=np.int64)[pairs],
                    "syllables": utf8("\n".join(syllables)), "readings": table,
                    "reading_words": np.array([i for _, i, _ in entries], dtype=np.int32),
                    "alpha": np.array([alpha])})

    @classmethod
    def train(cls, clauses: Iterable[tuple[list[str], list[str]]],
              extra_words: Iterable[tuple[str, str]] = (), prune: int = 1,
              alpha: float = 0.5) -> "WordLM":
        """clauses: (words, readings) of each training clause, in order; extra_words: (word,
        reading) from word lists, which join the lexicon with count 0. Bigrams seen fewer
        than `prune` times are dropped."""
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
        words = [""] + sorted(w for w in readings if w)
        index = {w: i for i, w in enumerate(words)}
        kept = [(index[a], index[b], n) for (a, b), n in pairs.items() if n >= prune]
        prev, nxt, pair_counts = zip(*kept) if kept else ((), (), ())
        return cls.from_lists(words, [unigram[w] for w in words],
                              [list(readings[w]) for w in words], prev, nxt, pair_counts, alpha)

    def __len__(self) -> int:
        """The number of words, the clause boundary included."""
        return len(self.counts)

    def word(self, i: int) -> str:
        return self._text[self._starts[i]:self._starts[i + 1] - 1].tobytes().decode("utf-8")

    def word_id(self, word: str) -> int:
        """A word's index, or UNKNOWN."""
        if len(word) == 1:
            return self._single.get(word, UNKNOWN)
        if self._index is None:  # for inspection and tests; the decoder never needs it
            self._index = {self.word(i): i for i in range(len(self))}
        return self._index.get(word, UNKNOWN)

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
                if length <= _KEY_SYLLABLES:
                    key = key * _READING_BASE + d
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

    def logprobs(self, previous, words) -> np.ndarray:
        """log P(word | previous word), by index, for arrays that broadcast together
        (BOUNDARY as history = clause start, as the word = clause end; UNKNOWN = a hanzi the
        lexicon does not list)."""
        previous = np.asarray(previous, dtype=np.int64)
        words = np.asarray(words, dtype=np.int64)
        lower = (self._counts[words] + self.alpha) / self.denominator
        query = previous * self._base + (words + 1)
        j = np.searchsorted(self.bigram_keys, query)
        count = (self.bigram_counts.take(j, mode="clip")
                 * (self.bigram_keys.take(j, mode="clip") == query))
        return np.log((count + self._t[previous] * lower) / self._d[previous])

    def logprob(self, previous: int, word: int) -> float:
        return float(self.logprobs(previous, word))

    def save(self, path: Path):
        """The arrays `__init__` takes, as a compressed .npz."""
        prev, nxt = np.divmod(self.bigram_keys - 1, self._base)
        long = sorted((digits, w) for digits, ws in self._long_readings.items() for w in ws)
        # The digits back from the keys: digit t of L sits at bit 9 * (L - 1 - t).
        keys, lengths = self.reading_keys, np.zeros(len(self.reading_keys), dtype=np.int64)
        while np.any(keys >> (_READING_BITS * lengths)):
            lengths += (keys >> (_READING_BITS * lengths)) > 0
        short = np.zeros((len(keys), MAX_WORD_LEN), dtype=np.uint16)
        for t in range(_KEY_SYLLABLES):
            shift = _READING_BITS * np.maximum(lengths - 1 - t, 0)
            short[:, t] = np.where(t < lengths, (keys >> shift) % _READING_BASE, 0)
        arrays = {
            "alpha": np.array([self.alpha]), "words": self._text,
            "counts": _smallest_int(self.counts), "prev": prev.astype(np.int32),
            "next": nxt.astype(np.int32), "pair_counts": _smallest_int(self.bigram_counts),
            "syllables": utf8("\n".join(self.syllables)),
            "readings": np.r_[short, np.array([d for d, _ in long], dtype=np.uint16).reshape(
                -1, MAX_WORD_LEN)],
            "reading_words": np.r_[self.reading_words, [w for _, w in long]].astype(np.int32)}
        save_arrays(path, FORMAT, arrays)

    @classmethod
    def load(cls, path: Path) -> "WordLM":
        hints = {LEGACY_FORMAT: " (convert it with scripts/convert_lm_files.py)"}
        with read_arrays(path, FORMAT, "word model", format_hints=hints) as data:
            return cls(data)


# Reading keys: a reading of up to _KEY_SYLLABLES syllables, as digits 1.._READING_BASE - 1
# (syllable index + 1), is the integer of those digits in base _READING_BASE. No digit is 0,
# so readings of different lengths never share a key.
_READING_BITS = 9
_READING_BASE = 1 << _READING_BITS
_KEY_SYLLABLES = 63 // _READING_BITS  # 7 syllables fit an int64


def _smallest_int(values: np.ndarray) -> np.ndarray:
    return values.astype(np.int32 if values.max(initial=0) < 2 ** 31 else np.int64)


def _reading_keys(digits: np.ndarray) -> np.ndarray:
    """Rows of at most _KEY_SYLLABLES syllable digits, 0 after the end -> int64 keys."""
    keys = np.zeros(len(digits), dtype=np.int64)
    for column in digits.T:
        has = column > 0
        keys[has] = keys[has] * _READING_BASE + column[has]
    return keys


def _line_starts(text: np.ndarray) -> np.ndarray:
    """Where each newline-separated line of `text` starts, and len(text) + 1 (int32)."""
    ends = np.flatnonzero(text == ord("\n"))
    starts = np.empty(len(ends) + 2, dtype=np.int32)
    starts[0], starts[1:-1], starts[-1] = 0, ends + 1, len(text) + 1
    return starts


def _lines(utf8: np.ndarray) -> list[str]:
    text = bytes(np.asarray(utf8, dtype=np.uint8)).decode("utf-8")
    return text.split("\n") if text else []


def training_words(data_dir: Path, sources) -> Iterable[tuple[list[str], list[str]]]:
    """The training split's clauses cut into words by jieba, each word with its annotated
    reading (toneless syllables joined by spaces). Words with an unreadable hanzi are skipped
    by cutting the clause there."""
    import jieba

    from .data.prepare import iter_records

    jieba.setLogLevel(60)
    for record in iter_records(data_dir, "train", sources):
        text, pinyin = record["text"], record["pinyin"]
        words, readings, start = [], [], 0
        for word in jieba.lcut(text, HMM=False):
            syllables = pinyin[start:start + len(word)]
            start += len(word)
            if any(s is None for s in syllables):
                if words:
                    yield words, readings
                words, readings = [], []
                continue
            words.append(word)
            readings.append(" ".join(syllables))
        if words:
            yield words, readings


def listed_words(data_dir: Path) -> Iterable[tuple[str, str]]:
    """The `lexicon` source's training words with their readings (empty if not prepared)."""
    from .data.prepare import iter_records

    for record in iter_records(data_dir, "train", ("lexicon",)):
        if all(record["pinyin"]) and len(record["text"]) > 1:
            yield record["text"], " ".join(record["pinyin"])



def lattice_search(syllables: list[str], rows, singles: list[tuple[np.ndarray, np.ndarray]],
                   hanzi: list[str], hanzi_id: dict[str, int], lm: WordLM, k: int,
                   beam: int = 16, word_weight: float = 1.0, word_bonus: float = 0.0,
                   char_lm=None, char_weight: float = 0.0) -> list[Candidate]:
    """rows[i]: the encoder's log-probs over all hanzi at syllable i; singles[i]: its best
    allowed (hanzi ids, log-probs), the one-character arcs. A character n-gram (`char_lm`,
    ngram.CharNgram) may score the hanzi too, with `char_weight`. Returns the k best distinct
    clauses, best first.

    At each position the search keeps the `beam` best distinct texts that end there (a text
    reached twice keeps its better path) and extends each by every arc that starts there.
    All of a position's extensions are scored at once, as a (paths, arcs) matrix; the
    language models are asked about distinct (history, arc) pairs only."""
    n = len(syllables)
    beam = max(beam, k)
    chars = char_lm if char_weight else None
    if n == 0:
        return [Candidate("", float(0.0 + word_weight * lm.logprob(BOUNDARY, BOUNDARY)
                                    + (char_weight * char_lm.end_logprob("") if chars else 0.0)))]
    arcs = _clause_arcs(syllables, np.asarray(rows), singles, hanzi, hanzi_id, lm, chars)
    hyps = _Hyps([0.0], [""], [BOUNDARY], [chars.history("") if chars else 0], chars)
    blocks: list[list[_Block]] = [[] for _ in range(n + 1)]  # the extensions ending at each
    for i in range(n):
        if i:
            hyps = _best(blocks[i], beam, chars)
        a = arcs[i]
        if hyps is None or not a.words:
            continue
        scores = (hyps.scores[:, None] + a.enc + word_bonus
                  + word_weight * lm.logprobs(hyps.last_u, a.word_ids)[hyps.last_of])
        if chars:
            scores = scores + char_weight * _char_logprobs(chars, hyps, a)
        for end, lo, hi in a.groups:
            blocks[end].append(_Block(hyps, a, lo, scores[:, lo:hi]))
    return _final(blocks[n], k, lm, word_weight, chars, char_weight)


@dataclass
class _Arcs:
    """The arcs that start at one position, in the order the search tries them: the encoder's
    best hanzi, then lexicon words by length and index (so their ends never decrease)."""

    words: list[str]
    word_ids: np.ndarray
    word_id_list: list[int]
    enc: np.ndarray  # the encoder's log-prob of the arc's hanzi (float64)
    groups: list[tuple[int, int, int]]  # (end, first arc, last arc + 1)
    # With a char n-gram of order m + 1 (history keys in base B, see ngram.CharNgram):
    # chars[a], the ids of arc a's characters, also as a padded matrix; for j < m, longer[j]
    # selects the arcs with a character j (a slice when they are the last ones, as usual),
    # whose history includes the path's last m - j characters and prefix[a, j], the key of
    # the arc's first j; inner[a, j], the log-prob of character j >= m of arc a, whose
    # history lies inside the arc (0 elsewhere).
    chars: list[list[int]] = ()
    char_matrix: np.ndarray = None
    prefix: np.ndarray = None
    longer: list = ()
    inner: np.ndarray = None


class _Hyps:
    """The paths kept at one position, best first: their scores, texts, last words and char
    n-gram history keys; and those deduplicated for the language models: last_u[last_of] ==
    last, and per j < m, suffixes[j] = (distinct history % B**(m - j), which each path has)."""

    def __init__(self, scores: list[float], texts: list[str], last: list[int],
                 history: list[int], chars):
        self.scores, self.texts, self.history = np.array(scores), texts, history
        self.last_u, self.last_of = _distinct(last)
        self.last_u = self.last_u[:, None]
        m = chars.order - 1 if chars else 0
        self.suffixes = []
        for j in range(m):
            mod = chars.base ** (m - j)
            suffix, index = _distinct([h % mod for h in history])
            self.suffixes.append((suffix[:, None], index))


def _distinct(items: list[int]) -> tuple[np.ndarray, np.ndarray]:
    """items -> (the distinct items in first-seen order, the index of each item there)."""
    seen: dict[int, int] = {}
    index = [seen.setdefault(x, len(seen)) for x in items]
    return np.array(list(seen), dtype=np.int64), np.array(index)


@dataclass
class _Block:
    """The extensions of `hyps` by arcs[lo:lo + scores.shape[1]], all ending at one position.
    Occurrence j is path j // width extended by arc lo + j % width: the order in which the
    search tries them."""

    hyps: _Hyps
    arcs: _Arcs
    lo: int
    scores: np.ndarray

    def text(self, j: int) -> tuple[str, int, int]:
        h, a = divmod(j, self.scores.shape[1])
        return self.hyps.texts[h] + self.arcs.words[self.lo + a], h, self.lo + a


def _clause_arcs(syllables, rows, singles, hanzi, hanzi_id, lm, chars) -> list[_Arcs]:
    """Every position's arcs: its single hanzi, then the lexicon words that start there and
    whose every hanzi the encoder allows."""
    n = len(syllables)
    found = lm.lexicon(syllables)
    words = [lm.word(w) for _, _, w in found]
    # A word's encoder score: its hanzi's log-probs, summed left to right in float64.
    cells = np.zeros((len(words), MAX_WORD_LEN))
    usable = [True] * len(words)
    at_row, at_hanzi, at_word, at_char = [], [], [], []
    for a, ((i, length, _), word) in enumerate(zip(found, words)):
        ids = [hanzi_id.get(c) for c in word]
        if None in ids:
            usable[a] = False
            continue
        at_row.extend(range(i, i + length))
        at_hanzi.extend(ids)
        at_word.extend([a] * length)
        at_char.extend(range(length))
    cells[at_word, at_char] = rows[at_row, at_hanzi]
    enc = cells[:, 0]
    for j in range(1, max([length for _, length, _ in found], default=1)):
        enc = enc + cells[:, j]
    enc = enc.tolist()
    # Every arc of the clause in one list, position by position; each position a slice.
    all_words, all_ids, all_enc, all_lengths, bounds = [], [], [], [], [0]
    next_word = 0
    for i in range(n):
        ids, logps = singles[i]
        single = [hanzi[h] for h in ids.tolist()]
        all_words.extend(single)
        all_ids.extend(lm.word_id(c) for c in single)
        all_enc.extend(logps.tolist())
        all_lengths.extend([1] * len(single))
        while next_word < len(found) and found[next_word][0] == i:
            _, length, w = found[next_word]
            if usable[next_word] and enc[next_word] > -1e9:  # -inf: a hanzi not allowed
                all_words.append(words[next_word])
                all_ids.append(w)
                all_enc.append(enc[next_word])
                all_lengths.append(length)
            next_word += 1
        bounds.append(len(all_words))
    ids, enc = np.array(all_ids, dtype=np.int64), np.array(all_enc, dtype=np.float64)
    out = []
    for i, (lo, hi) in enumerate(zip(bounds, bounds[1:])):
        groups, start = [], lo
        for j in range(lo + 1, hi + 1):
            if j == hi or all_lengths[j] != all_lengths[start]:
                groups.append((i + all_lengths[start], start - lo, j - lo))
                start = j
        out.append(_Arcs(all_words[lo:hi], ids[lo:hi], all_ids[lo:hi], enc[lo:hi], groups))
    if chars:
        _add_char_fields(out, all_words, bounds, chars)
    return out


def _add_char_fields(arcs: list[_Arcs], words: list[str], bounds: list[int], chars):
    """Fill in the arcs' char n-gram fields (see _Arcs). Lengths here are in characters
    (the same as syllables, except for a vocabulary entry such as <unk>)."""
    m, base = chars.order - 1, chars.base
    get, unknown = chars.char_id.get, chars.unknown
    ids = [[get(c, unknown) for c in w] for w in words]
    lengths = [len(x) for x in ids]
    width = max(lengths, default=0)
    matrix = np.array([x + [unknown] * (width - len(x)) for x in ids], dtype=np.int64)
    matrix = matrix.reshape(len(ids), width)
    # prefix[:, j]: the key of an arc's first j characters; inner: characters j >= m.
    prefix = np.zeros((len(ids), max(m, 1)), dtype=np.int64)
    for j in range(1, min(m, width)):
        prefix[:, j] = prefix[:, j - 1] * base + matrix[:, j - 1]
    inner = np.zeros((len(ids), width))
    history = np.zeros(len(ids), dtype=np.int64)  # key of the m characters before j
    cells, queries, targets = [], [], []
    for j in range(width):
        if j >= m:
            rows = np.flatnonzero(np.array(lengths) > j)
            cells.append((rows, j))
            queries.append(history[rows])
            targets.append(matrix[rows, j])
        history = history % base ** max(m - 1, 0) * base + matrix[:, j] if m else history
    if cells:
        lp = chars.logprobs(np.concatenate(queries), np.concatenate(targets))
        at = 0
        for rows, j in cells:
            inner[rows, j] = lp[at:at + len(rows)]
            at += len(rows)
    for a, lo, hi in zip(arcs, bounds, bounds[1:]):
        a.chars, a.char_matrix, a.prefix = ids[lo:hi], matrix[lo:hi], prefix[lo:hi]
        a.inner = inner[lo:hi, :max(lengths[lo:hi], default=0)]
        a.longer = []
        for j in range(min(m, a.inner.shape[1])):
            longer = [x for x in range(hi - lo) if lengths[lo + x] > j]
            contiguous = longer[0] + len(longer) == hi - lo
            a.longer.append(slice(longer[0], None) if contiguous else np.array(longer))


def _char_logprobs(chars, hyps: _Hyps, arcs: _Arcs) -> np.ndarray:
    """(paths, arcs): the char n-gram log-prob of each arc's characters after each path,
    summed left to right. Character j < m sees the path's last m - j characters: those are
    scored once per distinct path suffix; the rest is `arcs.inner`."""
    histories, targets, sizes = [], [], []
    for j, longer in enumerate(arcs.longer):
        suffix = hyps.suffixes[j][0]  # (distinct suffixes, 1)
        history = suffix * chars.base ** j + arcs.prefix[longer, j]
        histories.append(history.ravel())
        targets.append((history * 0 + arcs.char_matrix[longer, j]).ravel())
        sizes.append(history.shape)
    lp = chars.logprobs(np.concatenate(histories), np.concatenate(targets))
    out, at = None, 0
    for j, (longer, shape) in enumerate(zip(arcs.longer, sizes)):
        part = lp[at:at + shape[0] * shape[1]].reshape(shape)[hyps.suffixes[j][1]]
        at += shape[0] * shape[1]
        if out is None:  # j = 0: every arc
            out = part
        else:
            out[:, longer] += part
    for j in range(len(arcs.longer), arcs.inner.shape[1]):
        out = out + arcs.inner[:, j]
    return out


def _best(blocks: list[_Block], beam: int, chars) -> _Hyps | None:
    """The `beam` best distinct texts among the extensions that end at one position.

    Ranked by score; a text reached twice keeps its first best occurrence. When two texts
    score exactly the same, the order in which the search first met them decides, which
    `_best_in_order` follows."""
    if not blocks:
        return None
    flat = np.concatenate([b.scores.ravel() for b in blocks])
    values = flat.tolist()
    offsets = [0]
    for b in blocks:
        offsets.append(offsets[-1] + b.scores.size)
    chosen: list[tuple[float, str, _Block, int, int]] = []
    seen = set()
    for j in np.argsort(-flat, kind="stable").tolist():
        b = bisect.bisect_right(offsets, j) - 1
        text, h, a = blocks[b].text(j - offsets[b])
        if text in seen:
            continue
        if chosen and values[j] == chosen[-1][0]:
            return _best_in_order(blocks, beam, chars)
        if len(chosen) == beam:
            break
        seen.add(text)
        chosen.append((values[j], text, blocks[b], h, a))
    return _hyps_of(chosen, chars)


def _best_in_order(blocks: list[_Block], beam: int, chars) -> _Hyps:
    """`_best` when two texts tie: keeps the first of them met."""
    best: dict[str, tuple[float, str, _Block, int, int]] = {}
    for block in blocks:
        for j, score in enumerate(block.scores.ravel().tolist()):
            text, h, a = block.text(j)
            known = best.get(text)
            if known is None or score > known[0]:
                best[text] = (score, text, block, h, a)
    return _hyps_of(sorted(best.values(), key=lambda x: -x[0])[:beam], chars)


def _hyps_of(chosen: list[tuple[float, str, _Block, int, int]], chars) -> _Hyps:
    history = [0] * len(chosen)
    if chars:
        m, base = chars.order - 1, chars.base
        for x, (*_, b, h, a) in enumerate(chosen):
            ids = b.arcs.chars[a]
            kept = min(len(ids), m)  # the path keeps its last m - kept characters
            key = b.hyps.history[h] % base ** (m - kept)
            for c in ids[len(ids) - kept:]:
                key = key * base + c
            history[x] = key
    return _Hyps([s for s, *_ in chosen], [t for _, t, *_ in chosen],
                 [b.arcs.word_id_list[a] for *_, b, _, a in chosen], history, chars)


def _histories_after(block: _Block, chars) -> np.ndarray:
    """(paths, arcs): the char n-gram history key of each extension in the block."""
    m, base = chars.order - 1, chars.base
    mod, mul, add = [], [], []
    for ids in block.arcs.chars[block.lo:block.lo + block.scores.shape[1]]:
        kept = min(len(ids), m)
        key = 0
        for c in ids[len(ids) - kept:]:
            key = key * base + c
        mod.append(base ** (m - kept))
        mul.append(base ** kept)
        add.append(key)
    return (np.array(block.hyps.history)[:, None] % np.array(mod)) * np.array(mul) \
        + np.array(add)


def _final(blocks: list[_Block], k: int, lm: WordLM, word_weight: float, chars,
           char_weight: float) -> list[Candidate]:
    """The k best distinct texts that cover the clause, each scored by its best path plus
    the clause end (word model, and char n-gram if any); ties go to the greater text."""
    if not blocks:
        return []
    width = [b.scores.shape[1] for b in blocks]
    pre = np.concatenate([b.scores.ravel() for b in blocks])
    last = np.concatenate([np.zeros(b.scores.shape, dtype=np.int64)
                           + b.arcs.word_ids[b.lo:b.lo + w] for b, w in zip(blocks, width)],
                          axis=None)
    final = pre + word_weight * lm.logprobs(last, BOUNDARY)
    if chars:
        history = np.concatenate([_histories_after(b, chars) for b in blocks], axis=None)
        final = final + char_weight * chars.logprobs(history, chars.eos)
    # A text's score is its best path's (pre) plus that path's end, and no end adds more
    # than `most`: once pre + most falls below the k-th final score, no later text can enter.
    most = float((final - pre).max()) + 1e-6
    values, finals = pre.tolist(), final.tolist()
    offsets = [0]
    for b in blocks:
        offsets.append(offsets[-1] + b.scores.size)
    seen, found, kth = set(), [], []
    for j in np.argsort(-pre, kind="stable").tolist():
        if len(kth) == k and values[j] + most < kth[0]:
            break
        b = bisect.bisect_right(offsets, j) - 1
        text, _, _ = blocks[b].text(j - offsets[b])
        if text in seen:
            continue
        seen.add(text)
        found.append((finals[j], text))
        if len(kth) < k:
            heapq.heappush(kth, finals[j])
        elif finals[j] > kth[0]:
            heapq.heapreplace(kth, finals[j])
    return [Candidate(text, float(score)) for score, text in heapq.nlargest(k, found)]
