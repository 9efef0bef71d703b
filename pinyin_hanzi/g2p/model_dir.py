"""What a G2P model directory holds beyond a conversion model's files, read without torch:
its format name in config.json and its reading table (readings.json). The runtime
(runtime/transcriber.py) loads an exported model from these and onnxruntime alone, so a
`g2p` call never pays torch's import, which was most of its time and memory (issue 33)."""

from __future__ import annotations

import json
from pathlib import Path

from ..checkpoint import ModelDirError
from .readings import ReadingTable

FORMAT = "pinyin-hanzi-g2p/1"
READINGS_FILE = "readings.json"


def is_g2p_dir(path) -> bool:
    """Whether `path` holds a G2P model directory (by config.json's format); anything
    unreadable is not one (its loader names what is wrong)."""
    try:
        return json.loads((Path(path) / "config.json").read_text()).get("format") == FORMAT
    except (OSError, ValueError, AttributeError):
        return False


def read_table(model_dir) -> ReadingTable:
    path = Path(model_dir) / READINGS_FILE
    if not path.is_file():
        raise ModelDirError(f"{model_dir}: missing {READINGS_FILE}")
    try:
        return ReadingTable.load(path)
    except ValueError as e:
        raise ModelDirError(str(e)) from None
