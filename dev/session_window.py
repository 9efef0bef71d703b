"""Session at a git revision against Session now (issue 32, session 18): the first candidate of
whole clauses typed a key at a time, and the time of each key.

    python dev/session_window.py --old-rev 6e70b3d --windows 10 12 --clauses 1000
    python dev/session_window.py --old-rev 6e70b3d --latency --clauses 0

Accuracy: the first `--clauses` of pd98_test and reviews_test (`--min-syllables` or more),
each typed a letter at a time into a fresh Session (no context, no history) with
session.WINDOW set to each of `--windows`, its final first candidate against the reference;
the old revision's Session converts the whole keys once (it keeps no state between keys).
Latency: bench/ibus.py's clauses through the engine's key rules (ibus.editor.Editor), the old
and new Session side by side clause by clause, wall and thread CPU time per key (the CPU
time is what a busy machine does not inflate). One thread, pinned to `--core`.
"""

from __future__ import annotations

import argparse
import importlib.util
import os
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "bench"))

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.pinyin import PinyinError  # noqa: E402
from pinyin_hanzi.runtime import session as S  # noqa: E402
from pinyin_hanzi.runtime.converter import Converter  # noqa: E402
from pinyin_hanzi.spelling import InputOptions  # noqa: E402


def old_session(rev: str):
    """runtime/session.py at `rev`, as a module beside today's."""
    text = subprocess.run(["git", "show", f"{rev}:pinyin_hanzi/runtime/session.py"],
                          cwd=ROOT, check=True, capture_output=True, text=True).stdout
    path = Path(tempfile.mkdtemp()) / "session_old.py"
    path.write_text(text, encoding="utf-8")
    spec = importlib.util.spec_from_file_location("pinyin_hanzi.runtime._old_session", path)
    module = importlib.util.module_from_spec(spec)
    sys.modules[spec.name] = module
    spec.loader.exec_module(module)
    return module


def quantiles(ms: list[float]) -> str:
    ms = sorted(ms)
    return (f"median {statistics.median(ms):.2f} p95 {ms[int(0.95 * (len(ms) - 1))]:.2f} "
            f"p99 {ms[int(0.99 * (len(ms) - 1))]:.2f} max {ms[-1]:.1f}")


def latency(conv: Converter, old) -> None:
    from ibus import clauses
    from pinyin_hanzi.ibus import keys
    from pinyin_hanzi.ibus.editor import Editor
    from pinyin_hanzi.ibus.settings import Settings
    from pinyin_hanzi.ibus.warmup import warm

    options = InputOptions(complete_last=True)
    warm(conv, options)
    editors = {name: Editor(cls(conv, options=options), Settings(), lambda _: None)
               for name, cls in (("old", old.Session), ("new", S.Session))}
    times: dict[str, list[tuple[float, float]]] = {name: [] for name in editors}
    for text in clauses(100):
        for name, editor in editors.items():
            for keyval in [ord(ch) for ch in text] + [keys.space]:
                wall, cpu = time.perf_counter(), time.thread_time()
                editor.key(keyval, 0)
                times[name].append((1000 * (time.perf_counter() - wall),
                                    1000 * (time.thread_time() - cpu)))
    for name, ms in times.items():
        print(f"{name}: {len(ms)} keys, wall {quantiles([w for w, _ in ms])} | "
              f"thread CPU {quantiles([c for _, c in ms])}", flush=True)


def accuracy(conv: Converter, old, windows: list[int], clauses: int, min_syllables: int):
    rows = []
    for name in ("pd98_test.tsv", "reviews_test.tsv"):
        for line in (benchmark_dir() / name).read_text(encoding="utf-8").splitlines()[:clauses]:
            pinyin, hanzi = line.split("\t")
            if len(pinyin.split()) >= min_syllables:
                rows.append((pinyin.replace(" ", ""), hanzi))
    chars = sum(len(h) for _, h in rows)

    def first(session) -> str:
        try:
            return session.candidates()[0].text
        except (PinyinError, IndexError):
            return ""

    def score(outs: list[str]) -> str:
        right = sum(o == h for o, (_, h) in zip(outs, rows))
        same = sum(a == b for o, (_, h) in zip(outs, rows) for a, b in zip(o, h))
        return (f"{right} of {len(rows)} clauses right ({100 * right / len(rows):.2f} %), "
                f"characters {100 * same / chars:.2f} %")

    before = [first(old.Session(conv, keys=keys)) for keys, _ in rows]
    print(f"old: {score(before)}", flush=True)
    for window in windows:
        S.WINDOW = window
        after = []
        for keys, _ in rows:
            session = S.Session(conv)
            for key in keys:
                session.type(key)
                try:
                    session.candidates()
                except PinyinError:
                    pass
            after.append(first(session))
        gained = sum(n == h != o for o, n, (_, h) in zip(before, after, rows))
        lost = sum(o == h != n for o, n, (_, h) in zip(before, after, rows))
        print(f"window {window}: {score(after)}; differs on "
              f"{sum(o != n for o, n in zip(before, after))}: {gained} now right, "
              f"{lost} no longer", flush=True)


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--old-rev", required=True, help="git revision of the Session before")
    parser.add_argument("--windows", type=int, nargs="+", default=[S.WINDOW])
    parser.add_argument("--clauses", type=int, default=1000, help="of each file; 0: none")
    parser.add_argument("--min-syllables", type=int, default=0)
    parser.add_argument("--latency", action="store_true")
    parser.add_argument("--core", type=int, default=1)
    args = parser.parse_args()
    if hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})
    conv = Converter.load(threads=1)
    old = old_session(args.old_rev)
    if args.latency:
        latency(conv, old)
    if args.clauses:
        accuracy(conv, old, args.windows, args.clauses, args.min_syllables)


if __name__ == "__main__":
    main()
