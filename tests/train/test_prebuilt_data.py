"""Training never builds data: it starts only on a complete build of its own data config."""

from __future__ import annotations

import json

import pytest

from cj2.config import compose
from cj2.data.job import config_hash
from cj2.data.packed.packing import write_tokenized
from cj2.data.packed.tokenize import TokenizedSample


def test_training_refuses_a_missing_or_foreign_build_and_takes_its_own(tmp_path):
    """Catches: training building the mixture itself (rank 0 tokenizing while the other ranks
    time out in a barrier), or training on a build of another data config."""
    from cj2.train.job import MissingDataError, prebuilt_data

    out = tmp_path / "data"
    cfg = compose(["+exp=demo", f"data.output_dir={out}"])
    with pytest.raises(MissingDataError, match=r"holds no complete build.*python launch/build_data.py"):
        prebuilt_data(cfg)
    assert not out.exists(), "training must not start a build"
    out.mkdir()
    (out / "build.json").write_text(json.dumps({"config_hash": "someone-else"}))
    with pytest.raises(MissingDataError, match="is for another data config"):
        prebuilt_data(cfg)
    (out / "build.json").write_text(json.dumps({"config_hash": config_hash(cfg)}))
    write_tokenized([TokenizedSample([1, 2, 3, 4], [0, 0, 1, 1])], out / "train", 8, pad_id=0)
    assert len(prebuilt_data(cfg)) == 1
