"""The IBus engine: IBus's events go to the Editor, and the Editor's state is drawn back.

One engine per input context (IBus asks the factory for one each time a context enables
it); all share one Converter and one user history. The preedit is sent in
PreeditFocusMode.COMMIT, so that a click or a focus change, which IBus answers by committing
the preedit, never loses what was typed; the engine then starts afresh, the left context
dropped (the cursor may be anywhere now).
"""

from __future__ import annotations

import logging
from collections.abc import Callable

import gi

gi.require_version("IBus", "1.0")
from gi.repository import GLib, IBus  # noqa: E402

from ..runtime.session import Session  # noqa: E402
from .editor import Editor  # noqa: E402
from .history import FLUSH_AFTER_SECONDS, BatchedHistory  # noqa: E402
from .settings import Settings  # noqa: E402

log = logging.getLogger(__name__)

MODE_PROPERTY, CLEAR_PROPERTY = "InputMode", "ClearHistory"
SECRET_PURPOSES = (IBus.InputPurpose.PASSWORD, IBus.InputPurpose.PIN)


def _text(s: str) -> IBus.Text:
    return IBus.Text.new_from_string(s)


class PinyinHanziEngine(IBus.Engine):
    __gtype_name__ = "PinyinHanziEngine"

    def __init__(self, connection, object_path: str, session: Session, settings: Settings,
                 history: BatchedHistory | None = None):
        super().__init__(connection=connection, object_path=object_path)
        self.history = history
        self.editor = Editor(session, settings, self._commit)
        self.table = IBus.LookupTable.new(settings.page_size, 0, True, False)
        self._drawn: tuple = ("", (), 0)
        self._flush_source = 0
        self.mode_property = IBus.Property(
            key=MODE_PROPERTY, prop_type=IBus.PropType.NORMAL, label=_text("中"),
            symbol=_text("中"), tooltip=_text("Chinese / English (Shift)"), icon="",
            sensitive=True, visible=True)
        self.properties = IBus.PropList()
        self.properties.append(self.mode_property)
        if history is not None:
            self.properties.append(IBus.Property(
                key=CLEAR_PROPERTY, prop_type=IBus.PropType.NORMAL,
                label=_text("Clear typing history"),
                tooltip=_text("Forget what you committed (the learned candidates)"),
                icon="", sensitive=True, visible=True))

    # Keys

    def do_process_key_event(self, keyval: int, keycode: int, state: int) -> bool:
        chinese = self.editor.chinese
        used = self.editor.key(keyval, state)
        if self.editor.chinese != chinese:
            self._show_mode()
        self._draw()
        return used

    # What IBus tells the engine

    def do_focus_in(self) -> None:
        self.register_properties(self.properties)
        self._show_mode()

    def do_focus_out(self) -> None:
        self._start_afresh()
        self._flush_history()

    def do_reset(self) -> None:
        self._start_afresh()

    def do_disable(self) -> None:
        self._start_afresh()
        self._flush_history()

    def do_set_content_type(self, purpose: int, hints: int) -> None:
        self.editor.passthrough = purpose in SECRET_PURPOSES
        if self.editor.passthrough:
            self._start_afresh()

    def do_page_up(self) -> bool:
        return self._act(self.editor.page_up)

    def do_page_down(self) -> bool:
        return self._act(self.editor.page_down)

    def do_cursor_up(self) -> bool:
        return self._act(lambda: self.editor.move(-1))

    def do_cursor_down(self) -> bool:
        return self._act(lambda: self.editor.move(+1))

    def do_candidate_clicked(self, index: int, button: int, state: int) -> None:
        self._act(lambda: self.editor.select(self.editor.page_start + index))

    def do_property_activate(self, name: str, state: int) -> None:
        if name == MODE_PROPERTY:
            self._act(self.editor.toggle_mode)
            self._show_mode()
        elif name == CLEAR_PROPERTY and self.history is not None:
            try:
                self.history.clear()
            except OSError as e:  # the file not ours to remove: it was a traceback on stderr
                log.warning("user history %s cannot be cleared (%s)", self.history.path, e)
                return
            log.info("user history cleared from the panel")

    def do_destroy(self) -> None:
        self._flush_history()
        IBus.Engine.do_destroy(self)

    # Drawing

    def _act(self, action: Callable[[], object]) -> bool:
        try:
            action()
        except Exception:
            log.exception("panel action failed")
        self._draw()
        return True

    def _start_afresh(self) -> None:
        self.editor.reset()
        self._draw()

    def _commit(self, text: str) -> None:
        self.commit_text(_text(text))
        self._schedule_flush()

    def _draw(self) -> None:
        """Send the preedit and the candidates, when they changed."""
        editor = self.editor
        state = (editor.preedit, tuple(editor.candidates), editor.cursor)
        if state == self._drawn:
            return
        preedit, candidates, cursor = state
        text = _text(preedit)
        if preedit:
            text.append_attribute(IBus.AttrType.UNDERLINE, IBus.AttrUnderline.SINGLE, 0,
                                  len(preedit))
        self.update_preedit_text_with_mode(text, len(preedit), bool(preedit),
                                           IBus.PreeditFocusMode.COMMIT)
        if candidates:
            if candidates != self._drawn[1]:
                self.table.clear()
                for candidate in candidates:
                    self.table.append_candidate(_text(candidate))
            self.table.set_cursor_pos(cursor)
            self.update_lookup_table(self.table, True)
        else:
            self.hide_lookup_table()
        self._drawn = state

    def _show_mode(self) -> None:
        label = _text("中" if self.editor.chinese else "英")
        self.mode_property.set_label(label)
        self.mode_property.set_symbol(label)
        self.update_property(self.mode_property)

    # The history: written in batches (history.py), and when the engine goes

    def _schedule_flush(self) -> None:
        if self.history is not None and self.history.pending and not self._flush_source:
            self._flush_source = GLib.timeout_add_seconds(FLUSH_AFTER_SECONDS,
                                                          self._on_flush_timer)

    def _on_flush_timer(self) -> bool:
        self._flush_source = 0
        return self._flush_history()

    def _flush_history(self) -> bool:
        if self._flush_source:
            GLib.source_remove(self._flush_source)
            self._flush_source = 0
        if self.history is not None:
            self.history.flush()
        return False  # a GLib timeout that runs once
