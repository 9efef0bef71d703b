"""Tests for pinyin_hanzi.runtime.history (the user history) and its use by the Session: what is
committed is remembered and raises its candidates, forget() takes it back, the file survives a
crash mid-write, and a corrupt file is a clear error or a fresh start."""

import json
import math
import os
import signal
import subprocess
import sys
import threading
import time
from contextlib import contextmanager

import pytest

from pinyin_hanzi.runtime.converter import Converter
from pinyin_hanzi.runtime.history import HISTORY_FORMAT, HistoryWriteError, UserHistory
from pinyin_hanzi.runtime.session import Session
from tiny_run import one_thread

SUBPROCESS_ENV = {**os.environ, "OMP_NUM_THREADS": "1"}


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


@pytest.mark.parametrize("path", [None, "history.json"])
def test_forget_of_nothing_is_refused_not_everything_forgotten(tmp_path, path):
    """"" is in every run: forget("") dropped the whole history, on disk too."""
    history = UserHistory(path and tmp_path / path)
    history.record("中国人民")
    with pytest.raises(ValueError, match="forget takes the word to forget; clear()"):
        history.forget("")
    assert len(history) == 6
    if path:
        assert len(UserHistory.load(tmp_path / path)) == 6


def test_the_history_is_bounded_keeping_the_most_used():
    history = UserHistory(max_entries=3)
    for _ in range(3):
        history.remember("中国")
    history.remember("你好吗")
    assert len(history) == 3 and history.counts["中国"] == 3


def test_a_full_history_drops_the_oldest_of_the_least_used_not_the_new_commit():
    history = UserHistory(max_entries=2)
    for text in ("中国", "你好", "再见"):
        history.remember(text)
    assert set(history.counts) == {"你好", "再见"}


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
    # No temporary left (the lock file stays: it is what writers of the history lock).
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json", "history.json.lock"]


@pytest.mark.parametrize("content", [b"{not json", b'{"format": "other"}', b"\xff\xfe",
                                     json.dumps({"format": HISTORY_FORMAT,
                                                 "counts": {"a": -1}}).encode()])
def test_a_corrupt_file_is_a_clear_error_or_a_fresh_start(tmp_path, content, caplog):
    path = tmp_path / "history.json"
    path.write_bytes(content)
    with pytest.raises(ValueError, match="user history .*history.json cannot be read"):
        UserHistory.load(path)
    fresh = UserHistory.load(path, recover=True)
    # Said in the log (the IBus engine's): it was set aside without a word.
    assert "moved to" in caplog.text and "history.json.corrupt" in caplog.text
    assert len(fresh) == 0 and not path.exists()
    assert (tmp_path / "history.json.corrupt").read_bytes() == content
    fresh.remember("重新")
    fresh.save()
    assert len(UserHistory.load(path)) == 1


def test_a_folder_given_as_the_file_is_named_and_never_moved_aside(tmp_path):
    """load(folder, recover=True), or a save to it, renamed the user's folder to
    <name>.corrupt as if it were a torn history."""
    folder = tmp_path / "myapp"
    folder.mkdir()
    (folder / "precious.txt").write_text("kept")
    with pytest.raises(OSError, match="a folder, not a user history file"):
        UserHistory.load(folder, recover=True)
    with pytest.raises(HistoryWriteError, match="a folder, not a user history file"):
        UserHistory(folder).record("中国")
    assert (folder / "precious.txt").read_text() == "kept"
    assert not (tmp_path / "myapp.corrupt").exists()


def test_a_second_corrupt_file_keeps_the_first_one_set_aside(tmp_path):
    """The second one replaced the first <name>.corrupt, what the user may still mend."""
    path = tmp_path / "history.json"
    for content in (b"{first", b"{second"):
        path.write_bytes(content)
        UserHistory.load(path, recover=True)
    assert (tmp_path / "history.json.corrupt").read_bytes() == b"{first"
    assert (tmp_path / "history.json.corrupt-2").read_bytes() == b"{second"


