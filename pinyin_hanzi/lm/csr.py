"""Compact count tables for the two language models (ngram.py, words.py): an input method
holds them in memory for as long as it runs, so they are laid out to be small.

An n-gram table groups its n-grams by history, as compressed sparse rows: `rows[j]` to
`rows[j + 1]` are history j's n-grams, their next tokens (`next`, ascending) and counts. A
history's number of distinct next tokens (Witten-Bell's T(h)) is then its row's length, and
nothing needs a combined (history, next) key. Every integer array takes the smallest of
uint16, int32 and int64 that holds its values, except two, which hold most of a model's bytes:
next tokens beyond uint16 take 3 bytes each (`compact_ids`: an (n, 3) uint8 array, little
endian), and counts are 8-bit codes into a table of at most 256 values (`quantize_counts`:
exact up to EXACT_COUNTS, log-spaced above, as libime and KenLM quantize their
probabilities). The compiled search (_lattice.pyx) reads every one of these widths in place.
Model files keep these arrays as they are (`arrays`, `from_rows`), so loading a table is
reading it.
"""

from __future__ import annotations

import numpy as np


def smallest_int(values) -> np.ndarray:
    """Non-negative integers in the smallest of uint16, int32, int64 that holds them."""
    values = np.asarray(values)
    if values.size and values.min() < 0:
        raise ValueError("a table value is negative")
    top = int(values.max(initial=0))
    dtype = np.uint16 if top < 2 ** 16 else np.int32 if top < 2 ** 31 else np.int64
    return values.astype(dtype, copy=False)


EXACT_COUNTS = 128  # counts below this keep their exact value in an 8-bit code
CODES = 256


def quantize_counts(counts) -> tuple[np.ndarray, np.ndarray]:
    """Non-negative counts as (uint8 codes, int64 values), count ~ values[code]. Lossless
    when the counts take at most 256 distinct values; else exact below EXACT_COUNTS and in
    log-spaced bins above, each bin's value the mean of its counts (so a row's total, which
    normalizes Witten-Bell, barely moves: a bin spans a few per cent)."""
    counts = np.asarray(counts, dtype=np.int64)
    if counts.size and counts.min() < 0:
        raise ValueError("a count is negative")
    distinct = np.unique(counts)
    if len(distinct) <= CODES:
        return np.searchsorted(distinct, counts).astype(np.uint8), distinct
    edges = np.unique(np.r_[np.arange(EXACT_COUNTS), np.geomspace(
        EXACT_COUNTS, distinct[-1] + 1, CODES - EXACT_COUNTS, endpoint=False).astype(np.int64)])
    codes = np.searchsorted(edges, counts, "right") - 1
    members = np.bincount(codes, minlength=len(edges))
    sums = np.bincount(codes, weights=counts, minlength=len(edges))
    values = np.where(members > 0, np.rint(sums / np.maximum(members, 1)), edges)
    return codes.astype(np.uint8), values.astype(np.int64)


def codes_fit(codes: np.ndarray, values) -> bool:
    """Whether `codes` are 8-bit codes into `values` (quantize_counts' pair, as read back)."""
    return (codes.dtype == np.uint8 and np.ndim(values) == 1 and len(values) <= CODES
            and not (len(codes) and int(codes.max()) >= len(values)))


def decoded(codes: np.ndarray, values: np.ndarray | None, at) -> np.ndarray:
    """The counts at these places of an array of counts, or of codes into `values`."""
    return codes[at] if values is None else values[codes[at]]


def compact_ids(values) -> np.ndarray:
    """Non-negative ids as uint16 when they fit, else 3 bytes each ((n, 3) uint8, little
    endian) below 2^24, else smallest_int."""
    values = np.asarray(values)
    top = int(values.max(initial=0))
    if values.ndim != 1 or top < 2 ** 16 or top >= 2 ** 24:
        return smallest_int(values)
    if values.min() < 0:
        raise ValueError("a table value is negative")
    return np.ascontiguousarray(values.astype("<u4").view(np.uint8).reshape(-1, 4)[:, :3])


def ids(array: np.ndarray) -> np.ndarray:
    """compact_ids' array as one integer per entry (a copy for the 3-byte form)."""
    array = np.asarray(array)
    if array.ndim == 1:
        return array
    return (array[:, 0].astype(np.int32) | array[:, 1].astype(np.int32) << 8
            | array[:, 2].astype(np.int32) << 16)


