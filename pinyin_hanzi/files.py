"""Writing files so that nothing is lost, and the plain-array files the language models use.

Every write is atomic: into a temporary name beside the target, fsynced, then renamed over it
(`atomic_file`, `atomic_dir`), so a reader, or a run resumed after a kill, sees the old file or
the new one, never half of one. Each write of a file has a temporary name of its own, so two
threads writing one file never write into each other's; what a killed writer left behind,
`remove_stale_temporaries` removes. A write may keep the file it replaces (`previous=`): where
a file is torn all the same (a power cut, a copy cut short), the one before it is there to read.

An array file is an .npz with a `format` array naming its layout, written atomically. Its members are
stored, not deflated, each array's data on a 64-byte boundary of the file, so the reader maps
them (np.memmap, read-only) instead of reading them: loading costs no copy and no transient
buffer, and an engine's resident memory holds only the pages its lookups touch, as libime's
mapped tables do. Deflated files (written before) are still read, array by array. No pickle:
an object array is refused. The reader checks the format and turns every way a file can be
missing or broken into one error that names the file.
"""

from __future__ import annotations

import glob
import io
import os
import secrets
import shutil
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np


TEMPORARY_MARK = ".tmp-"  # `.<name>.tmp-<unique>`: a write of <name> under way, or cut short


@contextmanager
def atomic_file(path: Path, previous: Path | None = None) -> Iterator[Path]:
    """A temporary path beside `path` to write, unique to this write; on success it is fsynced
    and renamed to `path`, on failure removed. With `previous`, the file it replaces (if any)
    is kept there, linked before the rename, so the two never both miss."""
    path = Path(path)
    tmp = _temporary(path)
    try:
        yield tmp
        with open(tmp, "rb") as f:
            os.fsync(f.fileno())
        if previous is not None and path.exists():
            _keep(path, Path(previous))
        # The rename itself is not fsynced (the folder's fsync tripled a small history's
        # commit, 4 -> 12 ms): a power cut may undo the last write, but not tear it.
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _temporary(path: Path) -> Path:
    """A name beside `path` that no other write uses: 64 random bits (not the process id, which
    threads share), the file not created, so it gets the mode any new file gets."""
    return path.with_name(f".{path.name}{TEMPORARY_MARK}{secrets.token_hex(8)}")


def _keep(path: Path, previous: Path):
    """`previous` becomes what `path` is now, atomically: a hard link to it (the file at `path`
    is only ever replaced, never written in place), or a copy where links are not supported."""
    tmp = _temporary(previous)
    try:
        try:
            os.link(path, tmp)
        except OSError:
            shutil.copyfile(path, tmp)
        os.replace(tmp, previous)
    finally:
        tmp.unlink(missing_ok=True)


def remove_stale_temporaries(path: Path) -> list[Path]:
    """Remove the temporaries that writes of `path` cut short (a kill -9) left beside it;
    returns them. Call it only while no write of `path` can be under way (holding the lock its
    writers take): a live write's temporary looks the same."""
    path = Path(path)
    stale = sorted(path.parent.glob(f".{glob.escape(path.name)}{TEMPORARY_MARK}*"))
    for tmp in stale:
        tmp.unlink(missing_ok=True)
    return stale


def atomic_write_bytes(path: Path, data: bytes, previous: Path | None = None):
    with atomic_file(path, previous) as tmp:
        tmp.write_bytes(data)


def atomic_write_text(path: Path, text: str, previous: Path | None = None):
    atomic_write_bytes(path, text.encode("utf-8"), previous)


@contextmanager
def atomic_dir(out_dir: Path) -> Iterator[Path]:
    """A temporary directory beside `out_dir` to fill; on success its files are fsynced and
    it replaces `out_dir` by rename, so readers see the old directory or the new, never half."""
    out_dir = Path(out_dir)
    _recover_killed_writes(out_dir)
    tmp = out_dir.with_name(f"{out_dir.name}.tmp-{os.getpid()}")
    shutil.rmtree(tmp, ignore_errors=True)
    tmp.mkdir(parents=True)
    try:
        yield tmp
    except BaseException:  # a failed or interrupted write leaves nothing behind
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    for path in tmp.rglob("*"):
        if path.is_file():
            with open(path, "rb") as f:
                os.fsync(f.fileno())
    old = out_dir.with_name(f"{out_dir.name}.old-{os.getpid()}")
    if out_dir.exists():
        os.replace(out_dir, old)
    os.replace(tmp, out_dir)
    shutil.rmtree(old, ignore_errors=True)


