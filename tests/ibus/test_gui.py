"""The GUI check: a GTK3 entry under Xvfb (GTK_IM_MODULE=ibus), keys typed by xdotool, IBus's
own candidate window (ibus-ui-gtk3) as the panel. A screenshot of the candidate window is
taken; with PINYIN_HANZI_SCREENSHOT=path it is kept there (docs/img/ibus-candidates.png is one).
Skips, naming what is missing, without Xvfb, xdotool, ImageMagick, ibus-gtk3 or IBus.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import time
from pathlib import Path

import pytest

from pinyin_hanzi.ibus import harness

PANEL = "/usr/libexec/ibus-ui-gtk3"
GTK_IM_MODULE = "/usr/lib/x86_64-linux-gnu/gtk-3.0/3.0.0/immodules/im-ibus.so"
needed = {"Xvfb": "xvfb", "xdotool": "xdotool", "import": "imagemagick",
          "dbus-daemon": "dbus"}
missing = [deb for program, deb in needed.items() if shutil.which(program) is None]
missing += [deb for path, deb in [(PANEL, "ibus-gtk3"), (GTK_IM_MODULE, "ibus-gtk3")]
            if not Path(path).exists()]
if why := harness.missing():
    pytest.skip(why, allow_module_level=True)
if missing:
    pytest.skip(f"the GUI check needs {' '.join(sorted(set(missing)))} (apt-get install)",
                allow_module_level=True)


def wait_for(predicate, seconds: float) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if predicate():
            return True
        time.sleep(0.1)
    return False


@pytest.fixture
def desktop(tmp_path):
    """Xvfb and a session bus (the panel's); their environment."""
    display = f":{90 + os.getpid() % 9}"
    xvfb = subprocess.Popen(["Xvfb", display, "-screen", "0", "640x360x24", "-nolisten", "tcp"],
                            stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    bus = subprocess.run(["dbus-daemon", "--session", "--fork", "--print-address=1",
                          "--print-pid=1"], capture_output=True, text=True, check=True)
    address, pid = bus.stdout.split()
    try:
        yield {"DISPLAY": display, "GTK_IM_MODULE": "ibus", "NO_AT_BRIDGE": "1",
               "DBUS_SESSION_BUS_ADDRESS": address}
    finally:
        os.kill(int(pid), 15)
        xvfb.terminate()
        xvfb.wait(10)


def test_typing_into_a_gtk_entry_with_the_candidate_window(desktop, tmp_path):
    with harness.PrivateDaemon(tmp_path / "ibus", panel=PANEL, env=desktop) as daemon:
        env = dict(daemon.env, IBUS_ADDRESS=daemon.address)
        # The panel may cancel the first switch while it starts: try again.
        assert wait_for(lambda: subprocess.run(["ibus", "engine", "pinyin-hanzi"], env=env,
                                               capture_output=True).returncode == 0, 30)
        out = tmp_path / "entry.txt"
        app = subprocess.Popen([sys.executable, str(Path(__file__).with_name("gtk_entry.py")),
                                str(out)], env=env)
        try:
            assert wait_for(out.exists, 30), "the GTK window did not come up"
            time.sleep(1)
            # No window manager: the pointer's window has the keyboard.
            subprocess.run(["xdotool", "mousemove", "200", "45", "click", "1"], env=env,
                           check=True)
            time.sleep(0.5)
            subprocess.run(["xdotool", "type", "--delay", "100", "zhongguorenmin"], env=env,
                           check=True)
            time.sleep(1.5)  # the panel draws the candidate window
            shot = Path(os.environ.get("PINYIN_HANZI_SCREENSHOT", tmp_path / "shot.png"))
            subprocess.run(["import", "-window", "root", str(shot)], env=env, check=True)
            assert shot.stat().st_size > 0 and out.read_text(encoding="utf-8") == ""
            subprocess.run(["xdotool", "key", "space"], env=env, check=True)
            assert wait_for(lambda: out.read_text(encoding="utf-8") == "中国人民", 10), \
                f"the entry holds {out.read_text(encoding='utf-8')!r}\n{daemon.log_tail()}"
        finally:
            app.terminate()
            app.wait(10)
