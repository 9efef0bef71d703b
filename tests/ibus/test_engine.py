"""Every key rule of the engine, over a mocked IBus.Engine: no daemon, a few seconds.

As ibus-table and ibus-typing-booster test theirs: IBus.Engine is patched with a plain class
that records what the engine sends (commits, preedit, lookup table, properties) and the
engine module is reloaded on it; IBus.Text and IBus.LookupTable are IBus's own. Keys go in
through do_process_key_event, as the daemon sends them.
"""

from __future__ import annotations

import importlib.util
import logging
from unittest import mock

import pytest

from pinyin_hanzi.ibus import harness, keys as k
from pinyin_hanzi.ibus.history import BatchedHistory
from pinyin_hanzi.ibus.settings import Settings
from pinyin_hanzi.runtime.session import Session
from pinyin_hanzi.spelling import InputOptions

if (why := harness.missing()) and "introspection" in why:
    pytest.skip(why, allow_module_level=True)

from gi.repository import IBus  # noqa: E402


class MockEngine:
    """What the engine sends to IBus, recorded."""

    def __init__(self, **kwargs):
        self.committed: list[str] = []
        self.preedit, self.preedit_cursor, self.preedit_mode = "", 0, None
        self.table, self.table_visible = None, False
        self.properties, self.mode_label = None, None

    def commit_text(self, text):
        self.committed.append(text.get_text())

    def update_preedit_text_with_mode(self, text, cursor, visible, mode):
        self.preedit = text.get_text() if visible else ""
        self.preedit_cursor, self.preedit_mode = cursor, mode

    def update_lookup_table(self, table, visible):
        self.table, self.table_visible = table, visible

    def hide_lookup_table(self):
        self.table_visible = False

    def register_properties(self, properties):
        self.properties = properties

    def update_property(self, prop):
        self.mode_label = prop.get_label().get_text()

    def do_destroy(self):
        pass


@pytest.fixture(scope="module")
def engine_module():
    """engine.py loaded afresh, under another name, on the mock (the real module, and the
    GType it registered, stay as they are)."""
    from pinyin_hanzi.ibus import engine

    spec = importlib.util.spec_from_file_location("pinyin_hanzi.ibus._engine_on_mock",
                                                  engine.__file__)
    module = importlib.util.module_from_spec(spec)
    with mock.patch.object(IBus, "Engine", MockEngine):
        spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def converter():
    from pinyin_hanzi import Converter

    return Converter.load()


@pytest.fixture
def make(engine_module, converter):
    def make(history=None, session=None, **settings):
        session = session or Session(converter, options=InputOptions(complete_last=True))
        session.history = history
        return engine_module.PinyinHanziEngine(None, "/test/0", session, Settings(**settings),
                                               history)
    return make


@pytest.fixture
def e(make):
    return make()


def tap(engine, keyval, state=0) -> bool:
    used = engine.do_process_key_event(keyval, 0, state)
    engine.do_process_key_event(keyval, 0, state | k.RELEASE_MASK)
    return used


def type_(engine, text):
    return [tap(engine, ord(ch)) for ch in text]


def page(engine) -> list[str]:
    """The candidates on the page shown."""
    if not engine.table_visible:
        return []
    t = engine.table
    size, start = t.get_page_size(), t.get_cursor_pos() // t.get_page_size() * t.get_page_size()
    return [t.get_candidate(i).get_text()
            for i in range(start, min(start + size, t.get_number_of_candidates()))]


def choose(engine, text):
    """Page to `text` and take it with its number key."""
    for _ in range(10):
        if text in page(engine):
            return tap(engine, ord("1") + page(engine).index(text))
        tap(engine, k.Page_Down)
    raise AssertionError(f"{text} is not among the candidates")


def test_keys_are_ibus_own_values():
    for name in ("space", "BackSpace", "Return", "Escape", "Page_Up", "Page_Down", "Up",
                 "Down", "Left", "Right", "KP_Enter", "KP_1", "KP_9", "Shift_L", "Shift_R"):
        assert getattr(k, name) == getattr(IBus, f"KEY_{name}"), name
    for name in ("SHIFT", "CONTROL", "MOD1", "MOD4", "SUPER", "HYPER", "META", "RELEASE"):
        assert getattr(k, f"{name}_MASK") == getattr(IBus.ModifierType, f"{name}_MASK"), name


