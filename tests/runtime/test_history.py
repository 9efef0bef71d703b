"""Tests for pinyin_hanzi.runtime.history (the user history) and its use by the Session: what is
committed is remembered and raises its candidates, forget() takes it back, the file survives a
crash mid-write, and a corrupt file is a clear error or a fresh start."""

import json

import pytest

from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.runtime.history import HISTORY_FORMAT, UserHistory
from pinyin_hanzi.runtime.session import Session
from tiny_run import one_thread


def test_committed_runs_are_counted_and_raise_what_holds_them():
    history = UserHistory()
    history.remember("试验田")
    assert history.counts == {"试验": 1, "验田": 1, "试验田": 1}
    assert history.bonus("实验") == 0
    assert 0 < history.bonus("试验") < history.bonus("试验田")
    history.remember("试验")
    assert history.counts["试验"] == 2


def test_forget_drops_every_run_holding_the_word():
    history = UserHistory()
    history.remember("中国人民")
    history.remember("人民日报")
    assert history.forget("人民") == 5  # 人民, 国人民, 中国人民, 人民日, 人民日报
    assert history.bonus("人民") == 0 and history.bonus("中国") > 0
    assert history.forget("不存在") == 0


def test_the_history_is_bounded_keeping_the_most_used():
    history = UserHistory(max_entries=3)
    for _ in range(3):
        history.remember("中国")
    history.remember("你好吗")
    assert len(history) == 3 and history.counts["中国"] == 3


def test_save_and_load_round_trip(tmp_path):
    path = tmp_path / "history.json"
    assert len(UserHistory.load(path)) == 0  # no file yet: an empty history
    history = UserHistory.load(path)
    history.remember("输入法")
    history.save()
    assert json.loads(path.read_text())["format"] == HISTORY_FORMAT
    assert UserHistory.load(path).counts == history.counts


def test_a_crash_mid_write_leaves_the_old_file(tmp_path, monkeypatch):
    path = tmp_path / "history.json"
    history = UserHistory(path)
    history.remember("旧的")
    history.save()
    before = path.read_bytes()
    history.remember("新的")

    def crash(*args, **kwargs):
        raise OSError("disk full")

    monkeypatch.setattr("pinyin_hanzi.files.os.replace", crash)
    with pytest.raises(OSError):
        history.save()
    assert path.read_bytes() == before
    assert [p.name for p in tmp_path.iterdir()] == ["history.json"]  # no temporary left


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "other"}', b"\xff\xfe",
                                     json.dumps({"format": HISTORY_FORMAT,
                                                 "counts": {"a": -1}}).encode()])
def test_a_corrupt_file_is_a_clear_error_or_a_fresh_start(tmp_path, content):
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="user history .*history.json cannot be read"):
        UserHistory.load(path)
    fresh = UserHistory.load(path, recover=True)
    assert len(fresh) == 0 and not path.exists()
    assert (tmp_path / "history.json.corrupt").read_bytes() == content
    fresh.remember("重新")
    fresh.save()
    assert len(UserHistory.load(path)) == 1


def test_a_history_without_a_file_cannot_be_saved():
    with pytest.raises(ValueError, match="no file"):
        UserHistory().save()
    with pytest.raises(ValueError, match="max_entries"):
        UserHistory(max_entries=0)


@pytest.fixture(scope="module")
def converter():
    with one_thread():
        yield Converter.load()


def test_a_session_learns_what_its_user_picks(converter, tmp_path):
    path = tmp_path / "history.json"
    session = Session(converter, history=UserHistory(path))
    session.type("shiyan")
    texts = [c.text for c in session.candidates()]
    assert texts[0] == "实验" and "试验" in texts[:5]
    assert session.select(texts.index("试验")) == "试验"
    session.type("shiyan")
    assert session.candidates()[0].text == "试验"
    # Saved at the commit: a new session of the same user starts where this one stopped.
    again = Session(converter, history=UserHistory.load(path))
    again.type("shiyan")
    assert again.candidates()[0].text == "试验"
    again.history.forget("试验")  # while 试验 is on screen: no stale candidates after it
    assert again.candidates()[0].text == "实验"