def most_informative(counts: np.ndarray, t: np.ndarray, lower: np.ndarray, n: int
                     ) -> np.ndarray:
    """A mask of the n entries (n-grams) that add most over the back-off Witten-Bell would give
    them, by Seymore and Rosenfeld's weighted difference: count x log(1 + count / (t p_lower)),
    t the row's length T(h), p_lower the lower order's probability of the entry's next token.
    A count cut-off drops a pair seen twice after 的 and one seen twice after 去 (医务室)
    alike; this keeps the second. Ties keep the earlier entry."""
    gain = counts * np.log1p(counts / (t * lower))
    keep = np.zeros(len(gain), dtype=bool)
    keep[np.argsort(-gain, kind="stable")[:n]] = True
    return keep


_CHUNK = 1 << 16  # entries decoded at once, where a whole decoded copy would cost too much


class CountTable:
    """N-grams grouped by history: which histories, and per history its next tokens and
    counts, with Witten-Bell's d(h) = c(h) + T(h)."""

    def __init__(self, histories: np.ndarray, nexts: np.ndarray, counts: np.ndarray,
                 dense: int = 0):
        """One entry per n-gram, sorted by (history, next), no pair twice; n-grams counted 0
        are dropped (they say nothing). dense > 0: histories are 0..dense - 1 and the rows
        are indexed by the history itself, with no history keys stored."""
        if not histories.shape == nexts.shape == np.shape(counts) or histories.ndim != 1:
            raise ValueError("n-gram histories, next tokens and counts differ in length")
        if np.any((histories[1:] < histories[:-1])
                  | (histories[1:] == histories[:-1]) & (nexts[1:] <= nexts[:-1])):
            raise ValueError("n-grams are not sorted by (history, next), or repeat")
        keep = np.asarray(counts) > 0
        if not keep.all():  # (a copy only then: tables are loaded next to everything else)
            histories, nexts, counts = histories[keep], nexts[keep], counts[keep]
        starts = np.flatnonzero(np.r_[True, histories[1:] != histories[:-1]])[:len(nexts)]
        if dense:
            lengths = np.zeros(dense, dtype=np.int64)
            lengths[histories[starts]] = np.diff(np.r_[starts, len(nexts)])
            rows, keys = np.r_[0, np.cumsum(lengths)], None
        else:
            rows, keys = np.r_[starts, len(nexts)], histories[starts]
        self._set(keys, rows, compact_ids(nexts), *quantize_counts(counts))

    @classmethod
    def from_rows(cls, histories: np.ndarray | None, rows: np.ndarray, nexts: np.ndarray,
                  counts: np.ndarray, count_values: np.ndarray | None = None) -> "CountTable":
        """The table from its own arrays (`arrays()`, as a model file keeps them), checked:
        histories None for a dense table (rows by history), else ascending with a non-empty
        row each; within a row, next tokens ascending; counts positive (count_values: the
        values of 8-bit count codes, None when the counts are stored as they are)."""
        rows, nexts, counts = np.asarray(rows), np.asarray(nexts), np.asarray(counts)
        histories = None if histories is None else np.asarray(histories)
        lengths = np.diff(rows.astype(np.int64)) if rows.ndim == 1 else None
        three_bytes = nexts.ndim == 2 and nexts.shape[1:] == (3,) and nexts.dtype == np.uint8
        if (lengths is None or len(rows) < 1 or len(nexts) != len(counts)
                or counts.ndim != 1 or not (nexts.ndim == 1 or three_bytes)
                or rows[0] != 0 or rows[-1] != len(nexts) or np.any(lengths < 0)
                or (histories is not None and histories.shape != lengths.shape)
                or count_values is not None and not codes_fit(counts, count_values)):
            raise ValueError("n-gram rows, next tokens and counts do not fit together")
        positive = counts
        if count_values is not None:  # the values of the codes in use
            count_values = np.asarray(count_values, dtype=np.int64)
            positive = count_values[code_histogram(counts, len(count_values)) > 0]
        if (not _rising_in_rows(nexts, rows, lengths) or np.any(positive <= 0)
                or histories is not None and (np.any(lengths == 0)
                                              or np.any(histories[1:] <= histories[:-1]))):
            raise ValueError("n-grams are not sorted by (history, next), repeat, or are "
                             "counted 0")
        table = cls.__new__(cls)
        table._set(histories, rows, nexts if three_bytes else smallest_int(nexts), counts,
                   count_values)
        return table

    def _set(self, histories, rows, nexts, counts, count_values):
        self.histories = None if histories is None else smallest_int(histories)
        self.rows = smallest_int(rows)
        self.next = nexts
        self.counts = counts if count_values is not None else smallest_int(counts)
        self.count_values = count_values  # None: `counts` are the counts themselves
        # Next tokens rise within a row, so the largest is among the rows' last ones.
        ends = self.rows[1:][np.diff(self.rows.astype(np.int64)) > 0].astype(np.int64) - 1
        self.max_next = int(ids(nexts[ends]).max(initial=0))
        # Witten-Bell's d(h) = c(h) + T(h): c(h) the row's total count, T(h) its length. An
        # unseen history (only in a dense table) has t = d = 1, which keeps the lower order's p.
        self.d = smallest_int(_witten_bell_d(self.counts, self.rows, count_values))

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """What `from_rows` takes, by name (`prefix` + histories, rows, next, counts,
        count_values)."""
        out = {prefix + "rows": self.rows, prefix + "next": self.next,
               prefix + "counts": self.counts}
        if self.count_values is not None:
            out[prefix + "count_values"] = self.count_values
        if self.histories is not None:
            out[prefix + "histories"] = self.histories
        return out

    def count(self, at) -> np.ndarray:
        """The counts of the n-grams at these places."""
        return decoded(self.counts, self.count_values, at)

    def __len__(self) -> int:
        return len(self.next)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(history, next, count) per n-gram, sorted: the table as it was given."""
        lengths = np.diff(self.rows.astype(np.int64))
        keys = (np.arange(len(lengths)) if self.histories is None
                else self.histories.astype(np.int64))
        return np.repeat(keys, lengths), ids(self.next).astype(np.int64), self.count(
            slice(None))

    def followers(self, history: int) -> tuple[np.ndarray, np.ndarray]:
        """The next tokens seen after `history` and their counts (empty when unseen)."""
        if self.histories is None:
            j = history if 0 <= history < len(self.rows) - 1 else -1
        else:
            j = int(np.searchsorted(self.histories, history))
            if j >= len(self.histories) or int(self.histories[j]) != history:
                j = -1
        if j < 0:
            return np.zeros(0, dtype=np.int64), np.zeros(0, dtype=np.int64)
        lo, hi = int(self.rows[j]), int(self.rows[j + 1])
        return ids(self.next[lo:hi]).astype(np.int64), self.count(slice(lo, hi))

    def _find_in_rows(self, lo: np.ndarray, hi: np.ndarray, nexts: np.ndarray) -> np.ndarray:
        """Where each next token sits in its row next[lo:hi] (rising), or -1. (A table of
        every n-gram as one sorted key, built on first use, cost 16 MB and raised the first
        abbreviated input's peak from ~90 to ~150 MB.) Few rows asked about many times (the
        reading search: 16 previous words, 3,500 questions) are decoded and searched each
        at once; else one binary search per question, all at once."""
        at = np.full(lo.shape, -1, dtype=np.int64)
        live = np.flatnonzero(hi > lo)
        if not len(live):
            return at
        order = live[np.argsort(lo[live], kind="stable")]
        firsts = np.flatnonzero(np.r_[True, lo[order][1:] != lo[order][:-1]])
        if (hi[order[firsts]] - lo[order[firsts]]).sum() <= ROW_DECODE_FACTOR * len(lo):
            for group in np.split(order, firsts[1:]):
                a, b = int(lo[group[0]]), int(hi[group[0]])
                row = ids(self.next[a:b])
                found = np.searchsorted(row, nexts[group]).clip(0, b - a - 1)
                hit = row[found] == nexts[group]
                at[group[hit]] = a + found[hit]
            return at
        a, b, want = lo[live], hi[live], nexts[live]
        while len(live):
            mid = (a + b) >> 1
            value = ids(self.next[mid]).astype(np.int64)
            hit = value == want
            at[live[hit]] = mid[hit]
            right = value < want
            a, b = np.where(right, mid + 1, a), np.where(right, b, mid)
            more = ~hit & (a < b)
            live, a, b, want = live[more], a[more], b[more], want[more]
        return at

    def lookup(self, histories, nexts) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """For arrays of (history, next) that broadcast together: the pair's count and its
        history's t and d (t = d = 1 for a history not in the table)."""
        histories, nexts = np.broadcast_arrays(np.asarray(histories, dtype=np.int64),
                                               np.asarray(nexts, dtype=np.int64))
        if not len(self.next):  # no n-grams: every history is unseen
            ones = np.ones(histories.shape, dtype=np.int64)
            return ones * 0, ones, ones
        if self.histories is None:
            found = (histories >= 0) & (histories < len(self.rows) - 1)
            j = np.where(found, histories, 0)
        else:
            j = np.searchsorted(self.histories, histories)
            found = self.histories.take(j, mode="clip") == histories if len(
                self.histories) else np.zeros(histories.shape, dtype=bool)
        lo = np.where(found, self.rows.take(j, mode="clip"), 0).astype(np.int64)
        hi = np.where(found, self.rows.take(j + 1, mode="clip"), 0).astype(np.int64)
        shape = histories.shape
        at = self._find_in_rows(lo.ravel(), np.where(nexts >= 0, hi, lo).ravel(),
                                nexts.ravel()).reshape(shape)
        count = np.where(at >= 0, self.count(np.maximum(at, 0)), 0)
        seen = hi > lo
        t = np.where(seen, hi - lo, 1)
        d = np.where(seen, self.d.take(j, mode="clip"), 1)
        return count, t, d


