"""The engine process: load and warm the model, then serve engines to ibus-daemon.

    python -m pinyin_hanzi.ibus --ibus   # as IBus starts it (the component's <exec>)
    python -m pinyin_hanzi.ibus          # by hand, into a running daemon: it registers the
                                         # component itself (then `ibus engine pinyin-hanzi`)

The model is loaded and warmed before the process answers IBus, so the user's first key
converts as fast as the others. The process ends when the daemon goes (`ibus restart`
starts a fresh one) or on SIGTERM, writing the user history first. It logs to
$XDG_CACHE_HOME/pinyin-hanzi/ibus.log and to stderr (which `ibus-daemon --verbose` shows).
"""

from __future__ import annotations

import argparse
import gc
import itertools
import logging
import logging.handlers
import signal
import time
from pathlib import Path

from . import COMPONENT_NAME, ENGINE_NAME
from .settings import LOG_FILE, Settings, cache_dir, history_path, load_settings

log = logging.getLogger("pinyin_hanzi.ibus")

ENGINE_PATH = "/org/freedesktop/IBus/Engine/PinyinHanzi/{}"


def setup_logging(verbose: bool = False) -> Path | None:
    """Log to the cache directory's ibus.log (kept small) and to stderr."""
    logger = logging.getLogger("pinyin_hanzi")
    logger.setLevel(logging.DEBUG if verbose else logging.INFO)
    fmt = logging.Formatter("%(asctime)s %(levelname)s %(name)s: %(message)s")
    stderr = logging.StreamHandler()
    stderr.setFormatter(fmt)
    logger.addHandler(stderr)
    path = cache_dir() / LOG_FILE
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        handler = logging.handlers.RotatingFileHandler(path, maxBytes=1 << 20, backupCount=1,
                                                       encoding="utf-8")
    except OSError as e:
        logger.warning("no log file %s (%s): logging to stderr only", path, e)
        return None
    handler.setFormatter(fmt)
    logger.addHandler(handler)
    return path


def load_converter(settings: Settings):
    """The settings' model, or the shipped one (and a warning) when it cannot be loaded."""
    from ..runtime.converter import Converter

    if settings.model:
        try:
            return Converter.load(settings.model)
        except Exception as e:  # any failure: a bad path, a broken or foreign directory
            log.warning("model %s cannot be loaded (%s); using the shipped model",
                        settings.model, e)
    return Converter.load()


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="python -m pinyin_hanzi.ibus", description=__doc__,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--ibus", action="store_true",
                        help="started by ibus-daemon: take the component's bus name")
    parser.add_argument("--verbose", action="store_true", help="log every detail")
    args = parser.parse_args(argv)
    setup_logging(args.verbose)

    start = time.perf_counter()
    settings = load_settings()
    from ..runtime.session import Session
    from ..spelling import InputOptions
    from .history import BatchedHistory
    from .warmup import warm

    converter = load_converter(settings)
    options = InputOptions(abbreviated=settings.abbreviated, complete_last=True,
                           fuzzy=frozenset(settings.fuzzy))
    warm(converter, options)
    history = BatchedHistory.open(history_path()) if settings.history else None
    # What loading and warming made lives as long as the process: left out of every later
    # collection, so that a full collection, which then pauses whatever key it falls on,
    # walks only what keys make (54 -> 23 ms for the largest pause, one run, dev/EXPERIMENTS).
    gc.collect()
    gc.freeze()
    log.info("engine process ready in %.2f s: %s, %s", time.perf_counter() - start,
             converter.label, settings)

    from .engine import PinyinHanziEngine  # first: it asks gi for IBus 1.0

    from gi.repository import GLib, IBus

    IBus.init()
    bus = IBus.Bus()
    if not bus.is_connected():
        log.error("cannot reach ibus-daemon (is it running? IBUS_ADDRESS=%s)",
                  IBus.get_address())
        return 1
    loop = GLib.MainLoop()
    bus.connect("disconnected", lambda _bus: loop.quit())
    numbers = itertools.count()

    def create_engine(name: str) -> PinyinHanziEngine:
        session = Session(converter, options=options, history=history)
        return PinyinHanziEngine(bus.get_connection(), ENGINE_PATH.format(next(numbers)),
                                 session, settings, history)

    factory = _factory(bus, create_engine)
    if args.ibus:
        bus.request_name(COMPONENT_NAME, 0)
    else:
        import tempfile

        from .component import component_xml

        with tempfile.NamedTemporaryFile("w", suffix=".xml", encoding="utf-8") as f:
            f.write(component_xml())
            f.flush()
            bus.register_component(IBus.Component.new_from_file(f.name))
    GLib.unix_signal_add(GLib.PRIORITY_DEFAULT, signal.SIGTERM, lambda: loop.quit() or False)
    try:
        loop.run()
    except KeyboardInterrupt:  # Ctrl-C, run by hand: it skipped the history's last write
        pass
    del factory
    if history is not None:
        history.flush()
    log.info("engine process ends")
    return 0


def _factory(bus, create_engine):
    from gi.repository import IBus

    class EngineFactory(IBus.Factory):
        """Makes one engine per input context that asks for ENGINE_NAME."""

        def do_create_engine(self, name: str):
            if name != ENGINE_NAME:
                log.warning("asked for engine %r; this process serves %r", name, ENGINE_NAME)
                return None
            return create_engine(name)

    return EngineFactory(connection=bus.get_connection(), object_path=IBus.PATH_FACTORY)