def test_letters_compose_with_preedit_cursor_and_candidates(e):
    assert all(type_(e, "zhongguorenmin"))
    assert e.preedit == "zhongguorenmin" and e.preedit_cursor == len("zhongguorenmin")
    assert e.preedit_mode == IBus.PreeditFocusMode.COMMIT  # a click commits, never loses it
    assert page(e)[0] == "中国人民" and len(page(e)) == 5
    assert e.committed == []


def test_choosing_a_word_leaves_the_rest_in_the_preedit(e):
    type_(e, "zhongguorenmin")
    choose(e, "中国")
    assert e.preedit == "中国renmin" and e.preedit_cursor == len("中国renmin")
    assert page(e)[0] == "人民"
    tap(e, k.space)
    assert e.committed == ["中国人民"] and e.preedit == "" and not e.table_visible


@pytest.mark.parametrize("size", [5, 9])
def test_page_size_is_a_setting(make, size):
    e = make(page_size=size)
    type_(e, "zhongguorenmin")
    assert e.table.get_page_size() == size and len(page(e)) == size


@pytest.mark.parametrize("down, up", [(k.Page_Down, k.Page_Up), (ord("="), ord("-")),
                                      (ord("."), ord(","))])
def test_paging_keys(e, down, up):
    type_(e, "shi")
    first = page(e)
    assert tap(e, down) and e.table.get_cursor_pos() == 5 and page(e) != first
    assert tap(e, up) and e.table.get_cursor_pos() == 0 and page(e) == first
    assert tap(e, up) and e.table.get_cursor_pos() == 0  # no page before the first
    assert e.committed == []


def test_comma_and_period_can_be_left_to_punctuation(make):
    e = make(comma_period_page=False)
    type_(e, "nihao")
    tap(e, ord(","))
    assert e.committed == ["你好，"]


def test_arrows_move_the_highlight_and_space_takes_it(e):
    type_(e, "nihao")
    second = page(e)[1]
    for key, cursor in [(k.Down, 1), (k.Right, 2), (k.Up, 1), (k.Left, 0), (k.Up, 0),
                        (k.Down, 1)]:
        assert tap(e, key) and e.table.get_cursor_pos() == cursor
    tap(e, k.space)
    assert e.committed == [second]


def test_number_keys_take_a_candidate_of_the_page_shown(e):
    type_(e, "nihao")
    assert page(e)[0] == "你好"
    third = page(e)[2]
    tap(e, ord("3"))
    assert e.committed == [third]
    type_(e, "shi")
    tap(e, k.Page_Down)
    sixth = page(e)[0]
    assert tap(e, k.KP_1)  # the keypad too
    assert e.committed[-1] == sixth


def test_a_number_past_the_page_is_taken_and_does_nothing(make):
    e = make(page_size=5)
    type_(e, "nihao")
    assert tap(e, ord("7")) and e.committed == [] and e.preedit == "nihao"


def test_enter_commits_what_the_line_shows_keys_as_typed(e):
    type_(e, "nihao")
    assert tap(e, k.Return)
    assert e.committed == ["nihao"] and e.preedit == "" and not e.table_visible
    type_(e, "zhongguorenmin")
    choose(e, "中国")
    tap(e, k.KP_Enter)
    assert e.committed[-1] == "中国renmin"


def test_escape_cancels(e):
    type_(e, "nihao")
    assert tap(e, k.Escape)
    assert e.committed == [] and e.preedit == "" and not e.table_visible
    assert not tap(e, k.Escape)  # nothing composed: the application's Escape


def test_backspace_deletes_a_key_then_undoes_a_selection(e):
    type_(e, "zhongguo")
    choose(e, "中")  # a single hanzi: guo stays to convert
    assert e.preedit == "中guo"
    for expected in ("中gu", "中g", "中", "zhong"):  # then the keys 中 took come back
        assert tap(e, k.BackSpace) and e.preedit == expected
    for _ in "zhong":
        tap(e, k.BackSpace)
    assert e.preedit == "" and not e.table_visible
    assert not tap(e, k.BackSpace)  # nothing composed: the application deletes
    assert e.committed == []


