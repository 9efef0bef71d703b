"""Where the service's memory goes in a burst (issue 35; dev/EXPERIMENTS.md, session 18).

    python dev/service_memory.py [--seconds 4] [--census] [--model DIR]

Starts the service as `serve` does (one process, Converter.load(memory_arena=False)) with one
more route, /debug/mem, then sends bench/adversarial.py's costly inputs (its own `attack` and
`probe`) to /v1/convert, /v1/candidates and /v1/convert/batch, --seconds a route. Prints, before
the bursts and 2 s after them: RSS, the resident MB of each kind of mapping (/proc/self/smaps:
[heap], anonymous, each file), pymalloc's arenas and bytes (sys._debugmallocstats) and the
caches' sizes; at the end of the batch clients, how many MB of small objects each cache held
(the drop in pymalloc's allocated bytes as each is cleared, then gc.collect); with --census,
the live objects of each pymalloc arena, by type, and those born since the start (slow, and
its own bookkeeping moves RSS by a few MB: read RSS from a run without it). Linux and
CPython 3.11 (1 MiB arenas of 16 KiB pools) only.
"""

from __future__ import annotations

import argparse
import asyncio
import bisect
import ctypes
import gc
import json
import os
import subprocess
import sys
import time
from collections import Counter, defaultdict
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
POOL_MASK = ~(16 * 1024 - 1)  # obmalloc.c: POOL_BITS 14


# --- in the server process -------------------------------------------------------------------

def smaps_mb() -> dict[str, float]:
    """Resident MB by kind of mapping: [heap], anon, file:<name>, [stack] ..."""
    out: dict[str, int] = defaultdict(int)
    kind = None
    for line in Path("/proc/self/smaps").read_text().splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and not fields[0].endswith(":"):
            path = fields[5] if len(fields) > 5 else ""
            kind = "file:" + Path(path).name if path.startswith("/") else (path or "anon")
        elif fields[:1] == ["Rss:"]:
            out[kind] += int(fields[1])
    return {k: round(v / 1024, 1) for k, v in sorted(out.items(), key=lambda x: -x[1])
            if v > 512}


def pymalloc() -> dict[str, int]:
    """sys._debugmallocstats' totals (it writes to the C stderr: read through a pipe)."""
    read, write = os.pipe()
    saved = os.dup(2)
    os.dup2(write, 2)
    try:
        sys._debugmallocstats()
    finally:
        os.dup2(saved, 2)
        os.close(write)
        os.close(saved)
    with os.fdopen(read) as pipe:
        text = pipe.read()
    keys = {"# arenas allocated current": "arenas", "# bytes in allocated blocks": "allocated",
            "# bytes in available blocks": "available", "unused pools": "unused_pools"}
    return {name: int(line.split("=")[-1].replace(",", ""))
            for line in text.splitlines() for key, name in keys.items() if key in line}


def census(born_after) -> tuple[list, object]:
    """Per pymalloc arena (the pool header's arenaindex): live objects, bytes, the commonest
    types, and those whose id is not in `born_after` (the ids of the last census, a sorted
    numpy array: a set of Python ints would itself take 20 MB of arenas)."""
    import numpy as np

    ranges = []
    for line in Path("/proc/self/maps").read_text().splitlines():
        f = line.split()
        if len(f) == 5 and f[1].startswith("rw"):  # anonymous, writable
            ranges.append(tuple(int(x, 16) for x in f[0].split("-")))
    ranges.sort()
    gc.unfreeze()  # (the service froze what it loaded: gc.get_objects skips it)
    try:
        objects = {id(o): o for o in gc.get_objects()}
    finally:
        gc.freeze()
    stack = list(objects.values())
    while stack:
        for r in gc.get_referents(stack.pop()):
            if id(r) not in objects:
                objects[id(r)] = r
                stack.append(r)
    arenas = defaultdict(lambda: [0, 0, Counter(), Counter()])
    for address, o in objects.items():
        pool = address & POOL_MASK  # (a block never starts in its pool's header)
        i = bisect.bisect_right(ranges, (address, float("inf"))) - 1
        if sys.getsizeof(o) > 512 or i < 0 or not ranges[i][0] <= pool < ranges[i][1]:
            continue  # not small, or not in an anonymous mapping: not pymalloc's
        index = ctypes.c_uint.from_address(pool + 32).value  # pool_header.arenaindex
        size_class = ctypes.c_uint.from_address(pool + 36).value
        if size_class >= 32 or ctypes.c_uint.from_address(pool).value == 0:
            continue  # not a pymalloc pool in use
        arena = arenas[index]
        arena[0] += 1
        arena[1] += (size_class + 1) * 16
        arena[2][type(o).__name__] += 1
        k = np.searchsorted(born_after, address) if born_after is not None else 0
        if born_after is not None and (k == len(born_after) or born_after[k] != address):
            arena[3][f"{type(o).__name__}: {repr(o)[:50]}"] += 1
    rows = [[i, n, size, types.most_common(3), sum(born.values()), born.most_common(3)]
            for i, (n, size, types, born) in sorted(arenas.items())]
    return rows, np.sort(np.fromiter(objects, dtype=np.uint64, count=len(objects)))


