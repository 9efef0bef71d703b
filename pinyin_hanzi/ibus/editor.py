"""The key rules of the input method, over a runtime.session.Session, with no IBus in sight.

`Editor.key(keyval, state)` takes one key event and says whether the engine used it (True)
or the application should get it (False). What the user sees is read back after each key:
`preedit` (selected hanzi, then the keys left), `candidates` and the highlighted `cursor`;
text to insert goes to the `commit` callback. engine.py draws these through IBus.

The rules, chosen as docs/IBUS.md explains:
- letters compose; `'` separates syllables while composing;
- Space takes the highlighted candidate, 1-9 one of the page; Enter commits what the input
  line shows, keys as typed; Escape drops the input; Backspace deletes a key or undoes a
  selection;
- `-` `=`, `,` `.`, Page Up/Down page, the arrow keys move the highlight;
- Shift pressed and released alone toggles Chinese/English, committing pending keys as typed;
- in Chinese mode punctuation is full width (punctuation.py); while composing, a mark commits
  the best conversion first;
- Ctrl/Alt/Super chords, every key while nothing is composed that is no input, all keys in
  English mode and in password fields go to the application, as do the releases of keys the
  editor did not take (their presses went there).
A conversion that fails is logged and the keys are shown as typed: no key may break typing.
"""

from __future__ import annotations

import logging
from collections.abc import Callable

from ..pinyin import PinyinError
from ..runtime.session import CONTEXT_CHARS, Session
from . import keys
from .punctuation import Punctuator
from .settings import Settings

log = logging.getLogger(__name__)

PAGE_UP_KEYS = {keys.Page_Up, ord("-")}
PAGE_DOWN_KEYS = {keys.Page_Down, ord("=")}
CURSOR_UP_KEYS = {keys.Up, keys.Left}
CURSOR_DOWN_KEYS = {keys.Down, keys.Right}