def _recover_killed_writes(out_dir: Path):
    """What writers of `out_dir` killed mid-way left beside it (kill -9 skips the clean-up):
    a temporary `.tmp-<pid>` is removed (each was a whole prepared corpus, and they piled
    up); an `.old-<pid>`, the directory replaced, is renamed back when the kill fell between
    the two renames and `out_dir` is missing, else removed. Only a dead process's."""
    for path in out_dir.parent.glob(f"{glob.escape(out_dir.name)}.*-*"):
        kind, _, pid = path.name[len(out_dir.name) + 1:].partition("-")
        if kind not in ("tmp", "old") or not pid.isdigit() or _alive(int(pid)):
            continue
        if kind == "old" and not out_dir.exists():
            os.replace(path, out_dir)
        else:
            shutil.rmtree(path, ignore_errors=True)


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:  # another user's
        return True
    return True


# What a truncated, foreign or hand-edited file raises on the way in.
_BROKEN = (OSError, EOFError, UnicodeDecodeError, KeyError, TypeError, ValueError, IndexError,
           zipfile.BadZipFile)


def utf8(text: str) -> np.ndarray:
    """Text as a uint8 array (how strings are stored without pickle)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


_ALIGN = 64  # numpy's own alignment of array data after a .npy header
_LOCAL_HEADER = 30  # bytes of a zip local file header before its name and extra field
_PADDING_ID = 0xD935  # extra-field id of the padding (as zipalign pads Android packages)


def save_arrays(path: Path, file_format: str, arrays: Mapping[str, np.ndarray]):
    """An uncompressed .npz whose every array starts on a 64-byte boundary of the file."""
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_STORED) as archive:
        for name, array in {"format": utf8(file_format), **arrays}.items():
            npy = io.BytesIO()
            np.lib.format.write_array(npy, np.ascontiguousarray(array), allow_pickle=False)
            info = zipfile.ZipInfo(f"{name}.npy", date_time=(1980, 1, 1, 0, 0, 0))
            start = buffer.tell() + _LOCAL_HEADER + len(info.filename.encode()) + 4
            info.extra = (_PADDING_ID.to_bytes(2, "little") + ((-start) % _ALIGN).to_bytes(
                2, "little") + bytes((-start) % _ALIGN))
            archive.writestr(info, npy.getvalue())
    atomic_write_bytes(Path(path), buffer.getvalue())


class _MappedArrays(Mapping):
    """The arrays of an .npz by name: stored members mapped read-only, deflated ones read."""

    def __init__(self, path: Path):
        self.path = path
        self.zip = zipfile.ZipFile(path)
        self.members = {info.filename.removesuffix(".npy"): info
                        for info in self.zip.infolist()}
        self.files = list(self.members)

    def __getitem__(self, name: str) -> np.ndarray:
        info = self.members[name]
        if info.compress_type != zipfile.ZIP_STORED:
            with self.zip.open(info) as f:
                return np.lib.format.read_array(f, allow_pickle=False)
        with open(self.path, "rb") as f:
            f.seek(info.header_offset)
            header = f.read(_LOCAL_HEADER)
            if header[:4] != b"PK\x03\x04":
                raise ValueError(f"member {name} has no local header")
            skip = int.from_bytes(header[26:28], "little") + int.from_bytes(header[28:30],
                                                                              "little")
            f.seek(info.header_offset + _LOCAL_HEADER + skip)
            version = np.lib.format.read_magic(f)
            read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                           else np.lib.format.read_array_header_2_0)
            shape, fortran, dtype = read_header(f)
            offset = f.tell()
        if dtype.hasobject:
            raise ValueError(f"member {name} holds Python objects (pickle): refused")
        size = int(np.prod(shape, dtype=np.int64)) * dtype.itemsize
        if offset + size > info.header_offset + _LOCAL_HEADER + skip + info.file_size:
            raise ValueError(f"member {name} is shorter than its header says")
        if size == 0:
            return np.zeros(shape, dtype=dtype)
        return np.memmap(self.path, dtype=dtype, mode="r", offset=offset, shape=shape,
                         order="F" if fortran else "C")

    def __iter__(self):
        return iter(self.files)

    def __len__(self) -> int:
        return len(self.files)

    def close(self):
        self.zip.close()  # the mapped arrays stay valid: each holds its own mapping


@contextmanager
def read_arrays(path: Path, file_format: str, what: str, missing_hint: str = ""
                ) -> Iterator[Mapping]:
    """The file's arrays, lazily, after checking its format. Inside the block too, a broken
    file ends in FileNotFoundError or ValueError naming `path` and `what` it should be."""
    path = Path(path)
    try:
        data = _MappedArrays(path)
        try:
            found = bytes(data["format"]).decode()
            if found != file_format:
                raise ValueError(f"format is {found!r}, expected {file_format!r}")
            yield data
        finally:
            data.close()
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: {what} file is missing{missing_hint}") from None
    except _BROKEN as e:
        raise ValueError(f"{path}: not a valid {what} file ({e})") from None
