"""Shared test setup: hypothesis profiles, the namespace lab fixture, requirement checks."""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator

import pytest
from hypothesis import HealthCheck, settings

from hatui.lab import Lab, unique_prefix

# CI runs a bounded, derandomized number of examples; `HYPOTHESIS_PROFILE=long` for campaigns.
settings.register_profile(
    "ci", derandomize=True, deadline=None, suppress_health_check=[HealthCheck.too_slow]
)
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "long", max_examples=20_000, deadline=None, suppress_health_check=list(HealthCheck)
)
settings.load_profile(os.environ.get("HYPOTHESIS_PROFILE", "ci" if os.environ.get("CI") else "dev"))

IN_CI = bool(os.environ.get("CI"))


def require(condition: bool, why: str) -> None:
    """Skip locally when a requirement is missing; in CI a missing requirement is a failure."""
    if condition:
        return
    if IN_CI:
        pytest.fail(f"CI must provide this: {why}")
    pytest.skip(why)


def require_root() -> None:
    require(os.geteuid() == 0 and shutil.which("ip") is not None, "needs root and iproute2")


def require_keepalived() -> None:
    require_root()
    require(shutil.which("keepalived") is not None, "needs keepalived")


_counter = 0


@pytest.fixture
def lab(request: pytest.FixtureRequest) -> Iterator[Lab]:
    """A fresh namespace lab with a unique prefix, always torn down."""
    global _counter
    require_root()
    _counter += 1
    with Lab(unique_prefix(f"h{_counter}-")) as the_lab:
        yield the_lab
