# cython: language_level=3, boundscheck=False, wraparound=False, cdivision=True
# cython: initializedcheck=False
"""The search behind lattice.LatticeDecoder, compiled: an input method runs it for every
keystroke, and in numpy it cost a hundred small array calls per syllable.

`Lattice` holds the word model's and the character n-gram's arrays (views, not copies; their
count tables are read at whatever integer width csr.smallest_int gave them) and the
vocabulary's hanzi as code points; `search` decodes one clause. The semantics are those of
the one-extension-at-a-time reference in tests/test_lattice.py:

* arcs at position i: the encoder's best hanzi there, then the lexicon words that start there
  (by length, then their order in the reading index) whose every hanzi is among
  its syllable's candidates;
* an extension scores ((path + arc's encoder log-prob) + word_bonus) + word_weight * word
  model, then + char_weight * char n-gram summed over the arc's characters left to right;
* at each position the `beam` best distinct texts are kept, each by its best extension (the
  first one met on a tie), and texts that tie go in the order they were first met;
* at the end, each distinct text's best extension adds the clause end; the k best by that
  score (ties: the greater text) are returned.

Texts are compared as code points (hashed, then checked), so no Python string is built until
the answer.
"""

from libc.math cimport log
from libc.stdint cimport int32_t, int64_t, uint8_t, uint16_t, uint64_t
from libc.stdlib cimport free, malloc, qsort, realloc
from libc.string cimport memcmp, memcpy

import numpy as np

cdef extern from "Python.h":
    object PyUnicode_FromKindAndData(int kind, const void *buffer, Py_ssize_t size)
    int PyUnicode_4BYTE_KIND

cdef uint64_t HASH_MUL = 1000003
cdef int32_t UNKNOWN = -1  # lm.words.UNKNOWN
cdef enum:
    MEMO_BITS = 11  # 2 ** 11 cached answers per model (48 KB): more missed the cache
    # The reading search's own (384 KB, made on first use): it asks ~3,500 questions a
    # position, most of them again at the next.
    READING_MEMO_BITS = 14


cdef inline Py_ssize_t memo_slot(int64_t history, int64_t next, int bits=MEMO_BITS
                                 ) noexcept nogil:
    cdef uint64_t h = (<uint64_t> history * 0x9E3779B97F4A7C15ULL) ^ <uint64_t> next
    h ^= h >> 29
    return <Py_ssize_t> ((h * 0xBF58476D1CE4E5B9ULL) >> (64 - bits))


cdef const int32_t *i32(list keep, object array, str what) except? NULL:
    array = np.asarray(array)
    if array.size and (array.max() >= 2 ** 31 or array.min() < -2 ** 31):
        raise ValueError(f"{what}: a value beyond int32, which the compiled decoder uses")
    cdef const int32_t[::1] view = np.ascontiguousarray(array, dtype=np.int32)
    keep.append(view)
    return &view[0] if view.shape[0] else NULL


# An integer array of the language models' tables (csr.py), read in place at its width;
# with `values`, its entries are 8-bit codes of those values (csr.quantize_counts).
cdef struct Column:
    const void *data
    int width  # 1 (uint8), 2 (uint16), 3 (csr.compact_ids' 3 bytes), 4 (int32) or 8 (int64)
    int64_t size
    const int64_t *values


cdef Column column(list keep, object array, object values=None) except *:
    """A view of a csr.smallest_int or csr.compact_ids array (any other integer type is
    copied to int64), and of the values of its codes if given."""
    array = np.asarray(array)
    cdef int width = 3 if array.ndim == 2 and array.shape[1] == 3 else array.dtype.itemsize
    if width != 3 and array.dtype not in (np.uint8, np.uint16, np.int32, np.int64):
        array, width = array.astype(np.int64), 8
    array = np.ascontiguousarray(array)
    cdef const uint8_t[::1] raw = array.view(np.uint8).reshape(-1)
    keep.append(raw)
    cdef Column c
    c.data = &raw[0] if raw.shape[0] else NULL
    c.width, c.size, c.values = width, len(array), NULL
    cdef const int64_t[::1] codebook
    if values is not None:
        codebook = np.ascontiguousarray(values, dtype=np.int64)
        keep.append(codebook)
        c.values = &codebook[0]
    return c


cdef inline int64_t at(Column c, int64_t j) noexcept nogil:
    cdef const uint8_t *p
    if c.width == 2:
        return (<const uint16_t *> c.data)[j]
    if c.width == 4:
        return (<const int32_t *> c.data)[j]
    if c.width == 3:
        p = <const uint8_t *> c.data + 3 * j
        return p[0] | (<int64_t> p[1]) << 8 | (<int64_t> p[2]) << 16
    if c.width == 1:
        return (<const uint8_t *> c.data)[j]
    return (<const int64_t *> c.data)[j]


cdef inline int64_t value(Column c, int64_t j) noexcept nogil:
    """A counts column's j-th count: its code's value, or the entry itself."""
    return c.values[at(c, j)] if c.values != NULL else at(c, j)


cdef inline int64_t lower(Column c, int64_t lo, int64_t hi, int64_t key) noexcept nogil:
    """The first place in the ascending c[lo:hi] whose value is >= key (hi if none)."""
    cdef int64_t mid
    while lo < hi:
        mid = (lo + hi) >> 1
        if at(c, mid) < key:
            lo = mid + 1
        else:
            hi = mid
    return lo


