"""Compact count tables for the two language models (ngram.py, wordlm.py): an input method
holds them in memory for as long as it runs, so they are laid out to be small (issue 4).

An n-gram table groups its n-grams by history, as compressed sparse rows: `rows[j]` to
`rows[j + 1]` are history j's n-grams, their next tokens (`next`, ascending) and counts. A
history's number of distinct next tokens (Witten-Bell's T(h)) is then its row's length, and
nothing needs a combined (history, next) key. Every integer array takes the smallest of
uint16, int32 and int64 that holds its values; the compiled search (_lattice.pyx) reads those
three widths in place. Model files keep these arrays as they are (`arrays`, `from_rows`), so
loading a table is reading it.
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
        self._set(keys, rows, nexts, counts)

    @classmethod
    def from_rows(cls, histories: np.ndarray | None, rows: np.ndarray, nexts: np.ndarray,
                  counts: np.ndarray) -> "CountTable":
        """The table from its own arrays (`arrays()`, as a model file keeps them), checked:
        histories None for a dense table (rows by history), else ascending with a non-empty
        row each; within a row, next tokens ascending; counts positive."""
        rows, nexts, counts = np.asarray(rows), np.asarray(nexts), np.asarray(counts)
        histories = None if histories is None else np.asarray(histories)
        lengths = np.diff(rows.astype(np.int64)) if rows.ndim == 1 else None
        if (lengths is None or len(rows) < 1 or nexts.shape != counts.shape
                or nexts.ndim != 1 or rows[0] != 0 or rows[-1] != len(nexts)
                or np.any(lengths < 0)
                or (histories is not None and histories.shape != lengths.shape)):
            raise ValueError("n-gram rows, next tokens and counts do not fit together")
        rising = np.ones(len(nexts), dtype=bool)  # next tokens rise, except where a row starts
        rising[1:] = nexts[1:] > nexts[:-1]
        rising[rows[:-1][lengths > 0]] = True
        if (not rising.all() or np.any(counts <= 0)
                or histories is not None and (np.any(lengths == 0)
                                              or np.any(histories[1:] <= histories[:-1]))):
            raise ValueError("n-grams are not sorted by (history, next), repeat, or are "
                             "counted 0")
        table = cls.__new__(cls)
        table._set(histories, rows, nexts, counts)
        return table

    def _set(self, histories, rows, nexts, counts):
        self.histories = None if histories is None else smallest_int(histories)
        self.rows = smallest_int(rows)
        self.next = smallest_int(nexts)
        self.counts = smallest_int(counts)
        # Witten-Bell's d(h) = c(h) + T(h): c(h) the row's total count, T(h) its length. An
        # unseen history (only in a dense table) has t = d = 1, which keeps the lower order's p.
        self.d = smallest_int(_witten_bell_d(self.counts, self.rows))
        self._keys = None  # see _row_keys

    def arrays(self, prefix: str) -> dict[str, np.ndarray]:
        """What `from_rows` takes, by name (`prefix` + histories, rows, next, counts)."""
        out = {prefix + "rows": self.rows, prefix + "next": self.next,
               prefix + "counts": self.counts}
        if self.histories is not None:
            out[prefix + "histories"] = self.histories
        return out

    def __len__(self) -> int:
        return len(self.next)

    def pairs(self) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """(history, next, count) per n-gram, sorted: the table as it was given."""
        lengths = np.diff(self.rows.astype(np.int64))
        keys = (np.arange(len(lengths)) if self.histories is None
                else self.histories.astype(np.int64))
        return np.repeat(keys, lengths), self.next.astype(np.int64), self.counts

    def _row_keys(self) -> tuple[np.ndarray, int]:
        """Each n-gram as row index * span + next (ascending), built on first use: one
        searchsorted then answers a whole batch. Only the numpy lookups (the n-gram baseline,
        beam search without a word model) build it; the compiled search reads the rows."""
        if self._keys is None:
            span = int(self.next.max()) + 1
            rows = np.repeat(np.arange(len(self.rows) - 1),
                             np.diff(self.rows.astype(np.int64)))
            self._keys = rows * span + self.next, span
        return self._keys

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
        keys, span = self._row_keys()
        query = np.where(found & (nexts >= 0) & (nexts < span), j * span + nexts, -1)
        at = np.searchsorted(keys, query)
        hit = keys.take(at, mode="clip") == query
        count = np.where(hit, self.counts.take(at, mode="clip"), 0)
        seen = hi > lo
        t = np.where(seen, hi - lo, 1)
        d = np.where(seen, self.d.take(j, mode="clip"), 1)
        return count, t, d


_ROWS_AT_ONCE = 4096


def _witten_bell_d(counts: np.ndarray, rows: np.ndarray) -> np.ndarray:
    """d(h) = c(h) + T(h) per row (1 for an empty row), a few thousand rows at a time: done
    at once, the int64 copies of the counts and rows (np.add.reduceat with dtype=int64 makes
    one) would cost at load several times the table itself."""
    d = np.ones(len(rows) - 1, dtype=np.int64)
    for a in range(0, len(d), _ROWS_AT_ONCE):
        bounds = rows[a:a + _ROWS_AT_ONCE + 1].astype(np.int64)
        lengths = np.diff(bounds)
        seen = np.flatnonzero(lengths)
        if len(seen):
            sums = np.add.reduceat(counts[bounds[0]:bounds[-1]].astype(np.int64),
                                   bounds[seen] - bounds[0])
            d[a + seen] = lengths[seen] + sums
    return d
