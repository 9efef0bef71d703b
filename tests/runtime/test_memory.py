"""Tests for pinyin_hanzi.runtime.memory: which mappings may be dropped, and that dropping
onnxruntime's code pages frees resident memory without changing a single answer."""

import json
import subprocess
import sys
import textwrap

import pytest

from pinyin_hanzi.runtime.memory import clean_read_only_ranges

SMAPS = """\
7f0000000000-7f0000010000 r--p 00000000 08:01 11 /venv/onnxruntime/capi/ort.so
Size:                 64 kB
Rss:                  64 kB
Private_Dirty:         0 kB
VmFlags: rd mr mw me
7f0000010000-7f0000400000 r-xp 00010000 08:01 11 /venv/onnxruntime/capi/ort.so
Rss:                2048 kB
Private_Dirty:         0 kB
7f0000400000-7f0000500000 r--p 00400000 08:01 11 /venv/onnxruntime/capi/ort.so
Rss:                1024 kB
Private_Dirty:       256 kB
7f0000500000-7f0000510000 rw-p 00500000 08:01 11 /venv/onnxruntime/capi/ort.so
Private_Dirty:        64 kB
7f0000510000-7f0000520000 rw-p 00000000 00:00 0
Private_Dirty:        64 kB
7f0000600000-7f0000700000 r-xp 00000000 08:01 12 /usr/lib/libc.so.6
Private_Dirty:         0 kB
"""


def test_only_clean_read_only_mappings_of_the_library_are_chosen():
    """The library's read-only and executable mappings with no dirty page; not the one a
    relocation wrote to, not a writable one, not an anonymous one, not another library."""
    assert clean_read_only_ranges(SMAPS, "onnxruntime") == [
        (0x7f0000000000, 0x7f0000010000), (0x7f0000010000, 0x7f0000400000)]
    assert clean_read_only_ranges(SMAPS, "libc.so") == [(0x7f0000600000, 0x7f0000700000)]
    assert clean_read_only_ranges(SMAPS, "no such library") == []
    assert clean_read_only_ranges("", "onnxruntime") == []


RELEASE_IN_A_CHILD = textwrap.dedent("""
    import json, sys
    from pathlib import Path
    from pinyin_hanzi.runtime import memory
    from pinyin_hanzi.runtime.converter import Converter

    def resident_kb(library):
        total, inside = 0, False
        for line in Path("/proc/self/smaps").read_text().splitlines():
            fields = line.split()
            if fields and "-" in fields[0] and not fields[0].endswith(":"):
                inside = len(fields) > 5 and library in fields[5]
            elif inside and fields[:1] == ["Rss:"]:
                total += int(fields[1])
        return total

    conv = Converter.load(None, backend="onnx", threads=1)
    inputs = ["nihao", "zhongguorenmin", "women yiqi qu xuexiao", "zgrm", "jintian tianqi"]
    before = [[c.text for c in conv.convert(q, 5)] for q in inputs]
    resident = resident_kb("onnxruntime")
    released = memory.release_code_pages("onnxruntime")
    dropped = resident_kb("onnxruntime")
    after = [[c.text for c in conv.convert(q, 5)] for q in inputs]
    print(json.dumps({"before": before, "after": after, "released": released,
                      "resident": resident, "dropped": dropped}))
""")


@pytest.mark.skipif(not sys.platform.startswith("linux"), reason="/proc/self/smaps is Linux's")
def test_dropping_onnxruntime_code_frees_memory_and_changes_no_answer():
    """In a fresh process with the shipped model: after the drop the library holds fewer
    resident pages, and every answer is the same as before it."""
    pytest.importorskip("onnxruntime")
    out = subprocess.run([sys.executable, "-c", RELEASE_IN_A_CHILD], capture_output=True,
                         text=True, check=True, timeout=120)
    result = json.loads(out.stdout.strip().splitlines()[-1])
    assert result["released"] > 0
    assert result["dropped"] < result["resident"]
    assert result["after"] == result["before"]
    assert result["before"][0][0] == "你好"


def test_the_service_turns_onnxruntimes_arena_off_and_one_clause_use_keeps_it():
    """The service (`memory_arena=False`) gives onnxruntime's buffers back after a burst; the
    CLI and IBus, one clause at a time, keep the arena (a lower peak); answers are the same."""
    pytest.importorskip("onnxruntime")
    from pinyin_hanzi.runtime.converter import Converter

    kept, off = Converter.load(threads=1), Converter.load(threads=1, memory_arena=False)
    assert kept.encoder.session.get_session_options().enable_cpu_mem_arena
    assert not off.encoder.session.get_session_options().enable_cpu_mem_arena
    assert ([c.text for c in kept.convert("wo men xian zai qu", 3)]
            == [c.text for c in off.convert("wo men xian zai qu", 3)])
