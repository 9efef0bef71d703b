"""Issue 35's adversarial probe, replayed: the costliest inputs within the limits, alone, typed
a key at a time, and sent to the service by several clients; then the user history's faults.

    python bench/adversarial.py [--seconds 10] [--model DIR] [--budget-clauses 50]
                                [--no-history] [--no-write]

Single inputs run in this process (one encoder thread, a fresh converter each run so no cache
helps, median of 3): whole pinyin of 64 syllables is the yardstick the others are measured
against; `l`*64 read with every fuzzy pair and the last syllable unfinished, `z`*64, and 64
random letters of `lnlnlhszy` are the costliest the reading search met. A Session types `z`*64
one key at a time. Then `pinyin-hanzi serve` (one process) on a free 127.0.0.1 port: a plain
`nihao` is timed one request after another (p50, p99) while nobody else sends, while four
clients send such inputs (each distinct) to /v1/convert and to /v1/candidates, and while two
send batches of 64 of them to /v1/convert/batch; a batch ending in an invalid input, a batch
whose client leaves after 0.2 s, and the server's RSS before, after and 2 s after the bursts.
The history rows are bench/history_faults.py's. With --budget-clauses N, the reading search's
budget (decode/readings.py: states a position, arcs a span) is chosen again: top-1 and
character accuracy on bench/input_forms.py's variants (the first N clauses of each file) for
each budget in BUDGETS, unbounded included. Writes the tables to docs/BENCHMARKS.md (section
"adversarial") unless --no-write.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import statistics
import sys
import time
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parent))
from input_forms import PAIRS, VARIANTS, sources  # noqa: E402
from load import running_server  # noqa: E402
from report import command, git_revision, machine, write_section  # noqa: E402

from pinyin_hanzi.decode.readings import ARCS, ReadingSearch  # noqa: E402
from pinyin_hanzi.runtime.converter import READING_WORD_BONUS, Converter  # noqa: E402
from pinyin_hanzi.runtime.session import Session  # noqa: E402
from pinyin_hanzi.spelling import InputOptions  # noqa: E402

SYLLABLES = 64  # the converter's limit (segment.MAX_INPUT_SYLLABLES)
WHOLE = "zhong guo ren min " * (SYLLABLES // 4)
EVERY_PAIR = {"fuzzy": list(PAIRS), "complete_last": True}
RUNS = 3
# (states a position, arcs a span) tried by --budget-clauses; 10**9 is unbounded
BUDGETS = [(16, 10**9), (16, ARCS), (16, 16), (8, ARCS)]


def random_letters(seed: int) -> str:
    rng = random.Random(seed)
    return "".join(rng.choice("lnlnlhszy") for _ in range(SYLLABLES))


# (label, pinyin, how it is read: the service's fields)
CASES = [
    ("whole pinyin, 64 syllables", WHOLE, {}),
    ("`l`*64, every fuzzy pair, last unfinished", "l" * SYLLABLES, EVERY_PAIR),
    ("`z`*64", "z" * SYLLABLES, {}),
    *[(f"64 random of `lnlnlhszy` (seed {seed})", random_letters(seed), {}) for seed in range(3)],
]


def options(fields: dict) -> InputOptions:
    return InputOptions(complete_last=fields.get("complete_last", False),
                        fuzzy=frozenset(fields.get("fuzzy", ())))


def single_inputs(conv: Converter) -> list[str]:
    rows, baseline = [], None
    for label, pinyin, fields in CASES:
        times = []
        for _ in range(RUNS):
            fresh = conv.with_config(conv.config)  # its own parse cache and reading search
            start = time.perf_counter()
            fresh.convert(pinyin, 5, options=options(fields))
            times.append(1000 * (time.perf_counter() - start))
        ms = statistics.median(times)
        baseline = baseline or ms
        rows.append(f"| one input: {label} | {ms:.1f} ms ({ms / baseline:.1f} x whole pinyin) |")
        print(rows[-1], flush=True)
    return rows


def keystrokes(conv: Converter) -> str:
    session, times = Session(conv.with_config(conv.config)), []
    for _ in range(SYLLABLES):
        session.type("z")
        start = time.perf_counter()
        session.candidates()
        times.append(1000 * (time.perf_counter() - start))
    return (f"| Session, `z`*64 a key at a time | {sum(t > 50 for t in times)} of 64 keys over "
            f"50 ms; median {statistics.median(times):.0f} ms, slowest {max(times):.0f} ms |")


def quantiles(latencies: list[float]) -> str:
    latencies = sorted(latencies)
    p99 = latencies[min(len(latencies) - 1, int(0.99 * len(latencies)))]
    return f"p50 {statistics.median(latencies):.0f} ms, p99 {p99:.0f} ms ({len(latencies)})"


def worst(i: int) -> tuple[str, dict]:
    """The i-th costly input, each distinct so that no cache answers it."""
    kind = i % 3
    if kind == 0:
        return random_letters(1000 + i), {}
    if kind == 1:
        return "l" * (SYLLABLES - i % 7) + "n" * (i % 7), EVERY_PAIR
    return "z" * (SYLLABLES - i % 11) + "c" * (i % 11), {}


async def probe(http: httpx.AsyncClient, until: float) -> list[float]:
    """`nihao` to /v1/convert, one after another until `until`: the latencies in ms."""
    latencies = []
    while time.monotonic() < until:
        start = time.perf_counter()
        response = await http.post("/v1/convert", json={"pinyin": "nihao"})
        response.raise_for_status()
        latencies.append(1000 * (time.perf_counter() - start))
    return latencies


async def attack(http: httpx.AsyncClient, route: str, until: float, client: int,
                 statuses: dict) -> None:
    i = client * 100_000
    while time.monotonic() < until:
        if route == "/v1/convert/batch":
            # One way of reading for the whole batch: the costly inputs read as typed.
            body = {"inputs": [worst(3 * (i + k) + 2 * (k % 2))[0] for k in range(64)]}
            i += 64
        else:
            pinyin, fields = worst(i)
            body = {("keys" if route == "/v1/candidates" else "pinyin"): pinyin, **fields}
            i += 1
        try:
            status = (await http.post(route, json=body)).status_code
        except httpx.TimeoutException:
            status = "timeout"
        statuses[status] = statuses.get(status, 0) + 1


def rss_mb(pid: int) -> float:
    for line in Path(f"/proc/{pid}/status").read_text().splitlines():
        if line.startswith("VmRSS:"):
            return int(line.split()[1]) / 1024
    return float("nan")


async def service(url: str, pid: int, seconds: float) -> list[str]:
    rows = []
    async with httpx.AsyncClient(base_url=url, timeout=120) as http:
        await probe(http, time.monotonic() + 1)  # warm up
        before = rss_mb(pid)
        idle = await probe(http, time.monotonic() + seconds)
        rows.append(f"| service idle: `nihao` | {quantiles(idle)} |")
        print(rows[-1], flush=True)
        for route, clients in (("/v1/convert", 4), ("/v1/candidates", 4),
                               ("/v1/convert/batch", 2)):
            until, statuses = time.monotonic() + seconds, {}
            found = await asyncio.gather(probe(http, until), *(
                attack(http, route, until, c, statuses) for c in range(clients)))
            answered = ", ".join(f"{n} x {s}" for s, n in sorted(statuses.items(), key=str))
            rows.append(f"| service, {clients} clients sending the costliest inputs to {route}: "
                        f"`nihao` | {quantiles(found[0])}; theirs answered {answered} |")
            print(rows[-1], flush=True)
        bad = [random_letters(2000 + k) for k in range(63)] + ["ni hao!"]
        start = time.perf_counter()
        response = await http.post("/v1/convert/batch", json={"inputs": bad})
        rows.append(f"| service: a batch of 64 costly inputs, the last invalid | "
                    f"{response.status_code} in {1000 * (time.perf_counter() - start):.0f} ms |")
        print(rows[-1], flush=True)
        gone = [random_letters(3000 + k) for k in range(64)]
        try:
            await http.post("/v1/convert/batch", json={"inputs": gone}, timeout=0.2)
        except httpx.TimeoutException:
            pass
        after_gone = await probe(http, time.monotonic() + 1)
        rows.append(f"| service: `nihao` in the second after a batch's client left at 0.2 s | "
                    f"{quantiles(after_gone)} |")
        print(rows[-1], flush=True)
        burst = rss_mb(pid)
        await asyncio.sleep(2)
        rows.append(f"| service RSS: before, after the bursts, 2 s later | {before:.0f} -> "
                    f"{burst:.0f} -> {rss_mb(pid):.0f} MB |")
        print(rows[-1], flush=True)
    return rows


def budgets(conv: Converter, clauses: int) -> list[str]:
    """Top-1 and character accuracy (%) and ms a clause per reading-search budget, on the
    variants that the reading search reads."""
    rows, data = [], sources(clauses)
    for variant in ("initials", "mix30", "fuzzy", "unfinished", "open_last"):
        rewrite, how, _ = VARIANTS[variant]
        inputs = []
        for clauses_of_file in data.values():
            rng = random.Random(0)
            inputs += [("'".join(rewrite(s, rng)), h) for s, h in clauses_of_file]
        for beam, arcs in BUDGETS:
            budgeted = conv.with_config(conv.config)
            budgeted.reading_search = ReadingSearch(conv.word_lm, conv.vocab, beam,
                                                    READING_WORD_BONUS, arcs)
            right = same = total = 0
            start = time.perf_counter()
            for text, hanzi in inputs:
                try:
                    found = budgeted.convert(text, 1, options=how)
                except ValueError:
                    found = []
                got = found[0].text if found else ""
                right += got == hanzi
                same += sum(a == b for a, b in zip(got, hanzi)) if len(got) == len(hanzi) else 0
                total += len(hanzi)
            ms = 1000 * (time.perf_counter() - start) / len(inputs)
            rows.append(f"| {variant} | {beam} | {arcs if arcs < 10**9 else 'unbounded'} | "
                        f"{100 * right / len(inputs):.1f} | {100 * same / total:.1f} | "
                        f"{ms:.1f} |")
            print(rows[-1], flush=True)
    return rows


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=10.0, help="per service case")
    parser.add_argument("--model", type=Path, default=None, help="default: the shipped model")
    parser.add_argument("--no-history", action="store_true", help="skip the history rows")
    parser.add_argument("--budget-clauses", type=int, default=0,
                        help="measure the reading search's budgets on this many clauses a file")
    parser.add_argument("--no-write", action="store_true",
                        help="print the table only; leave docs/BENCHMARKS.md alone")
    args = parser.parse_args()

    conv = Converter.load(args.model, threads=1)
    conv.convert("zgrm")  # what loads on first use
    rows = single_inputs(conv) + [keystrokes(conv)]
    print(rows[-1], flush=True)
    with running_server(args.model) as (url, server):
        rows += asyncio.run(service(url, server.pid, args.seconds))
    if not args.no_history:
        from history_faults import rows as history_rows

        for row in history_rows():
            print(row, flush=True)
            rows.append(row)
    cores = len(os.sched_getaffinity(0))
    body = (f"Command: `{command()}` at {git_revision()}; {machine()}; this run and its server "
            f"on {cores} of the cores.\n"
            "Issue 35's cases within the documented limits (64 syllables, 512 characters, "
            "batches of 64); the service is one process, the probe one `nihao` at a time.\n\n"
            "| case | result |\n|---|---|\n" + "\n".join(rows) + "\n")
    if args.budget_clauses:
        body += ("\nThe reading search's budget against its cut: top-1 clause and character "
                 f"accuracy (%) on the first {args.budget_clauses} clauses of each "
                 "bench/input_forms.py file, ms a clause (converted one at a time).\n\n"
                 "| variant | states a position | arcs a span | top-1 | char | ms |\n"
                 "|---|---|---|---|---|---|\n" + "\n".join(budgets(conv, args.budget_clauses))
                 + "\n")
    print(body)
    if not args.no_write:
        write_section("adversarial", "## Adversarial inputs and faults (issue 35)\n\n" + body)


if __name__ == "__main__":
    main()
