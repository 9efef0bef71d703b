"""Shared pytest setup: the hypothesis profile every property test runs under.

"ci" is derandomized so a failure reproduces on any machine, has no deadline because the 2-core
CI box may be busy training, and caps examples to keep the suite to seconds. Pick another
registered profile with HYPOTHESIS_PROFILE=<name>.
"""

import os

from hypothesis import settings

settings.register_profile("ci", derandomize=True, deadline=None, max_examples=200)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci"))
