"""Seeded choices that depend only on what is chosen, never on the order or the process choosing."""

from __future__ import annotations

import hashlib


def seeded_unit(*parts: object) -> float:
    """A uniform number in [0, 1) that depends only on ``parts`` (stable across runs and processes)."""
    digest = hashlib.blake2b("\x1f".join(map(str, parts)).encode(), digest_size=8).digest()
    return int.from_bytes(digest, "big") / 2**64
