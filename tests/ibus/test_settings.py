"""The settings file: read when the engine starts; anything bad is a log line and defaults."""

import logging

import pytest

from pinyin_hanzi.ibus.settings import Settings, config_dir, history_path, load_settings


def test_no_file_is_the_defaults(tmp_path):
    assert load_settings(tmp_path / "ibus.toml") == Settings()


def test_a_good_file(tmp_path):
    path = tmp_path / "ibus.toml"
    path.write_text('page_size = 9\nfuzzy = ["z/zh", "in/ing"]\nabbreviated = false\n'
                    'comma_period_page = false\nhistory = false\nmodel = "/m"\n')
    assert load_settings(path) == Settings(9, ("z/zh", "in/ing"), False, False, False, "/m")


def test_a_file_with_a_byte_order_mark_and_a_model_under_home(tmp_path, monkeypatch):
    """Notepad's byte order mark made the file "Invalid statement (at line 1, column 1)", and
    `~` was a folder named "~": the engine used the shipped model instead."""
    monkeypatch.setenv("HOME", str(tmp_path))
    path = tmp_path / "ibus.toml"
    path.write_bytes(b'\xef\xbb\xbfpage_size = 7\r\nmodel = "~/models/mine"\r\n')
    assert load_settings(path) == Settings(page_size=7, model=str(tmp_path / "models/mine"))


@pytest.mark.parametrize("text, problem", [
    ("page_size = [", "cannot be read"),
    (b"\xff\xfe", "cannot be read"),
])
def test_a_file_that_cannot_be_read_is_one_warning_and_the_defaults(tmp_path, caplog, text,
                                                                    problem):
    path = tmp_path / "ibus.toml"
    path.write_bytes(text if isinstance(text, bytes) else text.encode())
    with caplog.at_level(logging.WARNING):
        assert load_settings(path) == Settings()
    assert str(path) in caplog.text and problem in caplog.text and "defaults" in caplog.text


@pytest.mark.parametrize("line, key", [
    ("page_size = 12", "page_size"), ("page_size = 'five'", "page_size"),
    ('fuzzy = ["zh/j"]', "fuzzy"), ("fuzzy = 'z/zh'", "fuzzy"), ("history = 1", "history"),
    ("model = 3", "model"),
])
def test_a_bad_value_falls_back_for_that_key_only(tmp_path, caplog, line, key):
    path = tmp_path / "ibus.toml"
    path.write_text(f"{line}\nabbreviated = false\n")
    with caplog.at_level(logging.WARNING):
        settings = load_settings(path)
    assert settings == Settings(abbreviated=False)
    assert key in caplog.text and str(path) in caplog.text


def test_an_unknown_key_is_named(tmp_path, caplog):
    path = tmp_path / "ibus.toml"
    path.write_text("pagesize = 9\n")
    with caplog.at_level(logging.WARNING):
        assert load_settings(path) == Settings()
    assert "'pagesize'" in caplog.text


def test_xdg_directories(tmp_path, monkeypatch):
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path / "c"))
    monkeypatch.setenv("XDG_DATA_HOME", "relative/is/ignored")
    monkeypatch.setenv("HOME", str(tmp_path / "h"))
    assert config_dir() == tmp_path / "c" / "pinyin-hanzi"
    assert history_path() == tmp_path / "h" / ".local/share/pinyin-hanzi/history.json"