class Editor:
    def __init__(self, session: Session, settings: Settings, commit: Callable[[str], None]):
        self.session, self.settings, self._commit = session, settings, commit
        self.chinese = True
        """Chinese mode; False: English, every key goes to the application."""
        self.passthrough = False
        """A password field: the editor stays out of the way."""
        self.candidates: list[str] = []
        self.cursor = 0
        """The highlighted candidate, an index into `candidates`."""
        self.punctuator = Punctuator()
        self._after_digit = False
        self._lone_shift: int | None = None  # a Shift pressed with nothing else since
        self._taken: set[int] = set()  # keys whose press was used: their release is too

    @property
    def preedit(self) -> str:
        return self.session.preedit

    @property
    def composing(self) -> bool:
        return bool(self.session.preedit)

    @property
    def page_start(self) -> int:
        size = self.settings.page_size
        return self.cursor // size * size

    def key(self, keyval: int, state: int) -> bool:
        """One key event; True when the editor used it."""
        try:
            if state & keys.RELEASE_MASK:
                return self._release(keyval)
            self._lone_shift = (keyval if keyval in (keys.Shift_L, keys.Shift_R)
                                and not state & keys.CHORD_MASK else None)
            if self.passthrough or not self.chinese or state & keys.CHORD_MASK:
                return False
            used = self._press(keyval, state)
        except Exception:
            # Never let a key take the input method down: keep what was typed, show it as is.
            log.exception("key %#x (state %#x) failed; showing the keys as typed", keyval, state)
            self.candidates, self.cursor = [], 0
            used = self.composing
        if used:
            self._taken.add(keyval)
        return used

    def _release(self, keyval: int) -> bool:
        if keyval == self._lone_shift and not self.passthrough:
            self._lone_shift = None
            self.toggle_mode()
        if keyval in self._taken:
            self._taken.discard(keyval)
            return True
        return False

    def toggle_mode(self) -> None:
        """Chinese <-> English; what is being composed is committed as typed."""
        if self.composing:
            self.commit_as_typed()
        self.chinese = not self.chinese

    def _press(self, keyval: int, state: int) -> bool:
        ch = keys.char(keyval)
        if not self.composing:
            if ch.isascii() and ch.islower():
                return self._type(ch)
            if ch.isdigit():
                self._after_digit = True
                return False
            after_digit, self._after_digit = self._after_digit, False
            mark = self.punctuator.mark(ch, after_digit) if ch else None
            if mark is None:
                return False
            self._emit(mark)
            return True
        # Composing: every key below is the input method's; the application sees none.
        number = keys.digit(keyval)
        if ch.isalpha():
            return self._type(ch)
        if ch == "'":  # a syllable boundary (xi'an); a second one adds nothing
            return self._type(ch) if not self.session.keys.endswith("'") else True
        if keyval == keys.space:
            return self.select(self.cursor) if self.candidates else self.commit_as_typed()
        if number is not None:
            index = self.page_start + number - 1
            if number <= self.settings.page_size:
                self.select(index)
            return True
        if keyval in (keys.Return, keys.KP_Enter):
            return self.commit_as_typed()
        if keyval == keys.Escape:
            self.session.reset()
            return self._refresh()
        if keyval == keys.BackSpace:
            self.session.backspace()
            return self._refresh()
        paging = self.candidates and self.settings.comma_period_page
        if keyval in PAGE_UP_KEYS or (paging and ch == ","):
            return self.page_up()
        if keyval in PAGE_DOWN_KEYS or (paging and ch == "."):
            return self.page_down()
        if keyval in CURSOR_UP_KEYS:
            return self.move(-1)
        if keyval in CURSOR_DOWN_KEYS:
            return self.move(+1)
        mark = self.punctuator.mark(ch) if ch else None
        if mark is not None:
            self._emit(self._commit_session() + mark)
        return True

    def _type(self, ch: str) -> bool:
        self.session.type(ch)
        return self._refresh()

    def _refresh(self) -> bool:
        """Convert the keys again; the highlight goes back to the first candidate."""
        self.cursor = 0
        try:
            self.candidates = [c.text for c in self.session.candidates()]
        except PinyinError:
            self.candidates = []  # not pinyin (yet): the keys are shown as typed
        except Exception:
            log.exception("converting %r failed; showing the keys as typed", self.session.keys)
            self.candidates = []
        return True

    # Actions, also reached from the panel (engine.py: clicks, page buttons).

    def select(self, index: int) -> bool:
        """Take candidate `index`: commits when it uses up the input, else converts the rest."""
        if not 0 <= index < len(self.candidates):
            return True
        committed = self.session.select(index)
        if committed is not None:
            self._emit(committed)
        return self._refresh()

    def commit_as_typed(self) -> bool:
        """Commit what the input line shows (selected hanzi, then the keys as typed)."""
        text = self.preedit
        self.session.reset()
        self._remember_context(text)
        self._emit(text)
        return self._refresh()

    def page_up(self) -> bool:
        self.cursor = max(self.page_start - self.settings.page_size, 0)
        return True

    def page_down(self) -> bool:
        start = self.page_start + self.settings.page_size
        if start < len(self.candidates):
            self.cursor = start
        return True

    def move(self, step: int) -> bool:
        if self.candidates:
            self.cursor = min(max(self.cursor + step, 0), len(self.candidates) - 1)
        return True

    def reset(self) -> None:
        """The cursor moved (focus changed, a click): drop the input, the left context and the
        open quotes."""
        self.session.reset()
        self.session.context = ""
        self.punctuator.reset()
        self.candidates, self.cursor, self._after_digit = [], 0, False

    def _commit_session(self) -> str:
        try:
            return self.session.commit()
        except Exception:
            log.exception("committing %r failed; committing the keys as typed", self.preedit)
            text = self.preedit
            self.session.reset()
            return text

    def _remember_context(self, text: str) -> None:
        self.session.context = (self.session.context + text)[-CONTEXT_CHARS:]

    def _emit(self, text: str) -> None:
        self._after_digit = text[-1:].isdigit()
        if text:
            self._commit(text)