cdef inline int64_t find(Column c, int64_t lo, int64_t hi, int64_t key) noexcept nogil:
    """Where `key` is in the ascending c[lo:hi], or -1."""
    lo = lower(c, lo, hi, key)
    return lo if lo < hi and at(c, lo) == key else -1


cdef struct Arc:
    Py_ssize_t end
    int32_t word  # word model id (UNKNOWN = -1 for a hanzi the lexicon lacks)
    double enc
    Py_ssize_t cp  # code points at cps[cp:cp + length]
    int32_t length
    uint64_t hash, power
    Py_ssize_t inner  # char n-gram log-probs of characters m.. at inner pool [inner:]


cdef struct Hyp:
    double score
    int32_t word  # last word's model id
    int64_t history  # char n-gram history key
    Py_ssize_t text  # code points at texts[text:text + length]
    Py_ssize_t length
    uint64_t hash


# A direct-mapped cache slot of one language-model question (history, next) -> log-prob.
cdef struct Memo:
    int64_t history
    int64_t next
    double logprob


# One extension: path (global hyp index) + arc, and its score.
cdef struct Cand:
    double score
    int32_t hyp
    int32_t arc

# One distinct text among a position's extensions: its best extension, its order of meeting.
cdef struct Entry:
    double score
    int32_t cand
    int32_t first


cdef inline bint better(const Entry *x, const Entry *y) noexcept nogil:
    return x.score > y.score or (x.score == y.score and x.first < y.first)


cdef Py_ssize_t best_first(Entry *entries, Py_ssize_t count, Py_ssize_t limit) noexcept nogil:
    """Moves the `limit` best entries to the front, best first (an insertion sort that keeps
    only `limit`: a position has hundreds of texts and keeps 16); returns how many."""
    cdef Py_ssize_t kept = 0, x, j
    cdef Entry e
    for x in range(count):
        e = entries[x]
        if kept == limit and not better(&e, &entries[kept - 1]):
            continue
        j = kept if kept < limit else limit - 1  # while not full, x == kept: e is a copy
        while j > 0 and better(&e, &entries[j - 1]):
            entries[j] = entries[j - 1]
            j -= 1
        entries[j] = e
        if kept < limit:
            kept += 1
    return kept


cdef int by_score_then_first(const void *a, const void *b) noexcept nogil:
    """qsort's order of `better`."""
    cdef const Entry *x = <const Entry *> a
    cdef const Entry *y = <const Entry *> b
    return better(y, x) - better(x, y)


cdef struct Buf:  # a growable array of any element size
    char *data
    Py_ssize_t size, cap, item


cdef int buf_init(Buf *b, Py_ssize_t item) except -1:
    b.item, b.size, b.cap = item, 0, 16
    b.data = <char *> malloc(b.cap * item)
    if b.data == NULL:
        raise MemoryError()
    return 0


cdef void *buf_push(Buf *b, Py_ssize_t count) except NULL:
    """Room for `count` more items at the end; returns where they start."""
    cdef char *grown
    if b.size + count > b.cap:
        while b.size + count > b.cap:
            b.cap *= 2
        grown = <char *> realloc(b.data, b.cap * b.item)
        if grown == NULL:
            raise MemoryError()
        b.data = grown
    b.size += count
    return b.data + (b.size - count) * b.item


# A csr.CountTable: history j's n-grams are next[rows[j]:rows[j + 1]], with their counts.
cdef struct CountTable:
    Column histories  # size 0: dense, history j is j
    Column rows, next, counts, d
    bint dense


cdef CountTable count_table(list keep, object table) except *:
    cdef CountTable t
    t.dense = table.histories is None
    t.histories = column(keep, np.zeros(0, dtype=np.int64) if t.dense else table.histories)
    t.rows, t.next = column(keep, table.rows), column(keep, table.next)
    t.counts = column(keep, table.counts, table.count_values)
    t.d = column(keep, table.d)
    return t


cdef struct Counted:  # what Witten-Bell needs of one (history, next) question
    double count, t, d


cdef inline Counted lookup(const CountTable *table, int64_t history, int64_t next
                           ) noexcept nogil:
    """csr.CountTable.lookup for one pair."""
    cdef int64_t j, lo = 0, hi = 0, found
    cdef Counted out
    if table.dense:
        j = history if 0 <= history < table.rows.size - 1 else -1
    else:
        j = find(table.histories, 0, table.histories.size, history)
    if j >= 0:
        lo, hi = at(table.rows, j), at(table.rows, j + 1)
    if hi == lo:  # an unseen history
        out.count, out.t, out.d = 0, 1, 1
        return out
    found = find(table.next, lo, hi, next)
    out.count = value(table.counts, found) if found >= 0 else 0
    out.t, out.d = hi - lo, at(table.d, j)
    return out



# A span of the reading search (Lattice.reading_arcs): per position, the syllable digits it
# allows, as a list and as a 512-bit set.
cdef struct Span:
    Py_ssize_t length
    uint64_t allowed[8][8]  # KEY_SYLLABLES (7) positions at most
    const int64_t *options[8]
    Py_ssize_t n_options[8]


cdef enum:
    # A range of keys no longer than this many per allowed digit is read key by key rather
    # than binary searched once per digit (~20 steps each).
    SCAN_FACTOR = 8

