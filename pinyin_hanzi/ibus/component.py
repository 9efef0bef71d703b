"""The component file that tells IBus about the engine, and installing it where IBus looks.

IBus reads every `*.xml` in its component directory (/usr/share/ibus/component) when it
starts; `<exec>` is the command it runs to start the engine, here this environment's Python
(`sys.executable -m pinyin_hanzi.ibus --ibus`), so the engine runs with the packages it was
installed with. IBus reads no directory in the user's home: for `--user` the file goes to
$XDG_DATA_HOME/ibus/component and IBUS_COMPONENT_PATH, set for the next login in
~/.config/environment.d/, lists that directory after the system one (the variable replaces
the system directory, so both must be named).
"""

from __future__ import annotations

import os
import shlex
import sys
from pathlib import Path
from importlib.metadata import version
from xml.sax.saxutils import escape

from . import COMPONENT_NAME, ENGINE_NAME

SYSTEM_DIR = Path("/usr/share/ibus/component")
FILE_NAME = "pinyin-hanzi.xml"
ENVIRONMENT_FILE = "60-pinyin-hanzi-ibus.conf"
ICON = Path(__file__).with_name("icon.svg")


def exec_command(python: str | None = None) -> str:
    """The command IBus runs to start the engine process."""
    return shlex.join([python or sys.executable, "-m", "pinyin_hanzi.ibus", "--ibus"])


def component_xml(command: str | None = None) -> str:
    values = {k: escape(v) for k, v in {
        "name": COMPONENT_NAME, "engine": ENGINE_NAME, "exec": command or exec_command(),
        "version": version("pinyin-hanzi"), "icon": str(ICON)}.items()}
    return """<?xml version="1.0" encoding="utf-8"?>
<!-- Written by `pinyin-hanzi ibus install`; removed by `pinyin-hanzi ibus uninstall`. -->
<component>
  <name>{name}</name>
  <description>Pinyin to hanzi with a Transformer (pinyin-hanzi)</description>
  <exec>{exec}</exec>
  <version>{version}</version>
  <author>pinyin-hanzi</author>
  <license>MIT</license>
  <homepage>https://github.com/pinyin-hanzi/pinyin-hanzi</homepage>
  <textdomain>pinyin-hanzi</textdomain>
  <engines>
    <engine>
      <name>{engine}</name>
      <language>zh</language>
      <license>MIT</license>
      <author>pinyin-hanzi</author>
      <icon>{icon}</icon>
      <layout>us</layout>
      <longname>Pinyin (pinyin-hanzi)</longname>
      <description>Pinyin to hanzi with a Transformer</description>
      <symbol>拼</symbol>
      <rank>0</rank>
    </engine>
  </engines>
</component>
""".format(**values)


def user_component_dir() -> Path:
    value = os.environ.get("XDG_DATA_HOME", "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / ".local/share"
    return base / "ibus" / "component"


def environment_file() -> Path:
    value = os.environ.get("XDG_CONFIG_HOME", "")
    base = Path(value) if value and os.path.isabs(value) else Path.home() / ".config"
    return base / "environment.d" / ENVIRONMENT_FILE


def component_path_value(user_dir: Path) -> str:
    """IBUS_COMPONENT_PATH for a user install: the system directory, then the user's."""
    return f"{SYSTEM_DIR}:{user_dir}"


def install(user: bool = False, system_dir: Path = SYSTEM_DIR) -> list[Path]:
    """Write the component file (and, for `user`, the environment setting); returns what was
    written. PermissionError for the system directory without root."""
    target_dir = user_component_dir() if user else system_dir
    target_dir.mkdir(parents=True, exist_ok=True)
    written = [target_dir / FILE_NAME]
    written[0].write_text(component_xml(), encoding="utf-8")
    if user:
        env = environment_file()
        env.parent.mkdir(parents=True, exist_ok=True)
        env.write_text("# Written by `pinyin-hanzi ibus install --user`: IBus reads the "
                       "user's component directory too.\n"
                       f"IBUS_COMPONENT_PATH={component_path_value(target_dir)}\n",
                       encoding="utf-8")
        written.append(env)
    return written


def uninstall(user: bool = False, system_dir: Path = SYSTEM_DIR) -> list[Path]:
    """Remove what `install` wrote; returns what was removed."""
    paths = ([user_component_dir() / FILE_NAME, environment_file()] if user
             else [system_dir / FILE_NAME])
    removed = [p for p in paths if p.exists()]
    for path in removed:
        path.unlink()
    return removed