def test_shift_alone_toggles_english_and_commits_pending_keys(e):
    e.do_focus_in()
    assert e.mode_label == "中"
    type_(e, "nih")
    e.do_process_key_event(k.Shift_L, 0, 0)
    e.do_process_key_event(k.Shift_L, 0, k.SHIFT_MASK | k.RELEASE_MASK)
    assert e.committed == ["nih"] and e.mode_label == "英"
    assert not any(type_(e, "hello, world."))  # English: all to the application
    assert e.committed == ["nih"]
    e.do_process_key_event(k.Shift_R, 0, 0)
    e.do_process_key_event(k.Shift_R, 0, k.SHIFT_MASK | k.RELEASE_MASK)
    assert e.mode_label == "中" and all(type_(e, "ni"))


def test_shift_with_another_key_is_no_toggle(e):
    e.do_process_key_event(k.Shift_L, 0, 0)
    assert not e.do_process_key_event(ord("A"), 0, k.SHIFT_MASK)  # a capital: as typed
    e.do_process_key_event(ord("A"), 0, k.SHIFT_MASK | k.RELEASE_MASK)
    e.do_process_key_event(k.Shift_L, 0, k.SHIFT_MASK | k.RELEASE_MASK)
    assert e.editor.chinese and all(type_(e, "ni"))


@pytest.mark.parametrize("keys, expected", [
    (",.?!:;", "，。？！：；"), ("()<>", "（）《》"), ("\\^_", "、……——"),
    ("[]{}$~`", "【】『』￥～·"),
    ('""""', "“”“”"), ("''", "‘’"), ('"\'"\'', "“‘”’"),
])
def test_chinese_mode_punctuation_is_full_width(e, keys, expected):
    assert all(type_(e, keys))
    assert "".join(e.committed) == expected


def test_period_and_comma_after_a_digit_stay_ascii(e):
    # The digits go to the application, and so do . and , right after one: 3.14, 1,000.
    assert not any(type_(e, "3.14")) and not any(type_(e, "1,000"))
    assert e.committed == []
    assert type_(e, " .") == [False, True] and e.committed == ["。"]


def test_other_ascii_symbols_go_to_the_application(e):
    assert not any(type_(e, "@&*+|/#%"))
    assert e.committed == []


def test_punctuation_while_composing_commits_the_conversion_first(e):
    type_(e, "nihao")
    tap(e, ord("?"))
    assert e.committed == ["你好？"] and e.preedit == ""


def test_apostrophe_separates_syllables_while_composing(e):
    type_(e, "xi'an")
    assert e.preedit == "xi'an" and page(e)[0] == "西安"


def test_commit_is_the_next_left_context_and_focus_or_reset_drop_it(e):
    type_(e, "zhongguo")
    tap(e, k.space)
    assert e.editor.session.context == "中国"
    e.do_focus_out()
    assert e.editor.session.context == ""
    type_(e, "zhongguo")
    tap(e, k.space)
    type_(e, "ren")
    e.do_reset()  # a click in the application
    assert e.editor.session.context == "" and e.preedit == "" and not e.table_visible


def test_reset_makes_the_next_quote_open(e):
    tap(e, ord('"'))
    e.do_reset()
    tap(e, ord('"'))
    assert e.committed == ["“", "“"]


@pytest.mark.parametrize("state", [k.CONTROL_MASK, k.MOD1_MASK, k.SUPER_MASK | k.MOD4_MASK])
def test_chords_go_to_the_application_even_while_composing(e, state):
    type_(e, "ni")
    assert not tap(e, ord("c"), state)
    assert e.preedit == "ni" and e.committed == []


def test_keys_with_nothing_composed_go_to_the_application(e):
    for key in (k.space, k.Return, k.BackSpace, k.Escape, k.Tab, k.Up, k.Page_Down,
                ord("1"), ord("A")):
        assert not tap(e, key), hex(key)
    assert e.committed == []


def test_releases_follow_their_presses(e):
    assert not e.do_process_key_event(k.space, 0, k.RELEASE_MASK)  # a press it did not take
    assert e.do_process_key_event(ord("n"), 0, 0)
    assert e.do_process_key_event(ord("n"), 0, k.RELEASE_MASK)  # swallowed with its press


