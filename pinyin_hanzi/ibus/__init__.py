"""An IBus input method over runtime.session.Session: type with the model on the desktop.

    pinyin-hanzi ibus install [--user]      # then: ibus restart; ibus engine pinyin-hanzi

keys.py         key symbols and modifier bits, as IBus numbers them
punctuation.py  the Chinese marks for the ASCII keys, quotes that alternate
settings.py     ~/.config/pinyin-hanzi/ibus.toml and the XDG directories
history.py      the user history, written in batches
editor.py       the key rules over a Session (no IBus needed: tested without a daemon)
warmup.py       converting a few inputs at start, so the user's first key is not the first
engine.py       the IBus.Engine: IBus events in, preedit and candidates out
main.py         the engine process IBus starts (`python -m pinyin_hanzi.ibus --ibus`)
component.py    the component XML, install and uninstall
cli.py          `pinyin-hanzi ibus ...`
harness.py      a private ibus-daemon and a client typing into it (tests, bench/ibus.py)

Only engine.py, main.py and harness.py import GObject introspection (PyGObject and IBus's
typelib, docs/IBUS.md); the rest, and the CLI, work without them.
"""

ENGINE_NAME = "pinyin-hanzi"
COMPONENT_NAME = "org.freedesktop.IBus.PinyinHanzi"
