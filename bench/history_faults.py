"""The user history under the faults of issue 35: threads, two processes, kill -9, its cost.

    python bench/history_faults.py [--commits 600] [--kills 20] [--no-write]

Each case runs on a fresh history file in a temporary folder: two threads sharing one
UserHistory commit (`remember` + `save`) `--commits` texts each while a third loads the file in
a loop; two processes commit 3 x `--commits` texts each to one file; a process committing in a
loop is killed (SIGKILL) `--kills` times at a random moment, and the file is loaded after each;
and a commit's time on a small history and on a full one (50,000 runs). Issue 35's bench
(bench/adversarial.py, owned with the service's cases) may call `rows()`. Writes the table to
docs/BENCHMARKS.md (section "history-faults") unless --no-write.
"""

from __future__ import annotations

import argparse
import random
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.runtime.history import UserHistory  # noqa: E402


def text(name: str, i: int) -> str:
    """A committed text that is one run of its own (two hanzi), so it is counted whole."""
    return name + chr(0x4E00 + i)


def threads(commits: int) -> str:
    path = Path(tempfile.mkdtemp()) / "history.json"
    history, raised, reads, bad_reads = UserHistory(path), [], [0], [0]
    done = threading.Event()

    def commit(name: str):
        for i in range(commits):
            try:
                history.remember(text(name, i))
                history.save()
            except Exception as e:  # noqa: BLE001 - counted, as the issue counted them
                raised.append(e)

    def read():
        while not done.is_set():
            reads[0] += 1
            try:
                bad_reads[0] += len(UserHistory.load(path)) == 0
            except ValueError:
                bad_reads[0] += 1

    history.remember("开始")
    history.save()
    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=commit, args=(name,)) for name in "甲乙"]
    for t in [reader, *writers]:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    counts = UserHistory.load(path).counts
    kept = sum(counts[text(name, i)] for name in "甲乙" for i in range(commits))
    return (f"| two threads, one UserHistory | {2 * commits} commits: {len(raised)} raised, "
            f"{kept} in the file; {bad_reads[0]} of {reads[0]} loads empty or unreadable |")


COMMITTER = """
import sys
from pinyin_hanzi.runtime.history import UserHistory
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
history = UserHistory.load(path)
for i in range(n):
    history.remember(name + chr(0x4E00 + i))
    history.save()
"""


def processes(commits: int) -> str:
    path = Path(tempfile.mkdtemp()) / "history.json"
    start = time.perf_counter()
    procs = [subprocess.Popen([sys.executable, "-c", COMMITTER, str(path), name, str(commits)])
             for name in "甲乙"]
    if any(p.wait() for p in procs):
        raise SystemExit("a committing process failed")
    counts = UserHistory.load(path).counts
    kept = sum(counts[text(name, i)] for name in "甲乙" for i in range(commits))
    return (f"| two processes, one file | {2 * commits} commits: {kept} in the file "
            f"({time.perf_counter() - start:.1f} s) |")


LOOP = """
import sys
from pinyin_hanzi.runtime.history import UserHistory
history = UserHistory.load(sys.argv[1])
for i in range(10**9):
    history.remember(chr(0x4E00 + i % 20000) + chr(0x4E00 + i // 20000))
    history.save()
"""


def kills(trials: int) -> str:
    rng = random.Random(0)
    unreadable = left = left_after_load = 0
    for _ in range(trials):
        folder = Path(tempfile.mkdtemp())
        path = folder / "history.json"
        proc = subprocess.Popen([sys.executable, "-c", LOOP, str(path)])
        while not path.exists():
            time.sleep(0.01)
        time.sleep(rng.uniform(0.05, 0.5))
        proc.send_signal(signal.SIGKILL)
        proc.wait()
        left += any(".tmp-" in p.name for p in folder.iterdir())
        try:
            UserHistory.load(path)
        except ValueError:
            unreadable += 1
        left_after_load += any(".tmp-" in p.name for p in folder.iterdir())
    return (f"| kill -9 in a commit loop | {trials} kills: {unreadable} files unreadable after; "
            f"temporaries left by {left}, by {left_after_load} after the next load |")


def commit_time(entries: int, commits: int = 15) -> str:
    path = Path(tempfile.mkdtemp()) / "history.json"
    history = UserHistory(path)
    for i in range(entries):
        history.counts[chr(0x4E00 + i % 20000) + chr(0x4E00 + i // 20000)] = 1 + i % 7
    history.save()
    times = []
    for i in range(commits):
        start = time.perf_counter()
        history.record(text("测", i))
        times.append(time.perf_counter() - start)
    return (f"| a commit's time, {entries:,} runs in the history | median "
            f"{statistics.median(times) * 1000:.1f} ms, slowest {max(times) * 1000:.1f} ms |")


def rows(commits: int = 600, trials: int = 20) -> list[str]:
    return [threads(commits), processes(3 * commits), kills(trials), commit_time(100),
            commit_time(50_000)]


def main():
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--commits", type=int, default=600)
    parser.add_argument("--kills", type=int, default=20)
    parser.add_argument("--no-write", action="store_true")
    args = parser.parse_args()
    table = []
    for row in rows(args.commits, args.kills):
        print(row, flush=True)
        table.append(row)
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}.\n"
            "The user history (runtime/history.py) shared and cut short, as issue 35 probed it; "
            "each case on a fresh file.\n\n| case | result |\n|---|---|\n"
            + "\n".join(table) + "\n")
    if not args.no_write:
        write_section("history-faults", "## User history: shared writers and kills\n\n" + body)


if __name__ == "__main__":
    main()
