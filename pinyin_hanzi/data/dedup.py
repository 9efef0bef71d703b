"""De-duplication of normalised lines: exact repeats and near-duplicates.

Exact: a 12-byte fingerprint of the line with whitespace removed. Near: reposts and quotes
repeat a long stretch of another line with a comment, a tag or other punctuation around it
(Weibo's `//@` chains, trending titles with a number changed). A line of at least
NEAR_MIN_HANZI hanzi is a near-duplicate when at least half of its WINDOW-hanzi windows
(hanzi only, punctuation and Latin ignored) were seen in an earlier line of any source.
Long lines keep only the windows whose hash is divisible by SAMPLE, a choice that depends on
the window's text, not its position, so a shifted copy keeps the same windows.

Memory grows with the number of distinct lines (about 100 bytes each: 1 GB per 10 M lines)
and of kept windows (about 70 bytes each, a quarter of the hanzi of long lines); the text
itself streams. For corpora beyond that, shard by `line_key` first (docs/SCALING.md).
"""

from __future__ import annotations

import hashlib

from .clean import HANZI_RUN

NEAR_MIN_HANZI = 12
WINDOW = 12
SAMPLE = 4


def line_key(text: str) -> bytes:
    """A 12-byte fingerprint of a line, insensitive to whitespace."""
    return hashlib.blake2b("".join(text.split()).encode("utf-8"), digest_size=12).digest()


def window_keys(text: str) -> tuple[int, ...]:
    """The hashes of the line's hanzi windows that near-duplicate detection compares (none
    for a line of fewer than NEAR_MIN_HANZI hanzi)."""
    hanzi = "".join(HANZI_RUN.findall(text))
    if len(hanzi) < NEAR_MIN_HANZI:
        return ()
    keys = [int.from_bytes(hashlib.blake2b(hanzi[i:i + WINDOW].encode("utf-8"),
                                           digest_size=8).digest(), "big")
            for i in range(len(hanzi) - WINDOW + 1)]
    if len(hanzi) >= 2 * WINDOW:
        keys = [k for k in keys if k % SAMPLE == 0] or keys[:1]
    return tuple(dict.fromkeys(keys))


class Deduper:
    """Remembers the lines it has seen: `check(line_key(t), window_keys(t))` says whether a
    line is new, a duplicate or a near-duplicate of an earlier one.

    Keys are computed where the text is (the annotation workers), so only the keys travel back
    to the process that remembers them.
    """

    def __init__(self):
        self._seen: set[bytes] = set()
        self._windows: set[int] = set()

    def first_time(self, text: str) -> bool:
        return self.check(line_key(text), window_keys(text)) == "new"

    def first_time_key(self, key: bytes) -> bool:
        return self.check(key) == "new"

    def check(self, key: bytes, windows: tuple[int, ...] = ()) -> str:
        """"new", "duplicate" or "near-duplicate"; a new line's key and windows are kept."""
        if key in self._seen:
            return "duplicate"
        if windows and 2 * sum(w in self._windows for w in windows) >= len(windows):
            return "near-duplicate"
        self._seen.add(key)
        self._windows.update(windows)
        return "new"
