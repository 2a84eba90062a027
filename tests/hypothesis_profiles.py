"""Hypothesis settings profiles for the fuzz tests (imported by them; tests/conftest.py is left alone).

- `ci` (the default): `derandomize=True`, so a run is reproducible and a red build stays red on a rerun,
  with more examples than the suite used to afford.
- `thorough`: `HYPOTHESIS_PROFILE=thorough .venv/bin/python -m pytest tests/test_form_fuzz.py` explores
  randomly, with many more examples; a failure prints the seed and a `@reproduce_failure` blob
  (`print_blob=True`) so it can be replayed exactly.
"""
from __future__ import annotations

import os

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck))

settings.register_profile("ci", max_examples=60, derandomize=True, **_COMMON)
settings.register_profile("thorough", max_examples=1000, derandomize=False, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")


def fuzz_settings(scale: float = 1.0) -> settings:
    """The active profile, its example count scaled for a test whose single example is expensive."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=max(1, int(base.max_examples * scale)))
