# cython: boundscheck=False, wraparound=False, cdivision=True, initializedcheck=False
"""The output layer over each position's candidates (export.OutputHead), compiled.

An input method runs it on every keystroke. In numpy it took ~6 calls a position (a gather of
int8 rows, a product, scaling, then a log-softmax over runs): ~0.35 ms a clause, a seventh of
the whole conversion. Here it is one call, and it allocates nothing but its answer.
"""

import numpy as np

from libc.math cimport expf, logf, INFINITY


def candidate_log_probs(const signed char[:, ::1] weight, const float[::1] scale,
                        const float[::1] bias, const float[:, ::1] hidden,
                        const long long[::1] ids, const long long[::1] starts):
    """Position t's candidates are ids[starts[t]:starts[t + 1]] (hanzi rows of `weight`);
    each scores scale[c] * (weight[c] . hidden[t]) + bias[c], and the answer is the
    log-softmax of those scores within each position, concatenated (float32)."""
    cdef Py_ssize_t n = ids.shape[0], T = starts.shape[0] - 1, d = weight.shape[1]
    cdef Py_ssize_t rows = weight.shape[0], t, j, i, a, b
    if T < 0 or starts[0] != 0 or starts[T] != n:
        raise ValueError("candidate starts must run from 0 to the number of candidates")
    if hidden.shape[1] != d or hidden.shape[0] < T:
        raise ValueError(f"hidden states of shape ({hidden.shape[0]}, {hidden.shape[1]}) "
                         f"for {T} positions of width {d}")
    if scale.shape[0] != rows or bias.shape[0] != rows:
        raise ValueError("the head's scale and bias need one value per row")
    for t in range(T):
        if starts[t + 1] < starts[t]:
            raise ValueError("candidate starts must not decrease")
    for j in range(n):
        if ids[j] < 0 or ids[j] >= rows:
            raise ValueError(f"candidate id {ids[j]} is not a row of the head ({rows})")
    out = np.empty(n, dtype=np.float32)
    cdef float[::1] o = out
    cdef const signed char *w
    cdef const float *h
    cdef float acc, top, total, x
    with nogil:
        for t in range(T):
            a, b = starts[t], starts[t + 1]
            if a == b:
                continue
            h = &hidden[t, 0]
            top = -INFINITY
            for j in range(a, b):
                w = &weight[ids[j], 0]
                acc = 0
                for i in range(d):
                    acc = acc + w[i] * h[i]
                x = acc * scale[ids[j]] + bias[ids[j]]
                o[j] = x
                if x > top:
                    top = x
            total = 0
            for j in range(a, b):
                total = total + expf(o[j] - top)
            total = logf(total)
            for j in range(a, b):
                o[j] = o[j] - top - total
    return out
