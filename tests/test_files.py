"""Model array files: stored and aligned so they map, old deflated files still read, no pickle."""

import io
import os
import zipfile

import numpy as np
import pytest

from pinyin_hanzi.files import atomic_dir, read_arrays, save_arrays, utf8

ARRAYS = {"ids": np.arange(10, dtype=np.int64), "small": np.arange(7, dtype=np.uint16),
          "empty": np.zeros(0, dtype=np.int32), "text": utf8("你好"),
          "grid": np.ones((3, 4), dtype=np.float32)}


def test_arrays_are_mapped_in_place_on_64_byte_boundaries(tmp_path):
    path = tmp_path / "lm.npz"
    save_arrays(path, "test/1", ARRAYS)
    with zipfile.ZipFile(path) as archive:
        assert {i.compress_type for i in archive.infolist()} == {zipfile.ZIP_STORED}
    with read_arrays(path, "test/1", "test model") as data:
        for name, array in ARRAYS.items():
            got = data[name]
            assert got.dtype == array.dtype and np.array_equal(got, array)
            if array.size:
                assert isinstance(got, np.memmap) and got.ctypes.data % 64 == 0
                assert not got.flags.writeable
    assert sorted(np.load(path).files) == sorted([*ARRAYS, "format"])  # still a plain .npz


def test_deflated_files_of_before_still_read(tmp_path):
    path = tmp_path / "old.npz"
    np.savez_compressed(path, format=utf8("test/1"), **ARRAYS)
    with read_arrays(path, "test/1", "test model") as data:
        assert np.array_equal(data["grid"], ARRAYS["grid"])


def test_a_pickled_member_is_refused(tmp_path):
    path = tmp_path / "evil.npz"
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, np.array([{"x": 1}], dtype=object), allow_pickle=True)
    with zipfile.ZipFile(path, "w") as archive:
        archive.writestr("format.npy", _npy(utf8("test/1")))
        archive.writestr("counts.npy", buffer.getvalue())
    with pytest.raises(ValueError, match=f"{path}: not a valid test model.*pickle"):
        with read_arrays(path, "test/1", "test model") as data:
            data["counts"]


@pytest.mark.parametrize("cut", [10, 200, -30])
def test_a_truncated_file_names_itself(tmp_path, cut):
    path = tmp_path / "lm.npz"
    save_arrays(path, "test/1", ARRAYS)
    data = path.read_bytes()
    path.write_bytes(data[:cut])
    with pytest.raises(ValueError, match=f"{path}: not a valid test model"):
        with read_arrays(path, "test/1", "test model") as arrays:
            [arrays[name] for name in ARRAYS]


def _npy(array) -> bytes:
    buffer = io.BytesIO()
    np.lib.format.write_array(buffer, array)
    return buffer.getvalue()


def test_a_failed_directory_write_leaves_nothing_behind(tmp_path):
    """A prepare that failed (or was interrupted) left `<dir>.tmp-<pid>` beside the old data,
    once per try."""
    (tmp_path / "data").mkdir()
    (tmp_path / "data" / "old.txt").write_text("old")
    with pytest.raises(KeyboardInterrupt):
        with atomic_dir(tmp_path / "data") as tmp:
            (tmp / "new.txt").write_text("new")
            raise KeyboardInterrupt
    assert [p.name for p in tmp_path.iterdir()] == ["data"]
    assert [p.name for p in (tmp_path / "data").iterdir()] == ["old.txt"]


def _dead_pid() -> int:
    import subprocess
    import sys

    child = subprocess.Popen([sys.executable, "-c", "pass"])
    child.wait()
    return child.pid


def test_what_a_killed_directory_write_left_is_cleared_or_restored(tmp_path):
    """kill -9 left `<dir>.tmp-<pid>` (a whole prepared corpus each time) for good; killed
    between its two renames, the directory itself was gone, its old version at .old-<pid>."""
    pid = _dead_pid()
    (tmp_path / "data").mkdir()
    (tmp_path / f"data.tmp-{pid}").mkdir()
    (tmp_path / f"data.tmp-{pid}" / "part.jsonl").write_text("half")
    with atomic_dir(tmp_path / "data") as tmp:
        (tmp / "new.txt").write_text("new")
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data"]

    (tmp_path / "data").rename(tmp_path / f"data.old-{pid}")  # killed between the renames
    (tmp_path / f"data.tmp-{os.getpid()}x").mkdir()  # not a temporary of this layout: kept
    with pytest.raises(RuntimeError):
        with atomic_dir(tmp_path / "data"):
            raise RuntimeError
    assert (tmp_path / "data" / "new.txt").read_text() == "new"
    assert sorted(p.name for p in tmp_path.iterdir()) == ["data", f"data.tmp-{os.getpid()}x"]