def test_a_history_without_a_file_cannot_be_saved():
    with pytest.raises(ValueError, match="no file"):
        UserHistory().save()
    with pytest.raises(ValueError, match="max_entries"):
        UserHistory(max_entries=0)


@pytest.mark.parametrize("behind", [0.05, 1.0, 2.5])
def test_a_pick_over_the_first_candidate_is_counted_until_it_leads(tmp_path, behind):
    """record(text, picks=[(candidate, behind)]): the candidate's runs are counted until its
    bonus has gained `behind` + PICK_MARGIN, the fewest counts that do it; saved with it."""
    from pinyin_hanzi.runtime.history import PICK_MARGIN

    history = UserHistory(tmp_path / "h.json")
    history.record("做试验")
    before = history.bonus("试验")
    history.record("试验", picks=[("试验", behind)])
    gained = history.bonus("试验") - before
    assert gained >= behind + PICK_MARGIN
    count = history.counts["试验"]  # 1, 1 as committed again, and the pick's
    assert count == 2 or history.weight * (math.log1p(count - 1) - math.log1p(1)) < (
        behind + PICK_MARGIN)
    assert (count > 2) == (behind > 0.05)
    assert UserHistory.load(tmp_path / "h.json").counts == history.counts
    plain = UserHistory()
    plain.record("试验", picks=[("试验", 0.0)])  # already enough: counted once, as committed
    assert plain.counts["试验"] == 1


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
    # Typed again elsewhere (a click resets the left context, as the input method does):
    # right after 试验 itself the language models rightly doubt a second 试验.
    session.context = ""
    session.type("shiyan")
    assert session.candidates()[0].text == "试验"
    # Saved at the commit: a new session of the same user starts where this one stopped.
    again = Session(converter, history=UserHistory.load(path))
    again.type("shiyan")
    assert again.candidates()[0].text == "试验"
    again.history.forget("试验")  # while 试验 is on screen: no stale candidates after it
    assert again.candidates()[0].text == "实验"



# --- one file, many writers (issue 35) and forget on disk (issue 34) --------------------------


def test_forget_is_saved_so_quitting_after_it_keeps_it_forgotten(tmp_path):
    path = tmp_path / "history.json"
    history = UserHistory(path)
    history.remember("试验田")
    history.save()
    assert history.forget("试验") == 2  # 试验, 试验田
    assert set(UserHistory.load(path).counts) == {"验田"}  # no save() after forget


def test_threads_sharing_one_history_lose_no_commit_and_readers_never_see_half(tmp_path):
    path = tmp_path / "history.json"
    history = UserHistory(path)
    errors, seen = [], []

    def commit(thread: int):
        try:
            for i in range(60):
                history.remember(f"线程{thread}提交{i}")
                history.save()
        except Exception as e:  # noqa: BLE001 - what a thread raised is the finding
            errors.append(e)

    def read():
        while len(seen) < 2000 and not done.is_set():
            try:
                seen.append(len(UserHistory.load(path)))
            except Exception as e:  # noqa: BLE001
                errors.append(e)
                return

    done = threading.Event()
    reader = threading.Thread(target=read)
    writers = [threading.Thread(target=commit, args=(t,)) for t in range(4)]
    history.remember("开始")
    history.save()
    reader.start()
    for t in writers:
        t.start()
    for t in writers:
        t.join()
    done.set()
    reader.join()
    assert errors == []
    assert seen and min(seen) >= 1  # never an empty or half-written file
    on_disk = UserHistory.load(path).counts
    assert all(on_disk[f"线程{t}"] == 60 for t in range(4))  # every commit of every thread
    assert sorted(p.name for p in tmp_path.iterdir()) == ["history.json", "history.json.bak",
                                                         "history.json.lock"]


def test_clear_forgets_what_every_writer_saved_and_is_saved(tmp_path):
    path = tmp_path / "history.json"
    ours, theirs = UserHistory.load(path), UserHistory.load(path)
    ours.record("中国")
    theirs.record("人民")  # another engine of the user, after ours last read the file
    ours.remember("你好")  # not saved yet
    ours.clear()
    assert len(ours) == 0 and len(UserHistory.load(path)) == 0
    theirs.record("再见")  # and a later save of the other engine does not bring them back
    assert set(UserHistory.load(path).counts) == {"再见"}
    in_memory = UserHistory()
    in_memory.remember("中国")
    in_memory.clear()
    assert len(in_memory) == 0


