"""Keystroke latency of the IBus engine, as an application feels it: key press to candidates.

    python bench/ibus.py [--clauses 100] [--core 1] [--no-write]

A private ibus-daemon (pinyin_hanzi/ibus/harness.py: fresh HOME, the engine started from its
component XML) and an input context typing test clauses: each clause's pinyin a letter at a
time, then Space for the highlighted (first) candidate, which commits it; every tenth clause
after a focus change (the left context dropped), and five clauses later in a new window's
input context (IBus moves its one global engine there). Each key is timed from the client's
ProcessKeyEvent call to its reply, which comes after the engine has converted and sent its
preedit and candidates. One engine a run (IBus.Bus is one per process): run it again for more
first keys of an engine process. Goal (issue 32): p95 <= 15 ms and no key over 50 ms, the first key
of a session and the first key after a commit included. Daemon, engine and client share
`--core` when taskset is there. The table goes to docs/BENCHMARKS.md.
"""

from __future__ import annotations

import argparse
import os
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from keystrokes import summary  # noqa: E402
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.data.decontaminate import benchmark_dir  # noqa: E402
from pinyin_hanzi.ibus import harness, keys  # noqa: E402

P95_GOAL_MS, MAX_GOAL_MS = 15.0, 50.0
FOCUS_EVERY = 10


def clauses(n: int) -> list[str]:
    """`n` clauses' pinyin, run together as users type it, from each test file in turn."""
    out = []
    for name in ("pd98_test.tsv", "reviews_test.tsv"):
        path = benchmark_dir() / name
        lines = path.read_text(encoding="utf-8").splitlines()[:n // 2]
        out += [line.split("\t")[0].replace(" ", "") for line in lines]
    return out


def type_clauses(client: harness.Client, texts: list[str], times: dict[str, list[float]],
                 first_of_engine: bool, address: str) -> None:
    for i, text in enumerate(texts):
        if i and i % FOCUS_EVERY == 0:
            client.focus_out()
            client.focus_in()
            kind = "first key after a focus change"
        elif i % FOCUS_EVERY == FOCUS_EVERY // 2:
            client.focus_out()
            client = harness.Client(address)  # it takes the focus
            kind = "first key in a new window"
        else:
            kind = "first key after a commit" if i else "first key of an engine process"
        if i == 0 and not first_of_engine:
            kind = "first key after a commit"
        for j, ch in enumerate(text):
            client.tap(ord(ch))
            times[kind if j == 0 else "other letters"].append(1000 * client.last_seconds)
        client.tap(keys.space)
        times["Space (takes the first candidate)"].append(1000 * client.last_seconds)
        client.take_committed()


def in_process_ms(texts: list[str]) -> list[float]:
    """The same keys through the engine's key rules and Session in this process (no IBus):
    what the engine's own work costs, apart from IPC and scheduling."""
    from pinyin_hanzi.ibus.editor import Editor
    from pinyin_hanzi.ibus.main import load_converter
    from pinyin_hanzi.ibus.settings import Settings
    from pinyin_hanzi.ibus.warmup import warm
    from pinyin_hanzi.runtime.session import Session
    from pinyin_hanzi.spelling import InputOptions

    options = InputOptions(complete_last=True)
    converter = load_converter(Settings())
    warm(converter, options)
    editor, out = Editor(Session(converter, options=options), Settings(), lambda _: None), []
    for text in texts:
        for keyval in [ord(ch) for ch in text] + [keys.space]:
            start = time.perf_counter()
            editor.key(keyval, 0)
            out.append(1000 * (time.perf_counter() - start))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--clauses", type=int, default=100, help="typed per engine")
    parser.add_argument("--core", type=int, default=None, help="pin to this CPU")
    parser.add_argument("--no-write", action="store_true", help="print only")
    args = parser.parse_args()
    if why := harness.missing():
        sys.exit(f"bench/ibus.py: {why}")
    if args.core is not None and hasattr(os, "sched_setaffinity"):
        os.sched_setaffinity(0, {args.core})  # the daemon and the engine inherit it
    texts = clauses(args.clauses)
    kinds = ["first key of an engine process", "first key after a commit",
             "first key after a focus change", "first key in a new window",
             "other letters",
             "Space (takes the first candidate)"]
    times: dict[str, list[float]] = {kind: [] for kind in kinds}
    starts = []
    for _ in range(1):  # IBus.Bus is a singleton: one daemon per process
        with tempfile.TemporaryDirectory() as root, harness.PrivateDaemon(Path(root)) as daemon:
            start = time.perf_counter()
            client = harness.Client(daemon.address)
            starts.append(time.perf_counter() - start)
            type_clauses(client, texts, times, first_of_engine=True,
                         address=daemon.address)
    every = [t for kind in kinds for t in times[kind]]
    rows = [f"| {kind} | {summary(times[kind], 1)} |" for kind in kinds if times[kind]]
    rows.append(f"| all keys | {summary(every, 1)} |")
    rows.append(f"| all keys, in process (no IBus: key rules + Session) | "
                f"{summary(in_process_ms(texts), 1)} |")
    p95 = sorted(every)[int(0.95 * (len(every) - 1))]
    verdict = (f"p95 {p95:.1f} ms (goal <= {P95_GOAL_MS:.0f}), slowest {max(every):.1f} ms "
               f"(goal <= {MAX_GOAL_MS:.0f}): "
               + ("goals met" if p95 <= P95_GOAL_MS and max(every) <= MAX_GOAL_MS
                  else "goals NOT met"))
    print("\n".join(rows) + "\n" + verdict)
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}.\n"
            f"A private ibus-daemon starts the engine from its component XML (IBus "
            f"{_ibus_version()}); an input context types {len(texts)} test clauses of "
            f"pd98 and reviews, a letter at a time, then "
            f"Space (commits the first candidate); a focus change every {FOCUS_EVERY} clauses, "
            f"and a new window's input context five clauses after each. "
            f"Each key timed from the client's ProcessKeyEvent to its reply (the engine has "
            f"converted and sent the preedit and candidates by then). Engine start (set_engine "
            f"to the engine on; the model loaded and warmed): "
            f"{', '.join(f'{s:.1f}' for s in starts)} s. {verdict}.\n\n"
            "| key | count | median ms | p95 ms | p99 ms | max ms |\n"
            "|---|---|---|---|---|---|\n" + "\n".join(rows) + "\n")
    if not args.no_write:
        write_section("ibus", "## IBus engine: key press to candidates\n\n" + body)


def _ibus_version() -> str:
    from gi.repository import IBus

    return f"{IBus.MAJOR_VERSION}.{IBus.MINOR_VERSION}.{IBus.MICRO_VERSION}"


if __name__ == "__main__":
    main()
