"""The engine's settings file and where its files live (the XDG base directories).

`$XDG_CONFIG_HOME/pinyin-hanzi/ibus.toml` (default ~/.config/pinyin-hanzi/ibus.toml), read
once when the engine starts; every key is optional:

    page_size = 9                  # candidates a page, 3 to 9 (default 5)
    fuzzy = ["z/zh", "in/ing"]     # fuzzy pairs (模糊音), from spelling.FUZZY_PAIRS
    abbreviated = true             # zgrm -> 中国人民
    comma_period_page = true       # , and . page the candidates while composing
    history = true                 # learn from what you commit
    model = "/path/to/model"       # a model directory (default: the shipped model)

A file that cannot be read, or a key with a bad value, is one warning in the log naming the
file and the key, and the defaults for what was bad: a typo never takes the input method down.
"""

from __future__ import annotations

import logging
import os
import tomllib
from dataclasses import dataclass, fields
from pathlib import Path

from ..spelling import FUZZY_PAIRS

log = logging.getLogger(__name__)

APP_DIR = "pinyin-hanzi"
SETTINGS_FILE = "ibus.toml"
HISTORY_FILE = "history.json"
LOG_FILE = "ibus.log"


def _xdg(variable: str, fallback: str) -> Path:
    value = os.environ.get(variable, "")
    # The spec says a relative path is invalid and to be ignored.
    base = Path(value) if value and os.path.isabs(value) else Path.home() / fallback
    return base / APP_DIR


def config_dir() -> Path:
    return _xdg("XDG_CONFIG_HOME", ".config")


def data_dir() -> Path:
    return _xdg("XDG_DATA_HOME", ".local/share")


def cache_dir() -> Path:
    return _xdg("XDG_CACHE_HOME", ".cache")


def history_path() -> Path:
    return data_dir() / HISTORY_FILE


@dataclass(frozen=True)
class Settings:
    page_size: int = 5
    """Candidates a page: 3 to 9, one per number key."""
    fuzzy: tuple[str, ...] = ()
    """Fuzzy pairs read as one sound (spelling.FUZZY_PAIRS)."""
    abbreviated: bool = True
    """Syllables may be cut down to their initial."""
    comma_period_page: bool = True
    """`,` and `.` page the candidates while composing (as `-` and `=` do)."""
    history: bool = True
    """Learn from what is committed (runtime.history.UserHistory in the data directory)."""
    model: str = ""
    """A model directory; empty: the shipped model."""

    def __post_init__(self):
        if not (isinstance(self.page_size, int) and 3 <= self.page_size <= 9):
            raise ValueError(f"page_size must be a whole number from 3 to 9, "
                             f"got {self.page_size!r}")
        if not (isinstance(self.fuzzy, (list, tuple))
                and all(pair in FUZZY_PAIRS for pair in self.fuzzy)):
            raise ValueError(f"fuzzy must be a list of {', '.join(FUZZY_PAIRS)}; "
                             f"got {self.fuzzy!r}")
        object.__setattr__(self, "fuzzy", tuple(self.fuzzy))
        for name in ("abbreviated", "comma_period_page", "history"):
            if not isinstance(getattr(self, name), bool):
                raise ValueError(f"{name} must be true or false, got {getattr(self, name)!r}")
        if not isinstance(self.model, str):
            raise ValueError(f"model must be a directory path, got {self.model!r}")
        # As a shell would: "~/models/mine" was looked for in a folder named "~", and the
        # engine fell back to the shipped model.
        object.__setattr__(self, "model", os.path.expanduser(self.model))


def load_settings(path: Path | None = None) -> Settings:
    """The settings in `path` (default: the config directory's ibus.toml); the defaults, and a
    warning in the log, for whatever cannot be used."""
    path = path or config_dir() / SETTINGS_FILE
    if not path.exists():
        return Settings()
    try:
        # utf-8-sig: a byte order mark (Windows editors write one) was "Invalid statement".
        data = tomllib.loads(path.read_text(encoding="utf-8-sig"))
    except (OSError, UnicodeDecodeError, tomllib.TOMLDecodeError) as e:
        log.warning("settings %s cannot be read (%s); using the defaults", path, e)
        return Settings()
    names = {f.name for f in fields(Settings)}
    for key in sorted(set(data) - names):
        log.warning("settings %s: unknown key %r ignored (known: %s)", path, key,
                    ", ".join(sorted(names)))
    kept = {}
    for key in sorted(set(data) & names):
        try:
            Settings(**{key: data[key]})
        except ValueError as e:
            log.warning("settings %s: %s; using the default", path, e)
        else:
            kept[key] = data[key]
    return Settings(**kept)
