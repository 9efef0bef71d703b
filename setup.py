"""The compiled parts: the word-lattice search (pinyin_hanzi/decode/_lattice.pyx) and the output
layer over candidates (pinyin_hanzi/runtime/_head.pyx); everything else is in pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

# -ffp-contract=off: no fused multiply-add, so scores round as the reference search's do.
lattice = Extension("pinyin_hanzi.decode._lattice", ["pinyin_hanzi/decode/_lattice.pyx"],
                    extra_compile_args=["-O2", "-ffp-contract=off"])
# The head's dot products may be summed in any order (so the compiler vectorises them): its
# scores are compared with numpy's, which sums in BLAS's own order, within float rounding.
head = Extension("pinyin_hanzi.runtime._head", ["pinyin_hanzi/runtime/_head.pyx"],
                 extra_compile_args=["-O3", "-fassociative-math", "-fno-signed-zeros",
                                     "-fno-trapping-math"])
setup(ext_modules=cythonize([lattice, head], compiler_directives={"language_level": 3}))
