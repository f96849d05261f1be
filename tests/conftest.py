"""Shared fixtures: paths, the real tokenizer, the shared data folder, torchrun launching."""

from __future__ import annotations

import os
from pathlib import Path

import pytest

REPO = Path(__file__).resolve().parents[1]
SHARED_DATA = Path(os.environ.get("CJ2_SHARED_DATA", REPO.parent / "shared" / "data"))


@pytest.fixture(scope="session")
def repo_root() -> Path:
    return REPO


@pytest.fixture(scope="session")
def shared_data() -> Path:
    """The real benchmark files (../shared/data); tests that need them skip when absent."""
    if not SHARED_DATA.is_dir():
        pytest.skip(f"real data folder not found at {SHARED_DATA} (set CJ2_SHARED_DATA)")
    return SHARED_DATA


@pytest.fixture(scope="session")
def qwen_tokenizer():
    from cj2.data.packed.tokenizer import TokenizerNotFound, load_tokenizer

    try:
        return load_tokenizer("qwen2.5")
    except TokenizerNotFound as e:
        pytest.skip(str(e))