_ROWS_AT_ONCE = 4096
# Rows are decoded whole for a lookup when they hold at most this many entries per question;
# a binary search costs ~17 steps of several array operations per question.
ROW_DECODE_FACTOR = 32


def _chunks(array: np.ndarray):
    """compact_ids' array, _CHUNK entries at a time, as integers."""
    for a in range(0, len(array), _CHUNK):
        yield ids(array[a:a + _CHUNK])


def _rising_in_rows(nexts: np.ndarray, rows: np.ndarray, lengths: np.ndarray) -> bool:
    """Whether next tokens rise within every row (a row may start lower), in chunks."""
    starts = rows[:-1][lengths > 0].astype(np.int64)
    previous = None
    for a, chunk in zip(range(0, len(nexts), _CHUNK), _chunks(nexts)):
        chunk = chunk.astype(np.int64)
        before = np.r_[chunk[:1] - 1 if previous is None else previous, chunk[:-1]]
        rising = chunk > before
        here = starts[np.searchsorted(starts, a):np.searchsorted(starts, a + len(chunk))]
        rising[here - a] = True
        if not rising.all():
            return False
        previous = chunk[-1:]
    return True


def code_histogram(codes: np.ndarray, n_values: int) -> np.ndarray:
    """How often each 8-bit code occurs, in chunks (np.bincount alone copies the codes to
    int64 first: eight times their size at load)."""
    histogram = np.zeros(n_values, dtype=np.int64)
    for a in range(0, len(codes), _CHUNK):
        histogram += np.bincount(codes[a:a + _CHUNK], minlength=n_values)
    return histogram


def _witten_bell_d(counts: np.ndarray, rows: np.ndarray,
                   values: np.ndarray | None = None) -> np.ndarray:
    """d(h) = c(h) + T(h) per row (1 for an empty row), a few thousand rows at a time: done
    at once, the int64 copies of the counts and rows (np.add.reduceat with dtype=int64 makes
    one) would cost at load several times the table itself. values: of 8-bit count codes."""
    d = np.ones(len(rows) - 1, dtype=np.int64)
    for a in range(0, len(d), _ROWS_AT_ONCE):
        bounds = rows[a:a + _ROWS_AT_ONCE + 1].astype(np.int64)
        lengths = np.diff(bounds)
        seen = np.flatnonzero(lengths)
        if len(seen):
            part = counts[bounds[0]:bounds[-1]]
            part = part.astype(np.int64) if values is None else values[part]
            sums = np.add.reduceat(part, bounds[seen] - bounds[0])
            d[a + seen] = lengths[seen] + sums
    return d
