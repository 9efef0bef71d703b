"""Chinese punctuation for the ASCII keys, as ibus-libpinyin types it by default.

Where ibus-libpinyin and fcitx5 differ (docs/IBUS.md has the table), this follows
ibus-libpinyin, the engine IBus users come from: `{` `}` give 『』, `$` gives ￥ and `` ` ``
gives ·. Quotes alternate, opening then closing, per kind; `.` and `,` right after a digit
stay ASCII, so 3.14 and 1,000 come out as typed.
"""

from __future__ import annotations

FULL_WIDTH = {
    ".": "。", ",": "，", "?": "？", "!": "！", ":": "：", ";": "；", "\\": "、",
    "^": "……", "_": "——", "(": "（", ")": "）", "<": "《", ">": "》",
    "[": "【", "]": "】",
    "{": "『", "}": "』", "$": "￥", "~": "～", "`": "·",
}
QUOTES = {'"': ("“", "”"), "'": ("‘", "’")}


class Punctuator:
    """Which mark a key types; remembers, per kind of quote, whether one is open."""

    def __init__(self):
        self._open = {mark: False for mark in QUOTES}

    def mark(self, key: str, after_digit: bool = False) -> str | None:
        """The Chinese mark for `key`; None when the key stays as typed."""
        if key in ".," and after_digit:
            return None
        if key in QUOTES:
            opening, closing = QUOTES[key]
            closes = self._open[key]
            self._open[key] = not closes
            return closing if closes else opening
        return FULL_WIDTH.get(key)

    def reset(self) -> None:
        """The cursor moved (a click, a new field): the next quote opens."""
        self._open = {mark: False for mark in QUOTES}
