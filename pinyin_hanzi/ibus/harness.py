"""A private ibus-daemon running the engine as IBus runs it, and a client typing into it.

For the integration test (tests/ibus/test_daemon.py), the GUI check and bench/ibus.py; it
never touches the user's own IBus:

    with PrivateDaemon(tmp_dir) as daemon:
        client = Client(daemon.address)
        client.type("nihao"); client.tap(keys.space)
        client.take_committed()                    # '你好'

The daemon gets a fresh HOME (so no stale registry cache and no settings or history of the
user's), IBUS_COMPONENT_PATH naming only a directory with this engine's component XML,
`--config=disable` (the config process's component is not on that path; IBus then runs
without one) and `--cache=refresh`. It starts the engine from the XML's <exec>, as a desktop's
daemon does. The client finds the daemon by the address in the file the daemon writes under
its XDG_CONFIG_HOME.
"""

from __future__ import annotations

import os
import shutil
import signal
import subprocess
import time
from pathlib import Path

from . import ENGINE_NAME
from . import keys as k
from .component import FILE_NAME, SYSTEM_DIR, component_xml

DAEMON = "ibus-daemon"
START_SECONDS = 30  # the daemon's address file; the engine (model load + warm-up) below
ENGINE_SECONDS = 90


def missing() -> str | None:
    """Why a private daemon cannot run here (None when it can)."""
    if shutil.which(DAEMON) is None:
        return "ibus-daemon is not installed (Debian: apt-get install ibus gir1.2-ibus-1.0)"
    try:
        import gi

        gi.require_version("IBus", "1.0")
        from gi.repository import IBus  # noqa: F401
    except (ImportError, ValueError) as e:
        return (f"no IBus introspection for this Python ({e}): apt-get install "
                f"gir1.2-ibus-1.0, and pip install 'pygobject<3.51' (docs/IBUS.md)")
    return None


class PrivateDaemon:
    def __init__(self, root: Path, panel: str = "disable", env: dict[str, str] | None = None):
        """`root`: an empty directory for the daemon's home; `panel`: ibus-daemon's --panel
        (a panel program such as /usr/libexec/ibus-ui-gtk3 to see the candidate window);
        `env`: more environment for the daemon and the engine (DISPLAY for a panel)."""
        self.root, self.panel = Path(root), panel
        self.home = self.root / "home"
        self.components = self.root / "component"
        self.log = self.root / "ibus-daemon.log"
        self.env = dict(os.environ)
        self.env.pop("IBUS_ADDRESS", None)
        self.env.update({
            "HOME": str(self.home),
            "XDG_CONFIG_HOME": str(self.home / ".config"),
            "XDG_DATA_HOME": str(self.home / ".local/share"),
            "XDG_CACHE_HOME": str(self.home / ".cache"),
            # A panel is a component too: then IBus's own directory is needed as well.
            "IBUS_COMPONENT_PATH": str(self.components) + ("" if panel == "disable" else
                                                           f":{SYSTEM_DIR}"),
            "GSETTINGS_BACKEND": "memory",  # a panel must not write the user's dconf
            **(env or {})})
        self.process: subprocess.Popen | None = None
        self.address = ""

    def __enter__(self) -> "PrivateDaemon":
        self.start()
        return self

    def __exit__(self, *exc) -> None:
        self.stop()

    def start(self) -> None:
        self.components.mkdir(parents=True, exist_ok=True)
        (self.components / FILE_NAME).write_text(component_xml(), encoding="utf-8")
        for name in ("XDG_CONFIG_HOME", "XDG_DATA_HOME", "XDG_CACHE_HOME"):
            Path(self.env[name]).mkdir(parents=True, exist_ok=True)
        args = [DAEMON, f"--panel={self.panel}", "--emoji-extension=disable",
                "--config=disable", "--cache=refresh", "--replace", "--verbose"]
        with open(self.log, "ab") as log:
            # Its own process group, so that stop() ends the engine it started with it.
            self.process = subprocess.Popen(args, env=self.env, stdout=log, stderr=log,
                                            stdin=subprocess.DEVNULL, start_new_session=True)
        self.address = self._wait_for_address()

    def _wait_for_address(self) -> str:
        bus_dir = Path(self.env["XDG_CONFIG_HOME"]) / "ibus" / "bus"
        deadline = time.monotonic() + START_SECONDS
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError(f"ibus-daemon exited ({self.process.returncode}); see "
                                   f"{self.log}:\n{self.log_tail()}")
            for path in bus_dir.glob("*"):
                for line in path.read_text(errors="replace").splitlines():
                    if line.startswith("IBUS_ADDRESS="):
                        return line.split("=", 1)[1]
            time.sleep(0.05)
        raise TimeoutError(f"ibus-daemon wrote no address in {START_SECONDS} s; see {self.log}")

    def log_tail(self, lines: int = 30) -> str:
        try:
            return "\n".join(self.log.read_text(errors="replace").splitlines()[-lines:])
        except OSError:
            return ""

    def stop(self) -> None:
        if self.process is None:
            return
        try:
            os.killpg(self.process.pid, signal.SIGTERM)
            self.process.wait(10)
        except ProcessLookupError:
            pass
        except subprocess.TimeoutExpired:
            os.killpg(self.process.pid, signal.SIGKILL)
            self.process.wait()
        self.process = None


