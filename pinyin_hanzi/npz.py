"""Model files of plain numpy arrays (the language models): one writer and one reader.

A file is a compressed .npz with a `format` array naming its layout, written atomically and
read with allow_pickle=False. The reader checks the format and turns every way a file can be
missing or broken into one error that names the file.
"""

from __future__ import annotations

import io
import zipfile
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from pathlib import Path

import numpy as np

from .vocab import atomic_write_bytes

# What a truncated, foreign or hand-edited file raises on the way in.
_BROKEN = (OSError, EOFError, UnicodeDecodeError, KeyError, TypeError, ValueError, IndexError,
           zipfile.BadZipFile)


def utf8(text: str) -> np.ndarray:
    """Text as a uint8 array (how strings are stored without pickle)."""
    return np.frombuffer(text.encode("utf-8"), dtype=np.uint8)


def save_arrays(path: Path, file_format: str, arrays: Mapping[str, np.ndarray]):
    buffer = io.BytesIO()
    np.savez_compressed(buffer, format=utf8(file_format), **arrays)
    atomic_write_bytes(Path(path), buffer.getvalue())


@contextmanager
def read_arrays(path: Path, file_format: str | tuple[str, ...], what: str,
                missing_hint: str = "", format_hints: Mapping[str, str] | None = None
                ) -> Iterator[Mapping]:
    """The file's arrays, lazily, after checking its format (one of `file_format`, the
    first being the current one). Inside the block too, a broken file ends in
    FileNotFoundError or ValueError naming `path` and `what` it should be; `format_hints`
    adds advice for known older formats."""
    path = Path(path)
    accepted = (file_format,) if isinstance(file_format, str) else file_format
    try:
        with np.load(path, allow_pickle=False) as data:
            found = bytes(data["format"]).decode()
            if found not in accepted:
                hint = (format_hints or {}).get(found, "")
                raise ValueError(f"format is {found!r}, expected {accepted[0]!r}{hint}")
            yield data
    except FileNotFoundError:
        raise FileNotFoundError(f"{path}: {what} file is missing{missing_hint}") from None
    except _BROKEN as e:
        raise ValueError(f"{path}: not a valid {what} file ({e})") from None
