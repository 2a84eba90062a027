"""Hypothesis settings profiles for the fuzz tests, loaded for the whole run by tests/conftest.py.

- `ci` (the default): random exploration with a fixed budget (60 examples a test), so every run tries
  inputs no earlier run tried. The run's seed is chosen once, said in the header and the summary line, and
  used by every worker: `BOTRAM_HYPOTHESIS_SEED=<seed> make test` (or `--hypothesis-seed=<seed>`) replays a
  red run exactly; a failure also prints a `@reproduce_failure` blob (`print_blob=True`).
- `thorough`: `make test-thorough` explores much further (1000 examples a test); same seed rules.
"""
from __future__ import annotations

import os
import random

from hypothesis import HealthCheck, settings

_COMMON = dict(deadline=None, database=None, print_blob=True, suppress_health_check=list(HealthCheck),
               derandomize=False)

settings.register_profile("ci", max_examples=60, **_COMMON)
settings.register_profile("thorough", max_examples=1000, **_COMMON)

PROFILE = os.environ.get("HYPOTHESIS_PROFILE", "ci")
SEED_VARIABLE = "BOTRAM_HYPOTHESIS_SEED"


def activate(config) -> int:
    """Load the profile (so `@settings(...)` written in a test inherits it) and fix this run's seed.

    The seed is chosen in the controlling process and handed to xdist's workers through the environment they
    inherit, so one number replays the whole run."""
    settings.load_profile(PROFILE)
    seed = config.getoption("hypothesis_seed", None)
    if seed is None:
        seed = os.environ.setdefault(SEED_VARIABLE, str(random.randrange(2**32)))
        from hypothesis import core

        core.global_force_seed = int(seed)
    return int(seed)


def describe(seed: int) -> str:
    return (f"hypothesis: profile {PROFILE}, {settings.get_profile(PROFILE).max_examples} examples a test, "
            f"seed {seed} (replay: {SEED_VARIABLE}={seed})")


def fuzz_settings(scale: float = 1.0) -> settings:
    """The active profile, its example count scaled for a test whose single example is expensive."""
    base = settings.get_profile(PROFILE)
    return settings(base, max_examples=max(1, int(base.max_examples * scale)))