def test_password_fields_get_every_key(e):
    e.do_set_content_type(IBus.InputPurpose.PASSWORD, 0)
    assert not any(type_(e, "nihao,"))
    e.do_set_content_type(IBus.InputPurpose.FREE_FORM, 0)
    assert all(type_(e, "ni"))


def test_a_failing_conversion_shows_the_keys_as_typed(make, converter, caplog):
    class Broken(Session):
        def candidates(self):
            raise RuntimeError("the model fell over")

    e = make(session=Broken(converter))
    with caplog.at_level(logging.ERROR):
        assert all(type_(e, "nihao"))
    assert e.preedit == "nihao" and not e.table_visible
    assert "the model fell over" in caplog.text and "showing the keys as typed" in caplog.text
    tap(e, k.space)  # no candidates: the keys as typed
    assert e.committed == ["nihao"]


def test_keys_that_are_no_pinyin_are_shown_and_committed_as_typed(e):
    type_(e, "vvv")
    assert e.preedit == "vvv" and not e.table_visible
    tap(e, k.Return)
    assert e.committed == ["vvv"]


def test_a_candidate_clicked_on_the_panel_is_taken(e):
    type_(e, "zhongguorenmin")
    tap(e, k.Page_Down)
    wanted = page(e)[2]  # a word: the rest stays
    e.do_candidate_clicked(2, 1, 0)
    assert e.preedit.startswith(wanted) and e.committed == []


def test_the_panel_page_and_cursor_buttons(e):
    type_(e, "shi")
    e.do_page_down()
    e.do_cursor_down()
    assert e.table.get_cursor_pos() == 6
    e.do_cursor_up()
    e.do_page_up()
    assert e.table.get_cursor_pos() == 0


def test_history_learns_writes_in_batches_and_clears(make, tmp_path):
    history = BatchedHistory.open(tmp_path / "history.json")
    e = make(history=history)
    type_(e, "nihao")
    tap(e, k.space)
    assert history.pending == 1 and history.bonus("你好") > 0
    assert not (tmp_path / "history.json").exists()  # not on the key that committed
    e.do_focus_out()
    assert (tmp_path / "history.json").exists() and history.pending == 0
    assert BatchedHistory.open(tmp_path / "history.json").bonus("你好") > 0
    (tmp_path / "history.json.corrupt").write_text("你好")  # one set aside once
    e.do_property_activate("ClearHistory", 0)
    assert history.bonus("你好") == 0 and not (tmp_path / "history.json").exists()
    assert not (tmp_path / "history.json.corrupt").exists()


def test_clearing_after_a_failed_write_forgets_what_was_not_written(make, tmp_path,
                                                                    monkeypatch):
    """A write that failed (a full disk) kept the commit pending, and the next write after
    "Clear typing history" brought it back."""
    from pinyin_hanzi.runtime import history as saving

    history = BatchedHistory.open(tmp_path / "history.json")
    e = make(history=history)
    type_(e, "women")
    tap(e, k.space)
    e.do_focus_out()  # written
    type_(e, "nihao")
    tap(e, k.space)
    with monkeypatch.context() as patched:
        patched.setattr(saving, "atomic_write_text", mock.Mock(side_effect=OSError("full")))
        e.do_focus_out()  # the write fails: logged, the commit still pending
        assert history.pending == 1
        e.do_property_activate("ClearHistory", 0)
    type_(e, "zhongguo")
    tap(e, k.space)
    e.do_focus_out()
    saved = BatchedHistory.open(tmp_path / "history.json")
    assert saved.bonus("我们") == saved.bonus("你好") == 0 and saved.bonus("中国") > 0


def test_a_history_that_cannot_be_cleared_is_a_warning_and_kept(make, tmp_path, caplog):
    history = BatchedHistory.open(tmp_path / "history.json")
    e = make(history=history)
    type_(e, "nihao")
    tap(e, k.space)
    (tmp_path / "history.json").mkdir()  # what cannot be removed as a file
    e.do_property_activate("ClearHistory", 0)  # raised out of the engine
    assert "cannot be cleared" in caplog.text and history.bonus("你好") > 0


def test_the_mode_property_toggles(e):
    e.do_focus_in()
    e.do_property_activate("InputMode", 0)
    assert e.mode_label == "英" and not e.editor.chinese