cdef class Lattice:
    # Word model (lm.words.WordLM): n words, their counts; its bigrams (a csr.CountTable).
    cdef const uint8_t *text
    cdef const int32_t *starts
    cdef Column counts
    cdef CountTable bigrams
    cdef int64_t n_words
    # The lexicon's reading index (WordLM._lexicon): sorted keys of up to key_syllables
    # syllable digits in base reading_base, beside their words.
    cdef Column reading_keys
    cdef const int32_t *reading_words
    cdef int64_t reading_base
    cdef Py_ssize_t key_syllables, max_word_len
    cdef double alpha, denominator
    # Character n-gram (lm.ngram.CharNgram) of order m + 1, or none (m = -1).
    cdef int m
    cdef int64_t char_base, unknown_char, eos, start_history
    cdef const double *p1
    cdef CountTable *tables  # per k = 1..m: the (k+1)-grams by k-character history
    cdef int64_t *powers  # char_base ** j, j = 0..m
    # Code point -> vocabulary hanzi id (-1: none) and -> char n-gram id.
    cdef const int32_t *cp_hanzi
    cdef const int32_t *cp_char
    cdef int64_t n_cp
    # Vocabulary hanzi h: code points cps[cp_start[h]:cp_start[h + 1]], word model id.
    cdef const int32_t *hanzi_cp_start
    cdef const int32_t *hanzi_cps
    cdef const int32_t *hanzi_word
    cdef int64_t n_hanzi
    cdef list keep  # the arrays the pointers above point into
    # Caches of the two models' answers: a clause asks the same questions for many paths.
    # Safe across threads: the search holds the GIL, and a slot is read or written between
    # two Python calls, never across one.
    cdef Memo *word_memo
    cdef Memo *char_memo
    cdef Memo *reading_memo
    cdef readonly object word_lm, char_lm

    def __cinit__(self):
        self.keep = []
        self.m = -1
        self.word_memo = <Memo *> malloc((1 << MEMO_BITS) * sizeof(Memo))
        self.char_memo = <Memo *> malloc((1 << MEMO_BITS) * sizeof(Memo))
        if self.word_memo == NULL or self.char_memo == NULL:
            raise MemoryError()
        for i in range(1 << MEMO_BITS):  # no question has history -1 and next -2
            self.word_memo[i].history = self.char_memo[i].history = -1
            self.word_memo[i].next = self.char_memo[i].next = -2

    def __init__(self, word_lm, char_lm, hanzi: list, hanzi_id: dict):
        """word_lm: lm.words.WordLM; char_lm: lm.ngram.CharNgram or None; the vocabulary's
        hanzi (id -> text) and hanzi_id (text -> id)."""
        keep = self.keep
        self.word_lm, self.char_lm = word_lm, char_lm
        cdef const uint8_t[::1] text = np.ascontiguousarray(word_lm.text, dtype=np.uint8)
        keep.append(text)
        self.text = &text[0] if text.shape[0] else NULL
        self.starts = i32(keep, word_lm.starts, "word starts")
        self.n_words = len(word_lm.starts) - 1
        self.counts = column(keep, word_lm.counts, word_lm.count_values)
        self.bigrams = count_table(keep, word_lm.bigrams)
        self.alpha = word_lm.alpha
        self.denominator = float(word_lm.denominator)
        from ..lm.words import KEY_SYLLABLES, MAX_WORD_LEN, READING_BASE
        self.reading_keys = column(keep, word_lm.reading_keys)
        self.reading_words = i32(keep, word_lm.reading_words, "reading words")
        self.reading_base, self.key_syllables = READING_BASE, KEY_SYLLABLES
        self.max_word_len = MAX_WORD_LEN

        single_cps = [c for h in hanzi for c in map(ord, h)]
        word_cps = [ord(c) for h in hanzi_id if len(h) == 1 for c in h]
        self.n_cp = max(single_cps + word_cps + [0]) + 1
        cp_hanzi = np.full(self.n_cp, -1, dtype=np.int32)
        for h, i in hanzi_id.items():
            if len(h) == 1:
                cp_hanzi[ord(h)] = i
        self.cp_hanzi = i32(keep, cp_hanzi, "")
        lengths = [len(h) for h in hanzi]
        self.hanzi_cp_start = i32(keep, np.r_[0, np.cumsum(lengths)], "")
        self.hanzi_cps = i32(keep, np.array(single_cps, dtype=np.int32), "")
        # A vocabulary entry of several characters (<unk>) is no lexicon word.
        self.hanzi_word = i32(keep, [word_lm.word_id(h) if len(h) == 1 else UNKNOWN
                                     for h in hanzi], "word ids")
        self.n_hanzi = len(hanzi)
        if char_lm is not None:
            self._char_model(char_lm)

    cdef _char_model(self, lm):
        keep = self.keep
        cdef int k, m = lm.order - 1
        self.m = m
        self.char_base, self.unknown_char, self.eos = lm.base, lm.unknown, lm.eos
        self.start_history = lm.history("")
        cdef const double[::1] p1 = np.ascontiguousarray(lm.unigram_probs, dtype=np.float64)
        keep.append(p1)
        self.p1 = &p1[0]
        cp_char = np.full(self.n_cp, lm.unknown, dtype=np.int32)
        known = np.flatnonzero(lm.codepoints < self.n_cp)
        cp_char[lm.codepoints[known]] = known
        self.cp_char = i32(keep, cp_char, "")
        self.tables = <CountTable *> malloc((m + 1) * sizeof(CountTable))
        self.powers = <int64_t *> malloc((m + 1) * sizeof(int64_t))
        if self.tables == NULL or self.powers == NULL:
            raise MemoryError()
        self.powers[0] = 1
        for k in range(1, m + 1):
            self.powers[k] = self.powers[k - 1] * self.char_base
            self.tables[k] = count_table(keep, lm.tables[k - 1])

    def __dealloc__(self):
        free(self.word_memo)
        free(self.char_memo)
        free(self.reading_memo)
        free(self.tables)
        free(self.powers)

    cdef inline double word_logprob(self, int64_t previous, int64_t word) noexcept nogil:
        """lm.words.WordLM.logprobs for one pair."""
        return self.memoised(self.word_memo, previous, word, True)

    cdef inline double char_logprob(self, int64_t history, int64_t c) noexcept nogil:
        """lm.ngram.CharNgram.logprobs for one pair."""
        return self.memoised(self.char_memo, history, c, False)

    cdef inline double memoised(self, Memo *memo, int64_t history, int64_t next, bint word
                                ) noexcept nogil:
        """A model's answer to (history, next), from its memo if the slot holds it."""
        cdef Memo *slot = &memo[memo_slot(history, next)]
        if slot.history != history or slot.next != next:
            slot.history, slot.next = history, next
            slot.logprob = (self._word_logprob(history, next) if word
                            else self._char_logprob(history, next))
        return slot.logprob

    cdef inline double _word_logprob(self, int64_t previous, int64_t word) noexcept nogil:
        cdef double lower = ((value(self.counts, word) if word >= 0 else 0) + self.alpha) \
            / self.denominator
        cdef Counted n = lookup(&self.bigrams, previous, word)
        return log((n.count + n.t * lower) / n.d)

    cdef inline double _char_logprob(self, int64_t history, int64_t c) noexcept nogil:
        cdef double p = self.p1[c]
        cdef Counted n
        cdef int k
        for k in range(1, self.m + 1):
            n = lookup(&self.tables[k], history % self.powers[k] if k < self.m else history, c)
            p = (n.count + n.t * p) / n.d
        return log(p)

    cdef inline int64_t char_id(self, int32_t cp) noexcept nogil:
        return self.cp_char[cp] if cp < self.n_cp else self.unknown_char

    cdef inline int64_t extend(self, int64_t history, const int32_t *cps, int32_t n
                               ) noexcept nogil:
        """The char n-gram history key after these characters ."""
        cdef int32_t kept = n if n < self.m else self.m, j
        cdef int64_t key = history % self.powers[self.m - kept]
        for j in range(n - kept, n):
            key = key * self.char_base + self.char_id(cps[j])
        return key

    def search(self, list syllables, const int32_t[::1] cand_ids, const float[::1] cand_logps,
               const int64_t[::1] cand_starts, int width, int k, int beam, double word_weight,
               double word_bonus, double char_weight, int64_t start_word=0,
               int64_t start_history=-1):
        """One clause: its syllables (canonical, toneless); cand_ids[cand_starts[i]:
        cand_starts[i + 1]], the hanzi syllable i may be (ascending), and cand_logps, the
        encoder's log-probs of each. The one-hanzi arcs at syllable i are its `width` best
        candidates, best first (ties: in the order given), as beam.top_candidates picks
        them. Returns [(score, text)] of the k best distinct texts, plus any that tie the
        k-th. start_word and start_history are the word and char n-gram histories of the
        text before the clause (default: the clause start, BOUNDARY and the n-gram's own)."""
        cdef Py_ssize_t n = cand_starts.shape[0] - 1, b
        if n != len(syllables) or n < 0 or cand_logps.shape[0] != cand_ids.shape[0]:
            raise ValueError("one set of candidates (ids and log-probs) per syllable")
        for b in range(n):
            if (cand_starts[b] < 0 or cand_starts[b + 1] < cand_starts[b]
                    or cand_starts[b + 1] > cand_ids.shape[0]):
                raise ValueError("candidate starts must rise within the candidates")
        if width < 1:
            raise ValueError(f"width must be >= 1, got {width}")
        cdef Buf arcs, cps, inner, texts
        cdef Py_ssize_t *first_arc = <Py_ssize_t *> malloc((n + 1) * sizeof(Py_ssize_t))
        cdef Buf *cands = <Buf *> malloc((n + 1) * sizeof(Buf))
        arcs.data = cps.data = inner.data = texts.data = NULL
        if cands != NULL:
            for b in range(n + 1):
                cands[b].data = NULL
        try:
            if first_arc == NULL or cands == NULL:
                raise MemoryError()
            for b in range(n + 1):
                buf_init(&cands[b], sizeof(Cand))
            buf_init(&arcs, sizeof(Arc))
            buf_init(&cps, sizeof(int32_t))
            buf_init(&inner, sizeof(double))
            buf_init(&texts, sizeof(int32_t))
            self._arcs(syllables, cand_ids, cand_logps, cand_starts, width, &arcs, &cps,
                       first_arc)
            return self._paths(n, <Arc *> arcs.data, first_arc, <int32_t *> cps.data,
                               &inner, &texts, cands, k, max(beam, k), word_weight,
                               word_bonus, char_weight, self.m >= 0 and char_weight != 0,
                               start_word, start_history)
        finally:
            if cands != NULL:
                for b in range(n + 1):
                    free(cands[b].data)
            free(cands)
            free(first_arc)
            free(arcs.data)
            free(cps.data)
            free(inner.data)
            free(texts.data)

    cdef int _arcs(self, list syllables, const int32_t[::1] cand_ids,
                   const float[::1] cand_logps, const int64_t[::1] cand_starts, int width,
                   Buf *arcs, Buf *cps, Py_ssize_t *first_arc) except -1:
        """Every position's arcs, in order, with their code points in `cps`; first_arc[i]:
        where position i's start. Words as WordLM.lexicon finds them: by start, length, then
        their order in the reading index."""
        cdef Py_ssize_t n = cand_starts.shape[0] - 1, i, j, length
        cdef int32_t hz
        cdef int32_t *pool
        cdef Arc *arc
        cdef Column candidates  # cand_ids, searched like the models' tables
        candidates.data, candidates.width = &cand_ids[0] if cand_ids.shape[0] else NULL, 4
        candidates.size = cand_ids.shape[0]
        syllable_id = self.word_lm.syllable_id
        cdef int32_t[::1] digits = np.array([syllable_id.get(x, -1) + 1 for x in syllables],
                                            dtype=np.int32)  # 0: not in the lexicon
        cdef Py_ssize_t n_best, most = 1
        for i in range(n):
            most = max(most, cand_starts[i + 1] - cand_starts[i])
        # A position's one-hanzi arcs: its `width` best candidates, ranked as the beam ranks
        # texts (score, then order met), so ties keep the order given.
        cdef Entry *best = <Entry *> malloc(most * sizeof(Entry))
        if best == NULL:
            raise MemoryError()
        try:
            for i in range(n):
                first_arc[i] = arcs.size
                for j in range(cand_starts[i + 1] - cand_starts[i]):
                    best[j].score = cand_logps[cand_starts[i] + j]
                    best[j].cand = <int32_t> (cand_starts[i] + j)
                    best[j].first = <int32_t> j
                n_best = best_first(best, cand_starts[i + 1] - cand_starts[i], width)
                for j in range(n_best):
                    hz = cand_ids[best[j].cand]
                    if hz < 0 or hz >= self.n_hanzi:
                        raise ValueError(f"hanzi id {hz} is not in the vocabulary")
                    length = self.hanzi_cp_start[hz + 1] - self.hanzi_cp_start[hz]
                    pool = <int32_t *> buf_push(cps, length)
                    memcpy(pool, self.hanzi_cps + self.hanzi_cp_start[hz],
                           length * sizeof(int32_t))
                    arc = <Arc *> buf_push(arcs, 1)
                    arc.end, arc.word, arc.enc = i + 1, self.hanzi_word[hz], best[j].score
                    arc.cp, arc.length = cps.size - length, length
                self._word_arcs(i, n, digits, candidates, cand_logps, cand_starts, arcs, cps)
        finally:
            free(best)
        first_arc[n] = arcs.size
        return 0

    cdef int _word_arcs(self, Py_ssize_t i, Py_ssize_t n, const int32_t[::1] digits,
                        Column candidates, const float[::1] cand_logps,
                        const int64_t[::1] cand_starts, Buf *arcs, Buf *cps) except -1:
        """The lexicon's words that start at syllable i, in WordLM.lexicon's order."""
        cdef Py_ssize_t length, r, lo, hi
        cdef int32_t d
        cdef int64_t key
        key = 0
        for length in range(1, min(self.max_word_len, n - i) + 1):
            d = digits[i + length - 1]
            if d == 0:
                break
            if length <= self.key_syllables:
                key = key * self.reading_base + d
                if length == 1:
                    continue
                lo = lower(self.reading_keys, 0, self.reading_keys.size, key)
                hi = lower(self.reading_keys, lo, self.reading_keys.size, key + 1)
                for r in range(lo, hi):
                    self._word_arc(i, length, self.reading_words[r], candidates,
                                   cand_logps, cand_starts, arcs, cps)
            else:  # longer than a key holds: the few such readings are in a dict
                for w in self.word_lm._long_readings.get(
                        tuple(digits[i:i + length]), ()):
                    self._word_arc(i, length, w, candidates, cand_logps, cand_starts,
                                   arcs, cps)
        return 0

    cdef int _word_arc(self, Py_ssize_t i, Py_ssize_t length, int32_t w, Column candidates,
                       const float[::1] cand_logps, const int64_t[::1] cand_starts,
                       Buf *arcs, Buf *cps) except -1:
        """Word w read over syllables i..i + length - 1, as an arc if the vocabulary has
        every hanzi of it and each is among its syllable's candidates (ids in `candidates`,
        their log-probs in cand_logps)."""
        cdef int64_t byte = self.starts[w], stop = self.starts[w + 1] - 1
        cdef const uint8_t *u = self.text + byte
        cdef int32_t *pool = <int32_t *> buf_push(cps, length)
        cdef int32_t cp
        cdef Py_ssize_t j = 0, slot
        cdef double enc = 0, s
        cdef Arc *arc
        while byte < stop:  # the word's UTF-8 -> code points
            if u[0] < 0x80:
                cp, u, byte = u[0], u + 1, byte + 1
            elif u[0] < 0xE0:
                cp, u, byte = ((u[0] & 0x1F) << 6) | (u[1] & 0x3F), u + 2, byte + 2
            elif u[0] < 0xF0:
                cp = ((u[0] & 0x0F) << 12) | ((u[1] & 0x3F) << 6) | (u[2] & 0x3F)
                u, byte = u + 3, byte + 3
            else:
                cp = (((u[0] & 0x07) << 18) | ((u[1] & 0x3F) << 12)
                      | ((u[2] & 0x3F) << 6) | (u[3] & 0x3F))
                u, byte = u + 4, byte + 4
            if j == length or cp >= self.n_cp or self.cp_hanzi[cp] < 0:
                j = -1
                break
            slot = find(candidates, cand_starts[i + j], cand_starts[i + j + 1],
                        self.cp_hanzi[cp])
            if slot < 0:  # not a candidate of its syllable
                j = -1
                break
            pool[j] = cp
            s = cand_logps[slot]
            enc = s if j == 0 else enc + s
            j += 1
        if j != length or not enc > -1e9:  # (a -inf log-prob forbids a candidate too)
            cps.size -= length
            return 0
        arc = <Arc *> buf_push(arcs, 1)
        arc.end, arc.word, arc.enc = i + length, w, enc
        arc.cp, arc.length = cps.size - length, length
        return 0

    cdef list _paths(self, Py_ssize_t n, Arc *arcs, Py_ssize_t *first_arc, int32_t *cps,
                     Buf *inner_buf, Buf *text_buf, Buf *cands, int k, int beam,
                     double word_weight, double word_bonus, double char_weight, bint chars,
                     int64_t start_word, int64_t start_history):
        cdef Py_ssize_t i, a, h, j, lo, hi, g, n_arcs = first_arc[n]
        cdef double s
        cdef double *inner
        cdef int64_t history
        cdef Arc *arc
        cdef Cand *c
        # Per arc: its hash, HASH_MUL ** length, and the char n-gram log-probs of its
        # characters j >= m, whose history lies inside the arc.
        for a in range(n_arcs):
            arc = &arcs[a]
            arc.hash, arc.power = 0, 1
            for j in range(arc.length):
                arc.hash = arc.hash * HASH_MUL + <uint64_t> cps[arc.cp + j]
                arc.power *= HASH_MUL
            arc.inner = inner_buf.size
            if chars and arc.length > self.m:
                inner = <double *> buf_push(inner_buf, arc.length - self.m)
                for j in range(self.m, arc.length):
                    history = self.extend(0, cps + arc.cp + j - self.m, self.m)
                    inner[j - self.m] = self.char_logprob(history,
                                                          self.char_id(cps[arc.cp + j]))
        cdef Buf hyp_buf
        buf_init(&hyp_buf, sizeof(Hyp))
        cdef Hyp *hyp = <Hyp *> buf_push(&hyp_buf, 1)
        hyp.score, hyp.word, hyp.text, hyp.length, hyp.hash = 0, start_word, 0, 0, 0
        hyp.history = (start_history if start_history >= 0 else self.start_history) if chars \
            else 0
        cdef Py_ssize_t hyp_lo = 0, hyp_hi = 1
        try:
            for i in range(n):
                if i:
                    hyp_lo = hyp_buf.size
                    self._best(&cands[i], &hyp_buf, arcs, cps, text_buf, beam, chars)
                    hyp_hi = hyp_buf.size
                lo, hi = first_arc[i], first_arc[i + 1]
                if hyp_lo == hyp_hi or lo == hi:
                    continue
                # Arcs of one length in a row: path-major.
                g = lo
                while g < hi:
                    j = g
                    while j < hi and arcs[j].end == arcs[g].end:
                        j += 1
                    c = <Cand *> buf_push(&cands[arcs[g].end], (hyp_hi - hyp_lo) * (j - g))
                    for h in range(hyp_lo, hyp_hi):
                        hyp = &(<Hyp *> hyp_buf.data)[h]
                        for a in range(g, j):
                            arc = &arcs[a]
                            s = ((hyp.score + arc.enc) + word_bonus) \
                                + word_weight * self.word_logprob(hyp.word, arc.word)
                            if chars:
                                s = s + char_weight * self._arc_chars(
                                    hyp.history, arc, cps, <double *> inner_buf.data)
                            c.score, c.hyp, c.arc = s, h, a
                            c += 1
                    g = j
            return self._final(&cands[n], <Hyp *> hyp_buf.data, arcs, cps, text_buf, k,
                               word_weight, char_weight, chars)
        finally:
            free(hyp_buf.data)

    cdef inline double _arc_chars(self, int64_t history, Arc *arc, int32_t *cps,
                                  double *inner) noexcept nogil:
        """Char n-gram log-prob of the arc's characters after a path, left to right."""
        cdef double total = 0
        cdef int32_t j
        cdef int64_t c
        for j in range(arc.length):
            if j < self.m:
                c = self.char_id(cps[arc.cp + j])
                total = total + self.char_logprob(history, c)
                history = (history % self.powers[self.m - 1]) * self.char_base + c
            else:
                total = total + inner[arc.inner + j - self.m]
        return total

    cdef Entry *_distinct(self, Buf *cands, Hyp *hyps, Arc *arcs, int32_t *cps,
                          int32_t *text, Py_ssize_t *found) except NULL:
        """The distinct texts among `cands` (at least one), each with its best candidate (the
        first on a tie) and the order it was first met, as entries the caller frees; their
        number goes to `found`."""
        cdef Py_ssize_t size = 16, n = cands.size, x, slot, count = 0
        while size < 2 * n:
            size *= 2
        cdef int32_t *table = <int32_t *> malloc(size * sizeof(int32_t))
        cdef uint64_t *hashes = <uint64_t *> malloc(n * sizeof(uint64_t))
        cdef Entry *entries = <Entry *> malloc(n * sizeof(Entry))
        cdef Cand *c = <Cand *> cands.data
        cdef Cand *other
        cdef Hyp *hyp
        cdef Arc *arc
        cdef uint64_t hash_
        if table == NULL or hashes == NULL or entries == NULL:
            free(table)
            free(hashes)
            free(entries)
            raise MemoryError()
        for slot in range(size):
            table[slot] = -1
        for x in range(n):
            hyp, arc = &hyps[c[x].hyp], &arcs[c[x].arc]
            hash_ = hyp.hash * arc.power + arc.hash
            slot = hash_ & (size - 1)
            while table[slot] >= 0:
                other = &c[entries[table[slot]].cand]
                if hashes[table[slot]] == hash_ and same_text(hyp, arc, &hyps[other.hyp],
                                                             &arcs[other.arc], cps, text):
                    break
                slot = (slot + 1) & (size - 1)
            if table[slot] < 0:
                table[slot] = count
                hashes[count] = hash_
                entries[count].score, entries[count].cand = c[x].score, x
                entries[count].first = count
                count += 1
            elif c[x].score > entries[table[slot]].score:
                entries[table[slot]].score, entries[table[slot]].cand = c[x].score, x
        free(table)
        free(hashes)
        found[0] = count
        return entries

    cdef int _best(self, Buf *cands, Buf *hyp_buf, Arc *arcs, int32_t *cps, Buf *text_buf,
                   int beam, bint chars) except -1:
        """The `beam` best distinct texts among one position's extensions, as new paths."""
        if cands.size == 0:
            return 0
        cdef Py_ssize_t count, x
        cdef Entry *entries = self._distinct(cands, <Hyp *> hyp_buf.data, arcs, cps,
                                             <int32_t *> text_buf.data, &count)
        cdef Cand *c
        cdef Hyp *parent
        cdef Hyp *hyp
        cdef Arc *arc
        cdef int32_t *text
        try:
            for x in range(best_first(entries, count, beam)):
                c = &(<Cand *> cands.data)[entries[x].cand]
                arc = &arcs[c.arc]
                hyp = <Hyp *> buf_push(hyp_buf, 1)
                parent = &(<Hyp *> hyp_buf.data)[c.hyp]
                hyp.score, hyp.word = c.score, arc.word
                hyp.length = parent.length + arc.length
                hyp.hash = parent.hash * arc.power + arc.hash
                hyp.history = self.extend(parent.history, cps + arc.cp, arc.length) \
                    if chars else 0
                text = <int32_t *> buf_push(text_buf, hyp.length)
                hyp.text = text_buf.size - hyp.length
                # text_buf may have moved: the parent's text is read through the new base.
                memcpy(text, <int32_t *> text_buf.data + parent.text,
                       parent.length * sizeof(int32_t))
                memcpy(text + parent.length, cps + arc.cp, arc.length * sizeof(int32_t))
        finally:
            free(entries)
        return 0

    cdef list _final(self, Buf *cands, Hyp *hyps, Arc *arcs, int32_t *cps, Buf *text_buf,
                     int k, double word_weight, double char_weight, bint chars):
        """Each distinct text's best extension plus the clause end; the k best (and ties)."""
        if cands.size == 0:
            return []
        cdef Py_ssize_t count, x
        cdef Entry *entries = self._distinct(cands, hyps, arcs, cps, <int32_t *> text_buf.data,
                                             &count)
        cdef Cand *c
        cdef Hyp *hyp
        cdef Arc *arc
        cdef double final
        result = []
        try:
            for x in range(count):
                c = &(<Cand *> cands.data)[entries[x].cand]
                hyp, arc = &hyps[c.hyp], &arcs[c.arc]
                final = c.score + word_weight * self.word_logprob(arc.word, 0)
                if chars:
                    final = final + char_weight * self.char_logprob(
                        self.extend(hyp.history, cps + arc.cp, arc.length), self.eos)
                entries[x].score = final
            qsort(entries, count, sizeof(Entry), by_score_then_first)
            for x in range(count):
                if x >= k and entries[x].score < entries[k - 1].score:
                    break
                c = &(<Cand *> cands.data)[entries[x].cand]
                hyp, arc = &hyps[c.hyp], &arcs[c.arc]
                result.append((entries[x].score, text_of(hyp, arc, cps,
                                                         <int32_t *> text_buf.data)))
        finally:
            free(entries)
        return result

    # The reading search's two inner loops (decode/readings.py, which has them in numpy too,
    # for when this module is not built): in numpy they were four fifths of a costly input's
    # time, most of it the overhead of many small array calls.

    def reading_arcs(self, list digits, Py_ssize_t limit):
        """The places in the reading index of the lexicon words whose reading has, at each
        position k, one of digits[k] (syllable digits, ascending int64; 2 to key_syllables
        positions), in index order; if more than `limit`, only the `limit` most frequent
        (ties: in index order), as ReadingSearch._lexicon_arcs finds them. `digits` keeps
        its arrays alive for the call."""
        cdef Py_ssize_t length = len(digits), k, x, y, n
        if not 2 <= length <= self.key_syllables:
            raise ValueError(f"a span of {length} syllables; 2 to {self.key_syllables} fit")
        cdef Span span
        cdef const int64_t[::1] options
        cdef Buf found
        cdef Entry *best = NULL
        cdef const int64_t *places
        span.length = length
        for k in range(length):
            options = digits[k]
            for x in range(8):
                span.allowed[k][x] = 0
            for y in range(options.shape[0]):
                if not 0 < options[y] < self.reading_base:
                    raise ValueError(f"syllable digit {options[y]} is not 1..511")
                span.allowed[k][options[y] >> 6] |= 1ULL << (options[y] & 63)
            span.options[k] = &options[0] if options.shape[0] else NULL
            span.n_options[k] = options.shape[0]
        found.data = NULL
        try:
            buf_init(&found, sizeof(int64_t))
            self._narrow(&span, 0, 0, 0, self.reading_keys.size, &found)
            places = <const int64_t *> found.data
            n = found.size
            if n <= limit:
                return np.array([places[x] for x in range(n)], dtype=np.int64)
            best = <Entry *> malloc(n * sizeof(Entry))
            if best == NULL:
                raise MemoryError()
            for x in range(n):
                y = self.reading_words[places[x]]
                best[x].score = value(self.counts, y) if y >= 0 else -1
                best[x].cand = best[x].first = <int32_t> x
            k = best_first(best, n, limit)
            return np.sort(np.array([places[best[x].cand] for x in range(k)], dtype=np.int64))
        finally:
            free(found.data)
            free(best)

    cdef int _narrow(self, Span *span, Py_ssize_t k, int64_t prefix, int64_t lo, int64_t hi,
                     Buf *found) except -1:
        """Into `found`, in order, the places in reading_keys[lo:hi] (the keys of span.length
        digits that start with `prefix`'s k digits) whose digits k.. are allowed: by a binary
        search per allowed digit while the range is long, by reading each key once short."""
        cdef int64_t scale = 1, sub, a, b, key, r
        cdef Py_ssize_t x, j
        cdef int64_t d
        cdef bint ok
        if k == span.length:
            for r in range(lo, hi):
                (<int64_t *> buf_push(found, 1))[0] = r
            return 0
        for x in range(span.length - 1 - k):
            scale *= self.reading_base
        if hi - lo <= SCAN_FACTOR * span.n_options[k]:
            for r in range(lo, hi):
                key, ok = at(self.reading_keys, r), True
                for j in range(span.length - 1, k - 1, -1):
                    d = key % self.reading_base
                    key //= self.reading_base
                    if not (span.allowed[j][d >> 6] >> (d & 63)) & 1:
                        ok = False
                        break
                if ok and key == prefix:  # (a key of another length has other digits left)
                    (<int64_t *> buf_push(found, 1))[0] = r
            return 0
        for x in range(span.n_options[k]):
            sub = prefix * self.reading_base + span.options[k][x]
            a = lower(self.reading_keys, lo, hi, sub * scale)
            b = lower(self.reading_keys, a, hi, (sub + 1) * scale)
            if b > a:
                self._narrow(span, k + 1, sub, a, b, found)
        return 0

    def reading_extensions(self, list blocks, double word_bonus, Py_ssize_t keep):
        """Every extension's score, blocks of (paths, words) flat in block, path, word order:
        a path (score, previous word, reading) extended by a word scores (score + log P(word |
        previous word)) + word_bonus, as ReadingSearch._arrive scores it. Returns the scores
        and the places of the `keep` best, best first (ties: in flat order)."""
        cdef Py_ssize_t total = 0, flat = 0, a, x, n_keep
        cdef int64_t previous
        cdef double score
        cdef const int64_t[::1] words
        for here, block_words in blocks:
            total += len(here) * len(block_words)
        scores = np.empty(total, dtype=np.float64)
        cdef double[::1] out = scores
        cdef Memo *slot
        if self.reading_memo == NULL:
            self.reading_memo = <Memo *> malloc((1 << READING_MEMO_BITS) * sizeof(Memo))
            if self.reading_memo == NULL:
                raise MemoryError()
            for x in range(1 << READING_MEMO_BITS):
                self.reading_memo[x].history, self.reading_memo[x].next = -1, -2
        for here, block_words in blocks:
            words = block_words
            for state in here:
                score, previous = state[0], state[1]
                for a in range(words.shape[0]):
                    slot = &self.reading_memo[memo_slot(previous, words[a], READING_MEMO_BITS)]
                    if slot.history != previous or slot.next != words[a]:
                        slot.history, slot.next = previous, words[a]
                        slot.logprob = self._word_logprob(previous, words[a])
                    out[flat] = (score + slot.logprob) + word_bonus
                    flat += 1
        n_keep = min(keep, total)
        cdef Entry *best = <Entry *> malloc(max(total, 1) * sizeof(Entry))
        if best == NULL:
            raise MemoryError()
        try:
            for x in range(total):
                best[x].score, best[x].cand, best[x].first = out[x], <int32_t> x, <int32_t> x
            n_keep = best_first(best, total, n_keep) if n_keep > 0 else 0
            order = np.array([best[x].cand for x in range(n_keep)], dtype=np.int64)
        finally:
            free(best)
        return scores, order


cdef inline bint same_text(Hyp *h1, Arc *a1, Hyp *h2, Arc *a2, int32_t *cps,
                           int32_t *text) noexcept nogil:
    """Whether path h1 + arc a1 and path h2 + arc a2 spell the same text."""
    cdef Py_ssize_t length = h1.length + a1.length, j
    cdef int32_t x, y
    if length != h2.length + a2.length:
        return False
    for j in range(length):
        x = text[h1.text + j] if j < h1.length else cps[a1.cp + j - h1.length]
        y = text[h2.text + j] if j < h2.length else cps[a2.cp + j - h2.length]
        if x != y:
            return False
    return True


cdef str text_of(Hyp *hyp, Arc *arc, int32_t *cps, int32_t *text):
    cdef Py_ssize_t length = hyp.length + arc.length
    cdef int32_t *out = <int32_t *> malloc((length + 1) * sizeof(int32_t))
    if out == NULL:
        raise MemoryError()
    memcpy(out, text + hyp.text, hyp.length * sizeof(int32_t))
    memcpy(out + hyp.length, cps + arc.cp, arc.length * sizeof(int32_t))
    try:
        return PyUnicode_FromKindAndData(PyUnicode_4BYTE_KIND, out, length)
    finally:
        free(out)
