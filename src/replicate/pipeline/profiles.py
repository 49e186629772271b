"""The two execution profiles: ``quick`` (CI, minutes for the whole book) and ``paper``.

Quick mode is smaller, never different: a chapter asks :func:`pick` for a size and runs
the same code path in both profiles.
"""
from __future__ import annotations

from typing import TypeVar

PROFILES = ("quick", "paper")
T = TypeVar("T")


def check_profile(profile: str) -> str:
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {PROFILES}, got {profile!r}")
    return profile


def pick(profile: str, *, quick: T, paper: T) -> T:
    """The setting for ``profile``: ``pick(profile, quick=64, paper=1000)``."""
    return quick if check_profile(profile) == "quick" else paper


def default(value: T | None, profile: str, *, quick: T, paper: T) -> T:
    """``value`` when the user set it (papermill ``-p``), else the profile's setting."""
    return pick(profile, quick=quick, paper=paper) if value is None else value