class Client:
    """An input context on the private daemon with the engine on, as an application has.

    Each key is sent with the synchronous ProcessKeyEvent call, which returns once the
    engine has handled the key (and sent its preedit and candidates); then what the daemon
    sent is taken in. `last_seconds` is how long the key took, end to end."""

    def __init__(self, address: str, engine: str = ENGINE_NAME,
                 timeout: float = ENGINE_SECONDS):
        import gi

        gi.require_version("IBus", "1.0")
        from gi.repository import GLib, IBus

        self.IBus, self.context = IBus, GLib.MainContext.default()
        saved = os.environ.get("IBUS_ADDRESS")
        os.environ["IBUS_ADDRESS"] = address  # IBus.Bus reads the address from here
        try:
            self.bus = IBus.Bus()
        finally:
            if saved is None:
                os.environ.pop("IBUS_ADDRESS", None)
            else:
                os.environ["IBUS_ADDRESS"] = saved
        if not self.bus.is_connected():
            raise RuntimeError(f"cannot connect to ibus-daemon at {address}")
        self.ic = self.bus.create_input_context("pinyin-hanzi-harness")
        caps = IBus.Capabilite
        self.ic.set_capabilities(caps.PREEDIT_TEXT | caps.LOOKUP_TABLE | caps.FOCUS
                                 | caps.PROPERTY)
        self.committed: list[str] = []
        self.preedit = ""
        self.table = None
        self.table_visible = False
        self.last_seconds = 0.0
        self.ic.connect("commit-text", lambda _ic, text: self.committed.append(text.get_text()))
        self.ic.connect("update-preedit-text", self._on_preedit)
        self.ic.connect("hide-preedit-text", lambda _ic: self._set_preedit(""))
        self.ic.connect("update-lookup-table", self._on_table)
        self.ic.connect("hide-lookup-table", lambda _ic: setattr(self, "table_visible", False))
        self.ic.focus_in()
        self.start_engine(engine, timeout)

    def start_engine(self, engine: str, timeout: float) -> None:
        """Switch the context to `engine` and wait until it is on: set_engine returns before
        the engine process is up, and keys sent in that gap go nowhere. A second context
        already has it (IBus moves its one global engine to the focused context): asked
        again, the daemon makes a new engine behind the keys, and the first went to the old
        one as it was disabled."""
        desc = self.ic.get_engine()
        if desc is not None and desc.get_name() == engine:
            return
        self.ic.set_engine(engine)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            desc = self.ic.get_engine()
            if desc is not None and desc.get_name() == engine:
                return
            self._drain()
            time.sleep(0.05)
        raise TimeoutError(f"engine {engine!r} did not start in {timeout:.0f} s")

    # Keys

    def press(self, keyval: int, state: int = 0) -> bool:
        start = time.perf_counter()
        used = self.ic.process_key_event(keyval, 0, state)
        self.last_seconds = time.perf_counter() - start
        self._drain()
        return used

    def release(self, keyval: int, state: int = 0) -> bool:
        used = self.ic.process_key_event(keyval, 0, state | k.RELEASE_MASK)
        self._drain()
        return used

    def tap(self, keyval: int, state: int = 0) -> bool:
        """Press and release; whether the press was used."""
        used = self.press(keyval, state)
        self.release(keyval, state)
        return used

    def type(self, text: str) -> list[bool]:
        """Tap the key of each ASCII character (Shift held for capitals and symbols is not
        needed: the keysym is the character)."""
        return [self.tap(ord(ch)) for ch in text]

    def shift(self) -> None:
        """Shift_L pressed and released alone."""
        self.press(k.Shift_L)
        self.release(k.Shift_L, k.SHIFT_MASK)

    # What the engine sent

    @property
    def candidates(self) -> list[str]:
        """The candidates of the page shown ([] when the table is hidden)."""
        if self.table is None or not self.table_visible:
            return []
        table = self.table
        size, count = table.get_page_size(), table.get_number_of_candidates()
        start = table.get_cursor_pos() // size * size
        return [table.get_candidate(i).get_text() for i in range(start, min(start + size,
                                                                                 count))]

    @property
    def cursor(self) -> int:
        return self.table.get_cursor_pos() if self.table is not None else 0

    def take_committed(self) -> str:
        text, self.committed = "".join(self.committed), []
        return text

    def focus_out(self) -> None:
        self.ic.focus_out()
        self._drain()

    def focus_in(self) -> None:
        self.ic.focus_in()
        self._drain()

    def _drain(self, settle: float = 0.0) -> None:
        """Dispatch what has arrived (the signals come before the key's reply)."""
        deadline = time.monotonic() + settle
        while True:
            while self.context.pending():
                self.context.iteration(False)
            if time.monotonic() >= deadline:
                return
            time.sleep(0.005)

    def _on_preedit(self, _ic, text, _cursor, visible) -> None:
        self._set_preedit(text.get_text() if visible else "")

    def _set_preedit(self, text: str) -> None:
        self.preedit = text

    def _on_table(self, _ic, table, visible) -> None:
        self.table, self.table_visible = table, visible
