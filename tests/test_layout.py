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
    ("base", {"pinyin", "segment", "spelling", "vocab", "files", "evaluate", "plots"}),
    ("data", None),
    ("training", {"model", "objectives", "checkpoint", "adapt", "train", "g2p"}),
    ("lm", None),
    ("decode", None),
    ("runtime", None),
    ("ibus", None),  # the desktop input method: an IBus engine over runtime's Session
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


def module_name(path: Path, root: Path = PACKAGE) -> str:
    parts = path.relative_to(root).with_suffix("").parts
    return ".".join(("pinyin_hanzi", *(parts[:-1] if parts[-1] == "__init__" else parts)))


def imported_modules(path: Path, root: Path = PACKAGE) -> set[str]:
    module = module_name(path, root)
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
                # From a package (`from . import x`, `from pinyin_hanzi import cli`) each name
                # may be a module; from a module (`from .m import name`), the module is it.
                package_dir = PACKAGE.joinpath(*target.split(".")[1:])
                found |= ({f"{target}.{a.name}" for a in node.names} if package_dir.is_dir()
                          else {target})
    return found


SOURCES = sorted(p for p in PACKAGE.rglob("*.py*") if p.suffix in (".py", ".pyx"))
ORDER = [name for name, _ in LAYERS]


def upward_imports(path: Path, root: Path = PACKAGE) -> list[str]:
    mine = part_of(module_name(path, root))
    if mine == "top":
        return []
    return sorted(t for t in imported_modules(path, root)
                  if part_of(t) == "top" or ORDER.index(part_of(t)) > ORDER.index(mine))


@pytest.mark.parametrize("path", SOURCES, ids=lambda p: str(p.relative_to(PACKAGE)))
def test_each_part_imports_only_the_parts_below_it(path):
    assert upward_imports(path) == [], f"{module_name(path)} imports upward"


def test_the_checker_finds_upward_imports_written_every_way(tmp_path):
    """A fake lm module that imports the decoder relatively, lazily inside a function and
    absolutely, and the runtime from a sibling package: all four are found; imports of its
    own part and below are not."""
    bad = tmp_path / "lm" / "bad.py"
    bad.parent.mkdir()
    bad.write_text("from . import csr\nfrom ..files import utf8\n"
                   "from ..decode.lattice import LatticeDecoder\n"
                   "def f():\n    from ..runtime import converter\n"
                   "import pinyin_hanzi.decode.beam\nfrom pinyin_hanzi import cli\n")
    assert upward_imports(bad, tmp_path) == [
        "pinyin_hanzi.cli", "pinyin_hanzi.decode.beam", "pinyin_hanzi.decode.lattice",
        "pinyin_hanzi.runtime.converter"]
    assert part_of("pinyin_hanzi.decode._lattice") == "decode"
