"""What one user has committed, remembered to raise those candidates next time.

A cache language model, as libime's user history is: the committed text's character runs
of 2-4 hanzi are counted (no segmenter needed: a word the user typed is among them), and a
candidate gains `weight * log(1 + count)` for each run of it the user has committed before.
`forget(word)` drops every run that holds the word. At most `max_entries` runs are kept (the
least used go first). The file is JSON, written atomically (a crash mid-write leaves the old
file); a file that cannot be read is a ValueError naming it, or, with `recover=True`, is
moved aside to `<name>.corrupt` and a fresh history starts.
"""

from __future__ import annotations

import json
import math
import threading
from collections import Counter
from pathlib import Path

from ..files import atomic_write_text

__all__ = ["UserHistory", "HISTORY_FORMAT"]

HISTORY_FORMAT = "pinyin-hanzi-user-history-1"
RUN_LENGTHS = (2, 3, 4)


def _runs(text: str):
    for n in RUN_LENGTHS:
        for i in range(len(text) - n + 1):
            yield text[i:i + n]


class UserHistory:
    def __init__(self, path: str | Path | None = None, max_entries: int = 50_000,
                 weight: float = 0.5):
        if max_entries < 1:
            raise ValueError(f"max_entries must be >= 1, got {max_entries}")
        self.path = Path(path) if path is not None else None
        self.max_entries, self.weight = max_entries, weight
        self.counts: Counter[str] = Counter()
        self.version = 0
        """Goes up at each change, so that what was ranked by the history can tell it is stale."""
        self._lock = threading.Lock()

    @classmethod
    def load(cls, path: str | Path, recover: bool = False, **kwargs) -> "UserHistory":
        """The history in `path` (empty when the file does not exist yet)."""
        history = cls(path, **kwargs)
        path = history.path
        if not path.exists():
            return history
        try:
            data = json.loads(path.read_text(encoding="utf-8"))
            if not isinstance(data, dict) or data.get("format") != HISTORY_FORMAT:
                raise ValueError(f"not a {HISTORY_FORMAT} file")
            counts = data.get("counts")
            if not isinstance(counts, dict) or not all(
                    isinstance(k, str) and isinstance(v, int) and v > 0
                    for k, v in counts.items()):
                raise ValueError("'counts' is not a map of text to positive integers")
        except (ValueError, UnicodeDecodeError, OSError) as e:
            if not recover:
                raise ValueError(f"user history {path} cannot be read ({e}); delete it or "
                                 f"load with recover=True to start afresh") from None
            path.replace(path.with_name(path.name + ".corrupt"))
            return history
        history.counts.update(counts)
        history._trim()
        return history

    def remember(self, text: str) -> None:
        """Count the runs of committed `text`."""
        with self._lock:
            self.counts.update(_runs(text))
            self._trim()
            self.version += 1

    def forget(self, word: str) -> int:
        """Drop every remembered run that holds `word`; returns how many."""
        with self._lock:
            gone = [run for run in self.counts if word in run or run in word]
            for run in gone:
                del self.counts[run]
            self.version += 1
            return len(gone)

    def bonus(self, text: str) -> float:
        """What `text` gains from what was committed before (0 for nothing known)."""
        counts = self.counts
        return self.weight * sum(math.log1p(counts[run]) for run in _runs(text)
                                 if run in counts)

    def save(self) -> None:
        if self.path is None:
            raise ValueError("this history has no file: give UserHistory a path")
        with self._lock:
            data = {"format": HISTORY_FORMAT, "counts": dict(self.counts)}
        atomic_write_text(self.path, json.dumps(data, ensure_ascii=False))

    def _trim(self) -> None:
        if len(self.counts) > self.max_entries:
            self.counts = Counter(dict(self.counts.most_common(self.max_entries)))

    def __len__(self) -> int:
        return len(self.counts)
