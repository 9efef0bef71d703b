"""What one user has committed, remembered to raise those candidates next time.

A cache language model, as libime's user history is: the committed text's character runs
of 2-4 hanzi are counted (no segmenter needed: a word the user typed is among them), and a
candidate gains `weight * log(1 + count)` for each run of it the user has committed before.
`forget(word)` drops every run that holds the word. At most `max_entries` runs are kept (the
least used go first, the oldest of them first).

The file is JSON, and one user's engines (the IBus one, the web page, their threads) may share
it, so a save is a merge: under an exclusive lock on `<name>.lock` (fcntl.flock; the kernel
drops it when a process dies), the file is read again if another writer changed it, this
history's unsaved counts are added to it, and it is written atomically (files.atomic_file),
the file it replaces kept as `<name>.bak`. No commit of another process or thread is lost, a
kill mid-write leaves the old file (its temporary is removed at the next load), and a file torn
all the same (a power cut) is read from `<name>.bak`, the state before the last save.
`record(text)`, `forget(word)` and `clear()` save at once when the history has a file, each
as one step: if the write fails (a read-only folder) they raise HistoryWriteError and the
history is as it was.
A file that cannot be read, nor its backup, is a ValueError naming it, or, with
`recover=True`, is moved aside to `<name>.corrupt` and a fresh history starts.
"""

from __future__ import annotations

import errno
import heapq
import json
import logging
import math
import os
import secrets
import threading
from collections import Counter
from collections.abc import Iterable
from contextlib import contextmanager
from operator import itemgetter
from pathlib import Path

from ..files import atomic_write_text, remove_stale_temporaries

try:
    import fcntl
except ImportError:  # Windows: only the threads of one process are kept apart
    fcntl = None

__all__ = ["UserHistory", "HistoryWriteError", "HISTORY_FORMAT"]

HISTORY_FORMAT = "pinyin-hanzi-user-history-1"
RUN_LENGTHS = (2, 3, 4)
# A candidate the user picked over the engine's first comes first the next time the same keys
# are typed: its runs are counted up until its bonus is this many nats ahead of that first one.
PICK_MARGIN = 0.1
MAX_PICK_COUNT = 1000  # at most this many counts a run from one pick (weight 0.5: 3.5 nats)
log = logging.getLogger(__name__)


class HistoryWriteError(OSError):
    """The history file could not be written; the history (and a Session committing to it)
    is as it was before the call."""


def _runs(text: str):
    for n in RUN_LENGTHS:
        for i in range(len(text) - n + 1):
            yield text[i:i + n]


def _holds(run: str, word: str) -> bool:
    return word in run or run in word


def _identity(stat: os.stat_result | None, token: str) -> tuple | None:
    """What tells one version of the file from another: the token its writer left in the lock
    file, and, for a file written by other means, its inode, size and mtime (each save is a new
    file, but an inode number may come back, and mtime moves in steps of milliseconds)."""
    return None if stat is None else (token, stat.st_ino, stat.st_size, stat.st_mtime_ns)


TOKEN_BYTES = 16  # hex digits of the write token at the start of the lock file


def _token(lock: int | None) -> str:
    return "" if lock is None else os.pread(lock, TOKEN_BYTES, 0).decode("ascii", "replace")


def _stat(path: Path) -> os.stat_result | None:
    try:
        return path.stat()
    except OSError:
        return None


