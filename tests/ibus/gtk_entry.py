"""A GTK3 window with one entry, for the GUI check (test_gui.py): every change of the entry's
text is written to the file named by the first argument, so the test can read what was typed.

    GTK_IM_MODULE=ibus python tests/ibus/gtk_entry.py OUT_FILE
"""

import sys

import gi

gi.require_version("Gtk", "3.0")
from gi.repository import Gtk  # noqa: E402

out = sys.argv[1]
window = Gtk.Window(title="pinyin-hanzi")
window.set_default_size(520, 60)
window.move(20, 20)
entry = Gtk.Entry()
entry.connect("changed", lambda e: open(out, "w", encoding="utf-8").write(e.get_text()))
window.add(entry)
window.connect("destroy", Gtk.main_quit)
window.show_all()
entry.grab_focus()
open(out, "w").close()  # the window is up
Gtk.main()
