"""The key symbols and modifier bits the engine reads, as X11 and IBus number them.

They are IBus's own values (IBus.KEY_space is 0x20, IBus.ModifierType.CONTROL_MASK is 1 << 2),
written out so that the key rules (editor.py) run without GObject introspection; a test
checks them against IBus where it is installed.
"""

from __future__ import annotations

space = 0x20
apostrophe = 0x27
BackSpace = 0xFF08
Tab = 0xFF09
Return = 0xFF0D
Escape = 0xFF1B
Home = 0xFF50
Left = 0xFF51
Up = 0xFF52
Right = 0xFF53
Down = 0xFF54
Page_Up = 0xFF55
Page_Down = 0xFF56
End = 0xFF57
KP_Enter = 0xFF8D
KP_1 = 0xFFB1
KP_9 = 0xFFB9
Shift_L = 0xFFE1
Shift_R = 0xFFE2
Delete = 0xFFFF

SHIFT_MASK = 1 << 0
CONTROL_MASK = 1 << 2
MOD1_MASK = 1 << 3  # Alt
MOD4_MASK = 1 << 6  # Super on most layouts
SUPER_MASK = 1 << 26
HYPER_MASK = 1 << 27
META_MASK = 1 << 28
RELEASE_MASK = 1 << 30
# A key held with any of these is a shortcut for the application, never input.
CHORD_MASK = CONTROL_MASK | MOD1_MASK | MOD4_MASK | SUPER_MASK | HYPER_MASK | META_MASK


def char(keyval: int) -> str:
    """The printable ASCII character a key types ('' for the others: arrows, F-keys...)."""
    return chr(keyval) if 0x20 < keyval < 0x7F else ""


def digit(keyval: int) -> int | None:
    """1-9 for the digit keys on the main row and the keypad, else None."""
    if ord("1") <= keyval <= ord("9"):
        return keyval - ord("0")
    if KP_1 <= keyval <= KP_9:
        return keyval - KP_1 + 1
    return None