def test_a_history_in_a_folder_not_made_yet_loads_empty(tmp_path):
    path = tmp_path / "not" / "made" / "history.json"
    assert len(UserHistory.load(path)) == 0
    # It said "No such file or directory: '.../history.json.lock'", not what to do.
    with pytest.raises(HistoryWriteError, match="made/history.json cannot be saved "
                                                r"\(its folder .*made does not exist: make it"):
        UserHistory.load(path).record("中国")


def test_another_writers_save_is_merged_even_when_the_file_stats_the_same(tmp_path,
                                                                           monkeypatch):
    """Inode numbers come back and mtime moves in steps of milliseconds, so another writer's
    file may stat as the one this history wrote; the token in the lock file tells them apart."""
    path = tmp_path / "history.json"
    ours, theirs = UserHistory.load(path), UserHistory.load(path)
    always = os.stat(tmp_path)  # every version of the file alike
    monkeypatch.setattr("pinyin_hanzi.runtime.history._stat", lambda path: always)
    ours.record("中国")
    theirs.record("人民")
    ours.record("你好")
    assert set(UserHistory.load(path).counts) == {"中国", "人民", "你好"}


# Commits `n` texts of its own (remember + save each), as a second engine of the user would.
COMMITTER = """
import sys
from pinyin_hanzi.runtime.history import UserHistory
path, name, n = sys.argv[1], sys.argv[2], int(sys.argv[3])
history = UserHistory.load(path)
for i in range(n):
    history.remember(f"{name}{i:02d}")
    history.save()
"""


def test_two_processes_committing_to_one_file_keep_every_commit(tmp_path):
    path = tmp_path / "history.json"
    procs = [subprocess.Popen([sys.executable, "-c", COMMITTER, str(path), name, "100"],
                              env=SUBPROCESS_ENV, stderr=subprocess.PIPE, text=True)
             for name in ("甲", "乙")]
    for proc in procs:
        assert proc.wait(timeout=120) == 0, proc.stderr.read()[-2000:]
    counts = UserHistory.load(path).counts
    assert all(counts[f"{name}{i:02d}"] == 1 for name in "甲乙" for i in range(100))
    assert counts["甲1"] == counts["乙1"] == 10  # 甲10 ... 甲19


# Saves once, then hangs inside the second save after its temporary is written, as a process
# killed mid-write leaves it.
HANG_IN_WRITE = """
import os, sys, time
from pathlib import Path
from pinyin_hanzi.runtime.history import UserHistory
path, marker = sys.argv[1], Path(sys.argv[2])
history = UserHistory(path)
history.remember("旧的")
history.save()
def hang(*args):
    marker.write_text("in the write")
    time.sleep(600)
os.replace = hang
history.remember("新的")
history.save()
"""


def test_a_kill_mid_write_leaves_the_old_history_and_load_cleans_its_temporary(tmp_path):
    path, marker = tmp_path / "history.json", tmp_path / "marker"
    proc = subprocess.Popen([sys.executable, "-c", HANG_IN_WRITE, str(path), str(marker)],
                            env=SUBPROCESS_ENV, stderr=subprocess.PIPE, text=True)
    try:
        deadline = time.monotonic() + 60
        while not marker.exists():
            assert proc.poll() is None, proc.stderr.read()[-2000:]
            assert time.monotonic() < deadline, "the writer never reached its second save"
            time.sleep(0.05)
        proc.send_signal(signal.SIGKILL)
    finally:
        proc.kill()
        proc.wait()
    marker.unlink()
    assert [p for p in tmp_path.iterdir() if ".tmp-" in p.name]  # what the kill left
    history = UserHistory.load(path)
    assert set(history.counts) == {"旧的"}
    assert not [p for p in tmp_path.iterdir() if ".tmp-" in p.name]
    history.remember("新的")  # and the next writer is not held up by the dead one's lock
    history.save()
    assert set(UserHistory.load(path).counts) == {"旧的", "新的"}


