"""The user history as the engine keeps it: written in batches, not on every commit.

Session records each commit in its history, and UserHistory then saves (a merge under a file
lock, a JSON write and an fsync of up to 50,000 entries): for an input method that is time
on the key that commits. `BatchedHistory.save` only counts the commit; the engine writes the
file every FLUSH_AFTER_COMMITS commits, FLUSH_AFTER_SECONDS after a commit, and when it is
switched off or ends, as ibus-table and ibus-libpinyin batch theirs. A history that cannot be
opened or written is a warning in the log, never a dead input method.
"""

from __future__ import annotations

import logging
from pathlib import Path

from ..runtime.history import UserHistory

log = logging.getLogger(__name__)

FLUSH_AFTER_COMMITS = 16
FLUSH_AFTER_SECONDS = 30


def history_files(path: Path) -> list[Path]:
    """The files that hold what was committed: the history, its backup and any unreadable
    one set aside (`.corrupt`, `.corrupt-2`, ...), which clearing left on disk."""
    kept = [path.with_name(path.name + ".bak"), *path.parent.glob(path.name + ".corrupt*")]
    return [p for p in (path, *kept) if p.exists()]


class BatchedHistory(UserHistory):
    pending = 0
    """Commits not yet written."""

    @classmethod
    def open(cls, path: Path) -> "BatchedHistory | None":
        """The history in `path` (an unreadable file is moved aside and a fresh history
        starts, as UserHistory's recover does); None, logged, when it cannot be opened."""
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
            return cls.load(path, recover=True)
        except (OSError, ValueError) as e:
            log.warning("user history %s cannot be opened (%s); nothing will be learned", path, e)
            return None

    def save(self) -> None:
        """Called for each commit (UserHistory.record): writes every FLUSH_AFTER_COMMITS."""
        self.pending += 1
        if self.pending >= FLUSH_AFTER_COMMITS:
            self.flush()

    def flush(self) -> None:
        """Write what is pending; a failed write is logged and stays pending."""
        if not self.pending:
            return
        try:
            super().save()
        except OSError as e:
            log.warning("%s", e)
            return
        self.pending = 0

    def clear(self) -> None:
        """Forget everything: the file (and its backup) removed, the counts emptied, and the
        commits not written yet dropped (after a write that failed, the next one wrote them
        back into the cleared file)."""
        with self._lock:
            for path in history_files(self.path):
                path.unlink(missing_ok=True)
            self.counts.clear()
            self._unsaved.clear()
            self.pending = 0
            self.version += 1
