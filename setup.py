"""The compiled word-lattice search (pinyin_hanzi/_lattice.pyx); everything else is in
pyproject.toml."""

from Cython.Build import cythonize
from setuptools import Extension, setup

# -ffp-contract=off: no fused multiply-add, so scores round as the reference search's do.
lattice = Extension("pinyin_hanzi._lattice", ["pinyin_hanzi/_lattice.pyx"],
                    extra_compile_args=["-O2", "-ffp-contract=off"])
setup(ext_modules=cythonize([lattice], compiler_directives={"language_level": 3}))
