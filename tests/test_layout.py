"""The package's layering (docs/ARCHITECTURE.md): each part imports only the parts below it,
so a newcomer can change a decoder without reading the runtime, or a language model without
reading either. Read from the source (the Cython files' import lines too): lazy imports
inside functions count as well."""

import ast
import re
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "pinyin_hanzi"
# The parts, bottom up; a module may import its own part and the parts before it. The
# top-level modules not listed (cli.py, export.py, __init__.py) sit on top of everything.
LAYERS = [
    ("base", {"pinyin", "segment", "vocab", "files", "evaluate", "plots"}),
    ("data", None),
    ("training", {"model", "objectives", "checkpoint", "adapt", "train"}),
    ("lm", None),
    ("decode", None),
    ("runtime", None),
]
ON_TOP = {"cli", "export", "__init__"}


def part_of(module: str) -> str:
    """'pinyin_hanzi.lm.words' -> 'lm'; 'pinyin_hanzi.vocab' -> 'base'."""
    parts = module.split(".")[1:]
    if not parts:
        return "top"
    if parts[0] in ON_TOP or parts == ["__init__"]:
        return "top"
    for name, members in LAYERS:
        if (members is None and parts[0] == name) or (members and parts[0] in members):
            return name
    raise AssertionError(f"{module}: not in any part of the layering (add it to LAYERS)")


def module_name(path: Path) -> str:
    parts = path.relative_to(PACKAGE).with_suffix("").parts
    return ".".join(("pinyin_hanzi", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def imported_modules(path: Path) -> set[str]:
    module = module_name(path)
    package = module if path.name == "__init__.py" else module.rsplit(".", 1)[0]
    text = path.read_text(encoding="utf-8")
    if path.suffix == ".pyx":  # Cython: its Python import statements, one per line
        text = "\n".join(m.group(1) for m in re.finditer(
            r"^\s*((?:from\s+\S+\s+import|import)\s+[^\n]+)$", text, re.M)
            if "cimport" not in m.group(1))
    found = set()
    for node in ast.walk(ast.parse(text)):
        if isinstance(node, ast.Import):
            found |= {a.name for a in node.names if a.name.startswith("pinyin_hanzi")}
        elif isinstance(node, ast.ImportFrom):
            if node.level:
                base = package.split(".")
                base = base[:len(base) - node.level + 1]
                target = ".".join(base + ([node.module] if node.module else []))
            else:
                target = node.module or ""
            if target.startswith("pinyin_hanzi"):
                # `from . import x` names a module; `from .m import name` the module m.
                found |= ({f"{target}.{a.name}" for a in node.names} if not node.module
                          else {target})
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py*") if p.suffix in (".py", ".pyx"))
ORDER = [name for name, _ in LAYERS]


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_part_imports_only_the_parts_below_it(path):
    module = module_name(path)
    mine = part_of(module)
    if mine == "top":
        return
    for target in imported_modules(path):
        theirs = part_of(target)
        assert theirs != "top" and ORDER.index(theirs) <= ORDER.index(mine), (
            f"{module} ({mine}) imports {target} ({theirs})")


def test_the_rule_catches_an_upward_import(tmp_path):
    """The checker itself: an lm module importing the decoder is found."""
    bad = PACKAGE / "lm" / "words.py"
    tree = imported_modules(bad) | {"pinyin_hanzi.decode.lattice"}
    assert any(ORDER.index(part_of(t)) > ORDER.index("lm") for t in tree
               if part_of(t) != "top")
    assert part_of("pinyin_hanzi.runtime.converter") == "runtime"
    assert part_of("pinyin_hanzi.decode._lattice") == "decode"
