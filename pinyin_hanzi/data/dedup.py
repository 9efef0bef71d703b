"""Exact de-duplication of normalised lines.

Memory grows with the number of distinct lines (about 100 bytes each: 1 GB per 10 M lines); the
text itself streams. For corpora beyond that, shard by `line_key` first (docs/SCALING.md).
"""

from __future__ import annotations

import hashlib


def line_key(text: str) -> bytes:
    """A 12-byte fingerprint of a line, insensitive to whitespace."""
    return hashlib.blake2b("".join(text.split()).encode("utf-8"), digest_size=12).digest()


class Deduper:
    """Remembers the lines it has seen; `first_time_key(line_key(text))` is False for a repeat.

    Keys are computed where the text is (the annotation workers), so only 12 bytes per line
    travel back to the process that remembers them.
    """

    def __init__(self):
        self._seen: set[bytes] = set()

    def first_time(self, text: str) -> bool:
        return self.first_time_key(line_key(text))

    def first_time_key(self, key: bytes) -> bool:
        if key in self._seen:
            return False
        self._seen.add(key)
        return True