@pytest.mark.parametrize("damage", ["half", "empty", "garbage"])
def test_a_torn_history_file_falls_back_to_the_previous_good_one(tmp_path, damage):
    path = tmp_path / "history.json"
    history = UserHistory(path)
    history.remember("第一次")
    history.save()
    history.remember("第二次")
    history.save()
    data = path.read_bytes()
    path.write_bytes({"half": data[:len(data) // 2], "empty": b"", "garbage": b"\0" * 9}[damage])
    kept = UserHistory.load(path)
    first, third = {"第一", "一次", "第一次"}, {"第三", "三次", "第三次"}
    assert set(kept.counts) == first  # the file before the last save
    kept.remember("第三次")
    kept.save()  # the torn file is replaced; the good one before it stays the backup
    assert set(UserHistory.load(path).counts) == first | third
    assert set(json.loads((tmp_path / "history.json.bak").read_text())["counts"]) == first


def test_a_stale_temporary_of_before_this_fix_is_cleaned_at_load(tmp_path):
    path = tmp_path / "history.json"
    UserHistory(path).save()
    (tmp_path / ".history.json.tmp-12345").write_text('{"format": "half')
    UserHistory.load(path)
    assert not (tmp_path / ".history.json.tmp-12345").exists()


@contextmanager
def read_only(folder):
    """`folder` made read-only: by its mode, and where that does not bind (root) by the
    immutable attribute; skips where neither can be had."""
    folder.chmod(0o555)
    immutable = False
    try:
        if _writable(folder):
            immutable = subprocess.run(["chattr", "+i", str(folder)],
                                       capture_output=True).returncode == 0
        if _writable(folder):
            pytest.skip("no way to make a folder read-only here")
        yield
    finally:
        if immutable:
            subprocess.run(["chattr", "-i", str(folder)], check=True)
        folder.chmod(0o755)


def _writable(folder) -> bool:
    probe = folder / "probe"
    try:
        probe.write_text("")
    except OSError:
        return False
    probe.unlink()
    return True


@pytest.mark.parametrize("lock_exists", [True, False])
def test_a_read_only_folder_fails_record_and_forget_whole_but_loads(tmp_path, lock_exists):
    path = tmp_path / "history.json"
    history = UserHistory(path)
    history.record("中国")
    if not lock_exists:
        (tmp_path / "history.json.lock").unlink()
    with read_only(tmp_path):
        with pytest.raises(HistoryWriteError, match=r"history.json cannot be saved .*nothing"):
            history.record("人民")
        with pytest.raises(HistoryWriteError, match="history.json cannot be saved"):
            history.forget("中国")
        assert history.counts == {"中国": 1}
        assert UserHistory.load(path).counts == {"中国": 1}
    history.record("人民")
    assert UserHistory.load(path).counts == {"中国": 1, "人民": 1}


def test_a_commit_to_a_read_only_folder_leaves_the_session_as_it_was(converter, tmp_path):
    folder = tmp_path / "profile"
    folder.mkdir()
    path = folder / "history.json"
    session = Session(converter, history=UserHistory(path))
    session.type("nihao")
    assert session.select(0) == "你好"
    session.type("zhongguo")
    as_it_was = ("zhongguo", "你好", "zhongguo")  # keys, context, preedit
    with read_only(folder):
        with pytest.raises(HistoryWriteError, match="history.json cannot be saved"):
            session.commit()
        assert (session.keys, session.context, session.preedit) == as_it_was
        with pytest.raises(HistoryWriteError):
            session.select(0)  # a selection that would commit: not taken either
        assert (session.keys, session.context, session.preedit) == as_it_was
        assert session.history.counts == {"你好": 1}
    assert session.commit() == "中国"  # the retry, once the folder is writable again
    assert session.context == "你好中国"
    assert UserHistory.load(path).counts == {"你好": 1, "中国": 1}