def serve(port: int, model: str | None):
    import uvicorn

    from pinyin_hanzi import segment
    from pinyin_hanzi.runtime import server
    from pinyin_hanzi.runtime.converter import Converter

    conv = Converter.load(model, threads=1, memory_arena=False)
    app = server.create_app(model or "shipped", conv)
    first: list = [None]

    def caches() -> dict[str, int]:
        search = conv.reading_search
        return {"parse": conv.parse.cache_info().currsize,
                "chunks": segment._parse_chunk.cache_info().currsize,
                "span_words": conv.word_lm.span_words.cache_info().currsize,
                "arcs": search._arcs.cache_info().currsize, "recent": len(search._recent)}

    @app.get("/debug/mem")
    def mem(drops: int = 0, arenas: int = 0):
        out = {"rss_mb": round(int(Path("/proc/self/statm").read_text().split()[1])
                               * os.sysconf("SC_PAGE_SIZE") / 2**20, 1),
               "smaps_mb": smaps_mb(), "pymalloc": pymalloc(), "caches": caches()}
        if drops:
            search = conv.reading_search
            for name, clear in [("parse", conv.parse.cache_clear),
                                ("recent", search._recent.clear), ("arcs", search.clear),
                                ("span_words", conv.word_lm.span_words.cache_clear),
                                ("chunks", segment.clear_segment_cache),
                                ("gc.collect", gc.collect)]:
                before = pymalloc()["allocated"]
                clear()
                out[f"cleared {name}: MB"] = round((before - pymalloc()["allocated"]) / 2**20, 2)
        if arenas:
            out["arenas"], born = census(first[0])
            first[0] = born if first[0] is None else first[0]
        return out

    uvicorn.run(app, host="127.0.0.1", port=port, access_log=False,
                timeout_keep_alive=server.KEEP_ALIVE_SECONDS)


# --- the driver ----------------------------------------------------------------------------

async def drive(url: str, seconds: float, arenas: bool):
    import httpx

    sys.path.insert(0, str(ROOT / "bench"))
    from adversarial import attack, probe

    async with httpx.AsyncClient(base_url=url, timeout=600) as http:
        async def mem(label: str, **params):
            found = (await http.get("/debug/mem", params=params)).json()
            print(label, json.dumps(found, ensure_ascii=False), flush=True)

        await probe(http, time.monotonic() + 1)
        await mem("before", arenas=int(arenas))
        for route, clients in (("/v1/convert", 4), ("/v1/candidates", 4),
                               ("/v1/convert/batch", 2)):
            until, statuses = time.monotonic() + seconds, {}
            await asyncio.gather(probe(http, until), *(
                attack(http, route, until, c, statuses) for c in range(clients)))
            print(route, statuses, flush=True)
        await mem("end of the batch clients, each cache cleared in turn:", drops=1)
        await probe(http, time.monotonic() + 1)
        await asyncio.sleep(2)
        await mem("2 s after", arenas=int(arenas))


def main():
    parser = argparse.ArgumentParser(description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--seconds", type=float, default=4.0, help="per route")
    parser.add_argument("--census", action="store_true", help="live objects per arena")
    parser.add_argument("--model", default=None)
    parser.add_argument("--serve", type=int, default=0, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        return serve(args.serve, args.model)
    sys.path.insert(0, str(ROOT / "bench"))
    from load import free_port, wait_until_healthy

    port = free_port()
    command = [sys.executable, __file__, "--serve", str(port)]
    server = subprocess.Popen(command + (["--model", args.model] if args.model else []))
    try:
        wait_until_healthy(f"http://127.0.0.1:{port}", server)
        asyncio.run(drive(f"http://127.0.0.1:{port}", args.seconds, args.census))
    finally:
        server.terminate()
        server.wait(30)


if __name__ == "__main__":
    main()