def _parse(data: bytes) -> Counter[str]:
    data = json.loads(data.decode("utf-8"))
    if not isinstance(data, dict) or data.get("format") != HISTORY_FORMAT:
        raise ValueError(f"not a {HISTORY_FORMAT} file")
    counts = data.get("counts")
    if not isinstance(counts, dict) or not all(
            isinstance(k, str) and isinstance(v, int) and v > 0 for k, v in counts.items()):
        raise ValueError("'counts' is not a map of text to positive integers")
    return Counter(counts)


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
        self._unsaved: Counter[str] = Counter()  # runs remember()ed since the last save
        self._seen: tuple | None = None  # the file's identity when this history last synced
        self._seen_good = False  # whether that file was read (or written) whole
        self._lock = threading.RLock()

    @property
    def backup(self) -> Path:
        """The file as it was before the last save."""
        return self.path.with_name(self.path.name + ".bak")

    @classmethod
    def load(cls, path: str | Path, recover: bool = False, **kwargs) -> "UserHistory":
        """The history in `path` (empty when the file does not exist yet)."""
        history = cls(path, **kwargs)
        path = history.path
        if not path.parent.is_dir():
            return history  # nothing saved yet (the first save needs the folder made)
        try:
            with history._file_lock() as lock:  # no write under way: a temporary is stale
                remove_stale_temporaries(path)
                remove_stale_temporaries(history.backup)
                return history._load(recover, _token(lock))
        except OSError as e:
            if os.access(path.parent, os.W_OK):
                raise
            log.debug("user history %s: read without its lock (%s)", path, e)
            return history._load(recover, "")  # a read-only folder: no writer, no lock

    def _load(self, recover: bool, token: str) -> "UserHistory":
        try:
            counts, stat, whole = self._read()
        except ValueError as e:
            if not recover:
                raise ValueError(f"user history {self.path} cannot be read ({e}); delete it "
                                 f"or load with recover=True to start afresh") from None
            corrupt = self._set_aside()
            # Said where the user looks (the IBus log): what they taught it is set aside.
            log.warning("user history %s cannot be read (%s): moved to %s, starting afresh",
                        self.path, e, corrupt)
            return self
        self.counts = counts
        self._trim()
        self._seen, self._seen_good = _identity(stat, token), whole
        return self

    def _read(self) -> tuple[Counter[str], os.stat_result | None, bool]:
        """(the counts on disk, the stat of the file they are from, whether it was read whole);
        from the backup when the file is torn. No file: empty (a deleted history stays
        deleted). ValueError when neither can be read."""
        if self.path.is_dir():  # given by mistake: as an unreadable file it was moved aside
            raise IsADirectoryError(errno.EISDIR, "a folder, not a user history file: give the "
                                    "path of a file", str(self.path))
        try:
            with open(self.path, "rb") as f:
                stat, data = os.fstat(f.fileno()), f.read()
        except FileNotFoundError:
            return Counter(), None, True
        except OSError as e:
            raise ValueError(e) from None
        try:
            return _parse(data), stat, True
        except (ValueError, UnicodeDecodeError) as e:
            problem = e
        try:
            counts = _parse(self.backup.read_bytes())
        except (ValueError, UnicodeDecodeError, OSError):
            raise ValueError(problem) from None
        log.warning("user history %s cannot be read (%s): read %s, the history before its last "
                    "save", self.path, problem, self.backup)
        return counts, stat, False

    def remember(self, text: str, picks: Iterable[tuple[str, float]] = ()) -> None:
        """Count the runs of committed `text`, in memory (`save` writes them, `record` both).
        picks: (candidate, behind) for each candidate of `text` the user chose over the first
        one, which the engine ranked `behind` nats above it: its runs are counted up until its
        bonus covers that, and PICK_MARGIN more (at most MAX_PICK_COUNT a run), so that it
        comes first when those keys are typed again, as one pick does in libime and Rime."""
        with self._lock:
            picks = [(picked, behind, self.bonus(picked)) for picked, behind in picks]
            runs = Counter(_runs(text))
            for picked, behind, before in picks:
                runs.update(self._pick_counts(picked, before + behind + PICK_MARGIN, runs))
            self.counts.update(runs)
            if self.path is not None:
                self._unsaved.update(runs)
            self._trim()
            self.version += 1

    def _pick_counts(self, picked: str, goal: float, adding: Counter[str]) -> Counter[str]:
        """How much more to count each run of `picked`, beyond `adding`, for its bonus to reach
        `goal`: the least n for every run alike (a binary search), none if it does already."""
        runs = set(_runs(picked))

        def bonus(n: int) -> float:
            return self.weight * sum(math.log1p(self.counts[r] + adding[r] + n) for r in runs)

        if not runs or bonus(0) >= goal:
            return Counter()
        lo, hi = 1, MAX_PICK_COUNT
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (lo, mid) if bonus(mid) >= goal else (mid + 1, hi)
        return Counter({r: lo for r in runs})

    def record(self, text: str, picks: Iterable[tuple[str, float]] = ()) -> None:
        """Remember `text` (and `picks`, as `remember` says) and, with a file, `save`, as one
        step: when the save raises
        (HistoryWriteError: the file cannot be written), nothing is remembered. Session
        commits through it; a subclass may make `save` write only now and then."""
        with self._lock:
            if self.path is None:
                self.remember(text, picks)
                return
            before = self.counts, self._unsaved
            self.counts, self._unsaved = Counter(self.counts), Counter(self._unsaved)
            self.remember(text, picks)
            try:
                self.save()
            except BaseException:
                self.counts, self._unsaved = before
                self.version += 1
                raise

    def forget(self, word: str) -> int:
        """Drop every remembered run that holds `word`, on disk too when the history has a file
        (HistoryWriteError, and nothing dropped, when it cannot be written); returns how many
        of the runs known here were dropped."""
        if not word:  # "" is in every run: it dropped the whole history
            raise ValueError("forget takes the word to forget; clear() forgets everything")
        with self._lock:
            gone = [run for run in self.counts if _holds(run, word)]
            if self.path is not None:
                self._sync(Counter(), drop=lambda run: _holds(run, word))
                return len(gone)
            for run in gone:
                del self.counts[run]
            self.version += 1
            return len(gone)

    def clear(self) -> None:
        """Forget everything, on disk too when the history has a file (what other writers
        saved before included; HistoryWriteError, and nothing forgotten, if it cannot be
        written)."""
        with self._lock:
            if self.path is not None:
                self._sync(Counter(), drop=lambda run: True)
            else:
                self.counts = Counter()
                self.version += 1

    def bonus(self, text: str) -> float:
        """What `text` gains from what was committed before (0 for nothing known)."""
        counts = self.counts
        return self.weight * sum(math.log1p(counts[run]) for run in _runs(text)
                                 if run in counts)

    def save(self) -> None:
        """Merge what was remembered here into the file (HistoryWriteError if it cannot be
        written); the history then holds what other writers saved too."""
        if self.path is None:
            raise ValueError("this history has no file: give UserHistory a path")
        with self._lock:
            self._sync(Counter())

    def _sync(self, add: Counter[str], drop=None) -> None:
        """Write the file as it is on disk, less the runs `drop(run)` is true of, plus this
        history's unsaved runs (but those dropped) and `add`; then the history becomes that.
        When the write fails, nothing here changes."""
        try:
            with self._file_lock() as lock:
                stat = _stat(self.path)
                if _identity(stat, _token(lock)) == self._seen:  # no other writer since
                    counts, whole, unsaved = Counter(self.counts), self._seen_good, Counter()
                else:
                    (counts, whole), unsaved = self._reread(), self._unsaved
                if drop is not None:
                    counts = Counter({r: c for r, c in counts.items() if not drop(r)})
                    unsaved = Counter({r: c for r, c in unsaved.items() if not drop(r)})
                counts.update(unsaved)
                counts.update(add)
                counts = self._trimmed(counts)
                data = {"format": HISTORY_FORMAT, "counts": dict(counts)}
                token = secrets.token_hex(TOKEN_BYTES // 2)
                if lock is not None:  # first: if the write then fails, others merely re-read
                    os.pwrite(lock, token.encode("ascii"), 0)
                atomic_write_text(self.path, json.dumps(data, ensure_ascii=False),
                                  previous=self.backup if whole and stat is not None else None)
                self._seen, self._seen_good = _identity(_stat(self.path), token), True
        except OSError as e:
            why = (f"its folder {self.path.parent} does not exist: make it first"
                   if not self.path.parent.is_dir() else e)
            raise HistoryWriteError(f"user history {self.path} cannot be saved ({why}); "
                                    f"nothing was changed") from e
        self.counts, self._unsaved = counts, Counter()
        self.version += 1

    def _reread(self) -> tuple[Counter[str], bool]:
        """The counts another writer left. From a torn file's backup, each run's count is the
        larger of the backup's and this history's (the torn save may have been ours); a file
        broken past its backup is moved aside (kept for a look) and this history stands in."""
        try:
            counts, _, whole = self._read()
            return (counts, True) if whole else (counts | self._saved_part(), False)
        except ValueError as e:
            corrupt = self._set_aside()
            log.warning("user history %s cannot be read (%s): moved to %s, rewritten from "
                        "this process's history", self.path, e, corrupt)
            return self._saved_part(), True

    def _set_aside(self) -> Path:
        """Move the unreadable file to `<name>.corrupt`, or `.corrupt-2`, ... when an earlier
        one is there: that one, kept for a look too, was replaced."""
        corrupt, n = self.path.with_name(self.path.name + ".corrupt"), 1
        while corrupt.exists():
            n += 1
            corrupt = self.path.with_name(f"{self.path.name}.corrupt-{n}")
        self.path.replace(corrupt)
        return corrupt

    def _saved_part(self) -> Counter[str]:
        """This history's counts less what it has not saved yet."""
        return self.counts - self._unsaved

    @contextmanager
    def _file_lock(self):
        """Exclusive use of the file among processes, through `<name>.lock` (the data file
        itself is replaced at each save, so it cannot carry the lock); yields the lock file's
        descriptor (None without fcntl)."""
        with self._lock:
            if fcntl is None:
                yield None
                return
            fd = os.open(self.path.with_name(self.path.name + ".lock"), os.O_RDWR | os.O_CREAT,
                         0o644)
            try:
                fcntl.flock(fd, fcntl.LOCK_EX)
                yield fd
            finally:
                os.close(fd)  # and with it the lock

    def _trimmed(self, counts: Counter[str]) -> Counter[str]:
        """`counts` less its least used runs past max_entries, the oldest first among equals.
        Only the few past the bound are looked for: sorting a full history (most_common) took
        90 of a commit's 160 ms at 50,000 runs."""
        excess = len(counts) - self.max_entries
        if excess <= 0:
            return counts
        counts = Counter(counts)
        for run, _ in heapq.nsmallest(excess, counts.items(), key=itemgetter(1)):
            del counts[run]
        return counts

    def _trim(self) -> None:
        if len(self.counts) > self.max_entries:  # what is trimmed is not saved either
            self.counts = self._trimmed(self.counts)
            self._unsaved = Counter({r: c for r, c in self._unsaved.items() if r in self.counts})

    def __len__(self) -> int:
        return len(self.counts)
