"""What users type -> pinyin syllables: a lattice of every legal split, and the best one.

This module owns the parse from a typed string (``xianzai``, ``Ni Hao``, ``xi'an``) to syllables,
modelled on libime's ``PinyinEncoder::parseUserPinyin``: the input becomes a syllable graph, and
the decoder (not this module) may choose any path through it. We also rank one path ourselves,
because the model and the CLI need a single answer without a lexicon.

* Apostrophes and spaces are hard boundaries: no syllable crosses them (``xi'an`` -> xi an).
* Ranking of ``Segmentation.syllables``, compared in this order, smaller wins:
    1. fewer syllables (``xian`` -> xian, not xi an);
    2. fewer incomplete syllables (partial or abbreviated, only if ``ParseOptions`` allow them);
    3. fewer vowel-less syllables ``m n ng hm hng r`` (``dier`` -> di er 第二, not die r);
    4. fewer syllables starting with a, e or o right after one ending in n, g or r, inside
       one chunk (``fangan`` -> fan gan 反感, not fang an 方案; ``mingan`` -> min gan 敏感).
       libime spots the same ambiguity but keeps both and lets its language model choose; we
       must pick one without a lexicon. It only breaks ties: ``tiananmen`` stays tian an men
       and ``zhonge`` zhong e, as no split with as few syllables avoids the vowel;
    5. longer syllables first (leftmost-longest, libime's greedy match), which makes it total.
* Errors: ``PinyinError`` only, with ``.position``/``.span`` in the ORIGINAL text. Characters
  that are not pinyin are reported by ``pinyin.normalize_with_offsets``; a letter run that no
  split covers is reported at the furthest point any parse from its start reaches, naming the
  longest syllable prefix there plus the first letter that breaks it (``abcxyz`` -> 'bc' at 1),
  or "incomplete syllable" when the text ends inside one (``nihaox`` -> 'x' at 5). Input of
  more than ``MAX_INPUT_SYLLABLES`` syllables (or ``MAX_INPUT_CHARS`` characters, room for that
  many of the longest, each with a tone and a separator) is "too long": the one limit of the
  API, the CLI and the service; ``pieces`` cuts longer text between syllables instead.
* Input with no letters (``""``, ``"  "``, ``"'"``) is no error: it has no syllables.

Every edge of the graph carries its kind (``FULL``: a whole syllable; ``PARTIAL``: the unfinished
last one while typing; ``ABBREVIATED``: a syllable cut short anywhere, ``zg`` for zhong guo or
``zhon`` for zhong), and its cost is charged by kind, as librime tags spellings normal,
abbreviation, fuzzy or completion: a new input form is one more kind made in ``_chunk_edges``
with its cost, not a new code path through the parser or the decoder. Which kinds a parse may
use is its ``ParseOptions``; what syllables a cut one may stand for is spelling.py's business.

Cost is linear in the input: a dynamic program over (offset, syllable), at most
``MAX_SYLLABLE_LEN`` syllables per offset; ``all_splits`` walks the pruned lattice lazily.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from typing import Iterator

from pinyin_hanzi.pinyin import (
    MAX_SYLLABLE_LEN,
    SPELLINGS,
    SYLLABLES,
    PinyinError,
    _is_separator,
    normalize_with_offsets,
)

__all__ = ["ABBREVIATED", "FULL", "MAX_INPUT_CHARS", "MAX_INPUT_SYLLABLES", "PARTIAL",
           "ParseOptions", "Segmentation", "check_chars", "interjection_by_chance", "pieces",
           "segment", "too_many_syllables"]

# The decoder's memory grows with the square of the length (10,000 syllables took 12.8 GB):
# longer text is cut into pieces of this many syllables, as an input method commits as it goes.
MAX_INPUT_SYLLABLES = 64
# 6 letters + tone digit + separator: every input of MAX_INPUT_SYLLABLES fits the character cap.
_CHARS_PER_SYLLABLE = MAX_SYLLABLE_LEN + 2
MAX_INPUT_CHARS = _CHARS_PER_SYLLABLE * MAX_INPUT_SYLLABLES

_VOWELS = frozenset("aeiouv")
_CONSONANT_SYLLABLES = frozenset(s for s in SYLLABLES if not _VOWELS & set(s))
# Every prefix of an accepted spelling, full spellings included: for error spans and partials.
_PREFIXES = frozenset(s[:k] for s in SPELLINGS for k in range(1, len(s) + 1))
# Interjections (噷 哼 嗯) that an abbreviated input spells by chance, and the cut spellings
# only they begin: `nhm` is n h m, 你好吗, not n hm, 你噷, though that has a syllable fewer.
_INTERJECTIONS = frozenset(s for s in _CONSONANT_SYLLABLES if len(s) > 1)
_NOT_IN_ABBREVIATIONS = frozenset(p for p in _PREFIXES if all(
    SPELLINGS[s] in _INTERJECTIONS for s in SPELLINGS if s.startswith(p)))


FULL, PARTIAL, ABBREVIATED = "full", "partial", "abbreviated"  # the kinds of edge


@dataclass(frozen=True)
class ParseOptions:
    """Which kinds of edge besides ``FULL`` a parse may use.

    ``partial``: the input may end inside a syllable, as an IME sees it while the user types
    (``nih`` -> ni h). ``abbreviated``: any syllable may be cut short, to its initial or
    further (``zgrm`` -> z g r m, ``zhonguo`` -> zhon guo); the cut ones cost more, so an input
    that is whole pinyin parses as it would without this option."""

    partial: bool = False
    abbreviated: bool = False


STRICT = ParseOptions()


@dataclass(frozen=True)
class _Edge:
    """One syllable in the graph: ``length`` letters of the normalised text spell ``syllable``."""

    syllable: str  # canonical (lue -> lve); as typed if cut short (PARTIAL, ABBREVIATED)
    length: int
    kind: str
    cost: tuple[int, int, int, int]  # (syllables, cut short, vowel-less, vowel-after-n/g/r)


def _edge(spelling: str, kind: str) -> _Edge:
    syllable = SPELLINGS[spelling] if kind == FULL else spelling
    return _Edge(syllable, len(spelling), kind,
                 (1, int(kind != FULL), int(syllable in _CONSONANT_SYLLABLES), 0))


def _joint_penalty(prev: _Edge, nxt: _Edge) -> int:
    """1 for a vowel-initial syllable after one ending in n/g/r (fang an vs fan gan)."""
    return int(prev.syllable[-1] in "ngr" and nxt.syllable[0] in "aeo")


def _add(a: tuple[int, ...], b: tuple[int, ...]) -> tuple[int, ...]:
    return tuple(x + y for x, y in zip(a, b))


@dataclass(frozen=True)
class Segmentation:
    """The parse of one input.

    ``normalized`` is ``pinyin.normalize_input(text)``. ``lattice[i]`` holds the syllables that
    start at offset ``i`` of ``normalized`` and lie on at least one complete split (longest
    first; empty at separators). Each syllable covers ``len(syllable)`` letters, aliases
    included (``lue`` is stored as ``lve``). ``spans`` gives each best syllable's
    ``(start, end)`` in the original ``text``, ``kinds`` its kind (``FULL``, ``PARTIAL`` or
    ``ABBREVIATED``: the last two only as the parse's ``ParseOptions`` allow).
    """

    text: str
    normalized: str
    syllables: tuple[str, ...]
    spans: tuple[tuple[int, int], ...]
    lattice: tuple[tuple[str, ...], ...]
    kinds: tuple[str, ...] = ()

    @property
    def partial(self) -> bool:
        """True when the best split ends in an unfinished syllable."""
        return bool(self.kinds) and self.kinds[-1] == PARTIAL

    def all_splits(self, limit: int | None = 1000) -> Iterator[tuple[str, ...]]:
        """Yield every legal split: the best first, then the rest depth-first, longest
        syllables first. At most ``limit`` splits (None: all of them, still lazily - there can
        be exponentially many, e.g. 4**64 for ``xian`` * 64)."""
        if limit is not None and limit <= 0:
            return
        yield self.syllables
        if not self.syllables:
            return  # no letters: the one, empty split
        count = 1
        text, lattice = self.normalized, self.lattice
        path: list[str] = []
        # Invariant: len(frames) == len(path) + 1; frames[k] iterates the choices at offsets[k].
        frames = [iter(lattice[0])]
        offsets = [0]
        while frames:
            syllable = next(frames[-1], None)
            if syllable is None:
                frames.pop()
                offsets.pop()
                if path:
                    path.pop()
                continue
            end = offsets[-1] + len(syllable)
            if end == len(text):
                split = (*path, syllable)
                if split != self.syllables:
                    if limit is not None and count >= limit:
                        return
                    count += 1
                    yield split
                continue
            # Every lattice entry reaches the end, so this never dead-ends.
            path.append(syllable)
            start = end + 1 if text[end] == "'" else end
            frames.append(iter(lattice[start]))
            offsets.append(start)


def _chunk_edges(chunk: str, partial: bool, abbreviated: bool) -> list[list[_Edge]]:
    """Edges starting at each offset of ``chunk``; ``partial``: it may end inside a syllable."""
    edges: list[list[_Edge]] = []
    end = len(chunk)
    for i in range(end):
        here = []
        for length in range(min(MAX_SYLLABLE_LEN, end - i), 0, -1):
            spelling = chunk[i:i + length]
            if abbreviated and spelling in _NOT_IN_ABBREVIATIONS:
                continue
            if spelling in SPELLINGS:
                here.append(_edge(spelling, FULL))
            elif spelling in _PREFIXES:
                if partial and i + length == end:
                    here.append(_edge(spelling, PARTIAL))
                elif abbreviated:
                    here.append(_edge(spelling, ABBREVIATED))
        edges.append(here)
    return edges


def _unparsable(text: str, start: int, end: int, edges: list[list[_Edge]]) -> tuple[str, int, int]:
    """Why ``text[start:end]`` has no split: (reason, span start, span end) in ``text``."""
    reach = [False] * (end - start + 1)
    reach[0] = True
    furthest = start
    for i in range(end - start):
        if reach[i]:
            furthest = start + i
            for e in edges[i]:
                reach[i + e.length] = True
    at = furthest
    prefix = 0
    while at + prefix < end and text[at:at + prefix + 1] in _PREFIXES:
        prefix += 1
    if at + prefix == end:
        return "incomplete syllable", at, end
    return "not pinyin", at, at + prefix + 1


def _best_split(edges: list[list[_Edge]], n: int) -> tuple[list[tuple[int, _Edge]], list[set]]:
    """Best path through one chunk of ``n`` letters, and the edges on complete paths.

    Backward DP over (offset, first edge): the penalty couples neighbours, so the state must
    know which syllable starts at the offset. Returns [] if the chunk has no split.
    """
    # best[i][k]: (cost, continuation index) of the best completion starting with edges[i][k].
    best: list[list[tuple | None]] = [[None] * len(edges[i]) for i in range(n)]
    for i in range(n - 1, -1, -1):
        for k, e in enumerate(edges[i]):
            j = i + e.length
            if j == n:
                best[i][k] = (e.cost, -1)
                continue
            options = [
                (_add(e.cost, _add(b[0], (0, 0, 0, _joint_penalty(e, edges[j][m])))), m)
                for m, b in enumerate(best[j]) if b is not None
            ]
            # Ties on cost go to the longer next syllable: edges are stored longest first.
            best[i][k] = min(options, key=lambda o: (o[0], o[1])) if options else None
    # Prune to edges that are reachable from the chunk start and lead to its end.
    reach = [False] * n
    reach[0] = True
    on_path: list[set] = [set() for _ in range(n)]
    for i in range(n):
        if reach[i]:
            for k, e in enumerate(edges[i]):
                if best[i][k] is not None:
                    on_path[i].add(k)
                    if i + e.length < n:
                        reach[i + e.length] = True
    firsts = [(b[0], k) for k, b in enumerate(best[0]) if b is not None]
    if not firsts:
        return [], on_path
    path = []
    i, k = 0, min(firsts)[1]
    while k >= 0:
        path.append((i, edges[i][k]))
        i, k = i + edges[i][k].length, best[i][k][1]
    return path, on_path


# Chunks of more than LONG_CHUNK letters are remembered apart, only the last LONG_CHUNKS: typed
# unspaced, each keystroke is a new chunk, and while a Session typed benchmark clauses none of
# over 15 letters was asked for again (12-15: 5 %, 8-11: 8 %, syllables: 31 %), but each held
# ~30 KB of graph at 64 letters: 390 of them were 11.5 MB of a service's burst of costly
# inputs, held until the burst was over and then spread through Python's arenas, which kept
# the memory (dev/EXPERIMENTS.md, session 18).
LONG_CHUNK, LONG_CHUNKS = 12, 16


@lru_cache(maxsize=512)
def _parse_chunk(chunk: str, partial: bool, abbreviated: bool):
    """One chunk's edges and best split (_chunk_edges, _best_split), remembered: chunks
    repeat (spaced input is one syllable per chunk), and this is most of a parse's time.
    Callers only read the lists. Few are kept: typing unspaced, each keystroke is a new
    chunk whose graph is thousands of objects, and every object kept lengthens Python's
    full garbage collections (4,096 chunks made pauses of 100-200 ms). Chunks of more than
    LONG_CHUNK letters: _parse_long_chunk."""
    edges = _chunk_edges(chunk, partial, abbreviated)
    return (edges, *_best_split(edges, len(chunk)))


_parse_long_chunk = lru_cache(maxsize=LONG_CHUNKS)(_parse_chunk.__wrapped__)


def clear_segment_cache():
    """Forget the chunks remembered (a service after a burst of long inputs)."""
    _parse_chunk.cache_clear()
    _parse_long_chunk.cache_clear()


def segment(text: str, max_len: int | None = None, options: ParseOptions = STRICT
            ) -> Segmentation:
    """Parse typed pinyin into syllables (see the module docstring for the ranking rule).

    ``max_len`` caps the number of syllables in the best split (default
    ``MAX_INPUT_SYLLABLES``, e.g. the model's context; a larger one also raises the character
    cap above ``MAX_INPUT_CHARS``). ``options`` allow unfinished and abbreviated syllables
    (``ParseOptions``).

    >>> segment("xianzai").syllables, segment("Xi'an").syllables
    (('xian', 'zai'), ('xi', 'an'))
    >>> segment("fangan").syllables, ("fang", "an") in segment("fangan").all_splits()
    (('fan', 'gan'), True)

    Input with no letters has no syllables (``segment("  ").syllables == ()``). Raises
    PinyinError (a ValueError) for anything that is not pinyin, and for nothing else.
    """
    if max_len is None:
        max_syllables, max_chars = MAX_INPUT_SYLLABLES, MAX_INPUT_CHARS
    else:
        max_syllables = max_len
        max_chars = max(MAX_INPUT_CHARS, _CHARS_PER_SYLLABLE * max_len)
    check_chars(text, max_chars)
    if all(_is_separator(c) for c in text):
        return Segmentation(text=text, normalized="", syllables=(), spans=(), lattice=())
    normalized, offsets = normalize_with_offsets(text)

    def original(start: int, end: int) -> tuple[int, int]:
        # Tone digits and marks stay with their syllable; separators after it do not.
        a, b = offsets[start], offsets[end]
        while b > a + 1 and _is_separator(text[b - 1]):
            b -= 1
        return a, b

    def error(reason: str, start: int, end: int) -> PinyinError:
        a, b = original(start, end)
        return PinyinError(f"{reason} at position {a}: {text[a:b]!r}", a, text[a:b])

    n = len(normalized)
    lattice: list[tuple[str, ...]] = [()] * n
    best: list[tuple[int, _Edge]] = []
    start = 0
    while start < n:
        end = normalized.find("'", start)
        end = n if end < 0 else end
        parse = _parse_chunk if end - start <= LONG_CHUNK else _parse_long_chunk
        edges, path, on_path = parse(normalized[start:end], options.partial and end == n,
                                     options.abbreviated)
        if not path:
            raise error(*_unparsable(normalized, start, end, edges))
        best.extend((start + i, e) for i, e in path)
        for i, ks in enumerate(on_path):
            lattice[start + i] = tuple(edges[i][k].syllable for k in sorted(ks))
        start = end + 1
    if len(best) > max_syllables:
        at, _ = best[max_syllables]
        raise too_many_syllables(text, len(best), offsets[at], max_syllables)
    return Segmentation(
        text=text,
        normalized=normalized,
        syllables=tuple(e.syllable for _, e in best),
        spans=tuple(original(i, i + e.length) for i, e in best),
        lattice=tuple(lattice),
        kinds=tuple(e.kind for _, e in best),
    )


def check_chars(text: str, max_chars: int = MAX_INPUT_CHARS) -> None:
    """PinyinError if `text` is longer than `max_chars` characters."""
    if len(text) > max_chars:
        raise PinyinError(
            f"input too long at position {max_chars}: {len(text)} characters, "
            f"at most {max_chars}", max_chars, text[max_chars:])


def too_many_syllables(text: str, count: int, at: int,
                       max_syllables: int = MAX_INPUT_SYLLABLES) -> PinyinError:
    """The error for `text`, read as `count` syllables, the first one too many at `at`."""
    return PinyinError(f"input too long at position {at}: {count} syllables, at most "
                       f"{max_syllables}", at, text[at:])


def pieces(text: str, limit: int = MAX_INPUT_SYLLABLES, options: ParseOptions = STRICT
           ) -> list[str]:
    """``text`` cut between syllables of its best split into pieces of at most ``limit``
    syllables each, in order (``[text]`` when it has no more): text of any length can then be
    converted piece by piece, as an input method commits what the user typed so far. Parsing
    is linear in the length; raises PinyinError as ``segment`` does for what is not pinyin.

    >>> pieces("nihao" * 3, limit=4)
    ['nihaonihao', 'nihao']
    """
    seg = segment(text, max(limit, len(text)), options)
    starts = [a for a, _ in seg.spans[limit::limit]]
    return [text[a:b] for a, b in zip([0, *starts], [*starts, len(text)])]


def interjection_by_chance(seg: Segmentation) -> bool:
    """Whether whole pinyin uses an interjection (hm, hng, ng) among other syllables, as
    abbreviations spell one by chance (``nhm``: n hm, where 你好吗 was meant); an input method
    that reads abbreviations parses such input again with them."""
    return len(seg.syllables) > 1 and any(s in _INTERJECTIONS for s in seg.syllables)
