"""The engine as IBus runs it: a private ibus-daemon starts it from its component XML, and an
input context sends it key events, as an application does (harness.py). Headless: no X
server, no session bus. Skips, saying what to install, where IBus is not installed
(scripts/setup.sh installs it as root on Debian). Latency is measured by bench/ibus.py.
"""

from __future__ import annotations

import pytest

from pinyin_hanzi.ibus import harness, keys as k

if why := harness.missing():
    pytest.skip(why, allow_module_level=True)


@pytest.fixture(scope="module")
def daemon(tmp_path_factory):
    with harness.PrivateDaemon(tmp_path_factory.mktemp("ibus")) as daemon:
        yield daemon


@pytest.fixture(scope="module")
def client(daemon):
    try:
        return harness.Client(daemon.address)
    except (RuntimeError, TimeoutError) as e:
        pytest.fail(f"{e}\n{daemon.log_tail()}")


@pytest.fixture
def c(client):
    """The client with nothing composed, nothing committed and no left context."""
    client.tap(k.Escape)
    client.focus_out()
    client.focus_in()
    client.take_committed()
    yield client
    assert client.ic.get_engine().get_name() == "pinyin-hanzi"  # still on, never died


def test_nihao_space(c):
    assert all(c.type("nihao"))
    assert c.preedit == "nihao" and c.candidates[0] == "你好"
    assert c.tap(k.space)
    assert c.take_committed() == "你好" and c.preedit == "" and c.candidates == []


def test_zhongguorenmin_choosing_zhongguo_then_renmin(c):
    c.type("zhongguorenmin")
    for _ in range(5):
        if "中国" in c.candidates:
            break
        c.tap(k.Page_Down)
    c.tap(ord("1") + c.candidates.index("中国"))
    assert c.preedit == "中国renmin" and c.take_committed() == ""
    assert c.candidates[0] == "人民"
    c.tap(ord("1"))
    assert c.take_committed() == "中国人民"


def test_backspace_and_escape(c):
    c.type("nihaoo")
    c.tap(k.BackSpace)
    assert c.preedit == "nihao" and c.candidates[0] == "你好"
    assert c.tap(k.Escape)
    assert c.preedit == "" and c.candidates == [] and c.take_committed() == ""
    assert not c.tap(k.BackSpace)  # nothing composed: the application's key


def test_enter_commits_the_letters(c):
    c.type("nihao")
    assert c.tap(k.Return)
    assert c.take_committed() == "nihao"


def test_shift_toggles_english(c):
    c.shift()
    assert not any(c.type("nihao"))  # the application types them
    assert c.take_committed() == "" and c.preedit == ""
    c.shift()
    assert all(c.type("ni"))
    c.tap(k.Escape)


def test_the_comma_key_types_a_chinese_comma(c):
    assert c.tap(ord(","))
    assert c.take_committed() == "，"


def test_paging_to_the_second_page(c):
    c.type("shi")
    first = c.candidates
    assert len(first) == 5
    c.tap(k.Page_Down)
    assert c.candidates and c.candidates != first and c.cursor == 5
    second = c.candidates[0]
    c.tap(k.space)
    assert c.take_committed() == second


def test_no_key_kills_the_engine(c):
    # Keys no pinyin, every ASCII key, function keys: the engine answers and still converts.
    c.type("vvvv'''iii")
    c.tap(k.Return)
    for keyval in list(range(0x20, 0x7F)) + [k.Delete, k.Home, k.End, 0xFFBE, 0x1008FF11]:
        c.tap(keyval)
        c.tap(keyval, k.CONTROL_MASK)
    c.tap(k.Escape)
    c.take_committed()
    c.type("nihao")
    c.tap(k.space)
    assert c.take_committed() == "你好"


def test_a_second_applications_first_key_composes(daemon, client):
    """A new window's context gets IBus's one global engine as it takes the focus; its first
    key must compose there, not go to an engine on its way out."""
    other = harness.Client(daemon.address)
    try:
        assert other.tap(ord("z")) and other.preedit == "z"
        other.type("hong")
        other.tap(k.space)
        assert other.take_committed() == "中"
    finally:
        other.tap(k.Escape)
        other.focus_out()
        client.focus_in()


# A daemon of its own, in a process of its own (IBus.Bus is one per process): its engine is
# stopped with Ctrl-C's SIGINT, as when run by hand, after a commit not yet written.
_CTRL_C = """
import json, os, signal, sys, time
from pathlib import Path
from pinyin_hanzi.ibus import harness, keys as k

with harness.PrivateDaemon(Path(sys.argv[1])) as daemon:
    client = harness.Client(daemon.address)
    client.type("nihao")
    client.tap(k.space)
    def parent(p):
        try:
            return int((p / "stat").read_text().rsplit(")", 1)[1].split()[1])
        except OSError:  # gone meanwhile
            return -1

    engine = next(int(p.name) for p in Path("/proc").iterdir() if p.name.isdigit()
                  and parent(p) == daemon.process.pid
                  and (p / "cmdline").read_bytes().endswith(b"-m\\0pinyin_hanzi.ibus\\0--ibus\\0"))
    os.kill(engine, signal.SIGINT)
    history = daemon.home / ".local/share/pinyin-hanzi/history.json"
    for _ in range(100):
        if history.exists():
            break
        time.sleep(0.1)
    print(json.dumps(json.loads(history.read_text())["counts"] if history.exists() else None))
"""


def test_ctrl_c_writes_the_history_first(tmp_path):
    """A KeyboardInterrupt out of the main loop skipped the history's last write: the
    commits since the last focus change were lost."""
    import json
    import subprocess
    import sys

    done = subprocess.run([sys.executable, "-c", _CTRL_C, str(tmp_path)], capture_output=True,
                          text=True, timeout=120)
    assert done.returncode == 0, done.stderr
    assert json.loads(done.stdout.splitlines()[-1]) == {"你好": 1}
