"""The component XML and `pinyin-hanzi ibus install / uninstall / clear-history`."""

import shlex
import sys
import xml.etree.ElementTree as ET

import pytest
from typer.testing import CliRunner

from pinyin_hanzi.cli import app
from pinyin_hanzi.ibus import component


@pytest.fixture
def home(tmp_path, monkeypatch):
    for name in ("XDG_DATA_HOME", "XDG_CONFIG_HOME", "XDG_CACHE_HOME"):
        monkeypatch.delenv(name, raising=False)
    monkeypatch.setenv("HOME", str(tmp_path))
    return tmp_path


def test_component_xml_is_what_ibus_reads():
    root = ET.fromstring(component.component_xml())
    assert root.tag == "component"
    assert root.findtext("name") == "org.freedesktop.IBus.PinyinHanzi"
    assert shlex.split(root.findtext("exec")) == [sys.executable, "-m", "pinyin_hanzi.ibus",
                                                  "--ibus"]
    engine = root.find("engines/engine")
    assert engine.findtext("name") == "pinyin-hanzi"
    assert engine.findtext("language") == "zh" and engine.findtext("layout") == "us"
    assert component.ICON.is_file() and engine.findtext("icon") == str(component.ICON)


def test_exec_paths_with_spaces_are_quoted():
    root = ET.fromstring(component.component_xml(component.exec_command("/a b/python")))
    assert shlex.split(root.findtext("exec"))[0] == "/a b/python"


def test_install_and_uninstall_system(tmp_path):
    system = tmp_path / "component"
    written = component.install(system_dir=system)
    assert written == [system / "pinyin-hanzi.xml"] and written[0].is_file()
    assert component.uninstall(system_dir=system) == written and not written[0].exists()
    assert component.uninstall(system_dir=system) == []


def test_user_install_sets_the_component_path(home):
    result = CliRunner().invoke(app, ["ibus", "install", "--user"])
    assert result.exit_code == 0, result.output
    xml = home / ".local/share/ibus/component/pinyin-hanzi.xml"
    env = home / ".config/environment.d/60-pinyin-hanzi-ibus.conf"
    assert xml.is_file()
    assert (f"IBUS_COMPONENT_PATH=/usr/share/ibus/component:{xml.parent}"
            in env.read_text().splitlines())
    assert "ibus engine pinyin-hanzi" in result.output and "IBUS_COMPONENT_PATH=" in result.output
    result = CliRunner().invoke(app, ["ibus", "uninstall", "--user"])
    assert result.exit_code == 0 and not xml.exists() and not env.exists()


def test_system_install_without_permission_is_one_line(monkeypatch):
    def refuse(*args, **kwargs):
        raise PermissionError("[Errno 13] Permission denied: '/usr/share/ibus/component'")

    monkeypatch.setattr(component, "install", refuse)
    result = CliRunner().invoke(app, ["ibus", "install"])
    assert result.exit_code == 2 and "--user" in result.output


def test_clear_history_removes_the_file(home):
    path = home / ".local/share/pinyin-hanzi/history.json"
    path.parent.mkdir(parents=True)
    path.write_text("{}")
    result = CliRunner().invoke(app, ["ibus", "clear-history"])
    assert result.exit_code == 0 and not path.exists() and str(path) in result.output


def test_clear_history_removes_every_file_that_holds_what_was_committed(home):
    """An unreadable history set aside (.corrupt, .corrupt-2) kept the user's text on disk."""
    folder = home / ".local/share/pinyin-hanzi"
    folder.mkdir(parents=True)
    names = ["history.json", "history.json.bak", "history.json.corrupt",
             "history.json.corrupt-2"]
    for name in names:
        (folder / name).write_text("中国人民")
    (folder / "history.json.lock").write_text("")
    result = CliRunner().invoke(app, ["ibus", "clear-history"])
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in folder.iterdir()) == ["history.json.lock"]


def _one_error_line(result, fragment):
    assert result.exit_code == 2 and "Traceback" not in result.output, result.output
    assert result.stderr.startswith("error: ") and fragment in result.stderr
    assert len(result.stderr.strip().splitlines()) == 1


def test_a_file_that_cannot_be_removed_or_written_is_one_error_line(home):
    """Anything but a PermissionError from install, and any OSError from clear-history, was
    a traceback."""
    history = home / ".local/share/pinyin-hanzi/history.json"
    history.mkdir(parents=True)  # a folder where the file should be
    _one_error_line(CliRunner().invoke(app, ["ibus", "clear-history"]), "history.json")
    (home / ".local/share/ibus").write_text("")  # a file where a folder should be
    _one_error_line(CliRunner().invoke(app, ["ibus", "install", "--user"]), "ibus")
