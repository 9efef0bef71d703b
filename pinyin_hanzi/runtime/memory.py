"""Giving memory back after loading: an input method stays resident for as long as the user
is logged in, so what loading leaves mapped but never uses again is worth returning.

Two kinds, both measured with bench/latency.py (dev/EXPERIMENTS.md, session 14):

* freed heap: loading builds and drops scratch arrays, and glibc keeps freed heap pages
  resident until asked to give them back (`return_freed_heap`);
* a library's start-up code: creating an onnxruntime session runs code (kernel registration,
  graph optimization) that inference never runs again, and its pages stay mapped and counted
  in the resident set: about 15 MB of the library's 19.5. `release_code_pages` drops the
  library's mapped code pages; the kernel maps back, from the page cache, those that run
  again. Only read-only mappings that no write has touched are dropped, so nothing is lost.

A third, for a service whose conversions run on worker threads: glibc gives each thread that
allocates while another holds the heap's lock a heap of its own (up to 8 per core), and what
those heaps have once held largely stays resident even after malloc_trim: after issue 35's
bursts of costly inputs 28-36 MB stayed with them against 10 with one heap for all threads
(`one_heap`; dev/EXPERIMENTS.md, session 17).

Elsewhere than Linux/glibc all three do nothing.
"""

from __future__ import annotations

import ctypes
import sys
from pathlib import Path

MADV_DONTNEED = 4  # Linux: the pages of this range are not needed now
M_ARENA_MAX = -8  # glibc's mallopt parameter: the most heaps (arenas) the threads may use


def return_freed_heap():
    """Ask glibc to give freed heap pages back to the system."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).malloc_trim(0)
        except (OSError, AttributeError):  # another C library
            pass


def one_heap():
    """From now on, threads that start allocating share the heap the process began with
    (glibc's M_ARENA_MAX = 1, as the MALLOC_ARENA_MAX=1 environment variable would): call
    before the worker threads start."""
    if sys.platform.startswith("linux"):
        try:
            ctypes.CDLL(None).mallopt(M_ARENA_MAX, 1)
        except (OSError, AttributeError):  # another C library
            pass


def release_code_pages(library: str, smaps: Path = Path("/proc/self/smaps")) -> int:
    """Drop this process's resident pages of the mapped files whose path contains `library`
    that are executable or read-only and clean (never written: no private dirty page, so the
    file holds exactly what was mapped). Returns the bytes of address range advised."""
    if not sys.platform.startswith("linux"):
        return 0
    try:
        ranges = clean_read_only_ranges(smaps.read_text(), library)
        madvise = ctypes.CDLL(None).madvise
    except (OSError, AttributeError):
        return 0
    madvise.argtypes = [ctypes.c_void_p, ctypes.c_size_t, ctypes.c_int]
    released = 0
    for start, end in ranges:
        if madvise(start, end - start, MADV_DONTNEED) == 0:
            released += end - start
    return released


def clean_read_only_ranges(smaps: str, library: str) -> list[tuple[int, int]]:
    """From /proc/<pid>/smaps text: the (start, end) of each mapping of a file whose path
    contains `library`, mapped without write permission, with no private dirty page."""
    ranges, current = [], None
    for line in smaps.splitlines():
        fields = line.split()
        if fields and "-" in fields[0] and len(fields) >= 5 and not fields[0].endswith(":"):
            current = None
            path = fields[5] if len(fields) > 5 else ""
            if library in path and "w" not in fields[1]:
                start, end = (int(x, 16) for x in fields[0].split("-"))
                current = [start, end, True]
                ranges.append(current)
        elif current is not None and fields[:1] == ["Private_Dirty:"] and fields[1] != "0":
            current[2] = False
    return [(start, end) for start, end, clean in ranges if clean]
