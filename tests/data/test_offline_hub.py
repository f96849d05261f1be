"""A Hub recipe builds offline from the local Hub cache (HF_HUB_OFFLINE=1), at its pinned revision.

The cache is laid out as huggingface_hub writes it (``datasets--<owner>--<name>/snapshots/<commit>/``)
around the recipe's fixture in the dataset's published schema; no network is used.
"""

from __future__ import annotations

import json
import shutil

import pytest
from omegaconf import OmegaConf

from cj2.config import compose
from cj2.data.job import build_mixture
from cj2.data.records import RejectedRow
from cj2.data.sources.loaders import load_examples
from cj2.data.sources.raw import SourceError
from tests.data.helpers import data_cfg
from tests.data.test_public_recipes import FIXTURES as PUBLIC_FIXTURES
from tests.data.test_public_recipes import fixture, rows_in

NAME = "ultrafeedback_critique"  # openbmb/UltraFeedback, pinned to a commit in conf/data/cj2_public.yaml


@pytest.fixture
def offline_cache(tmp_path, monkeypatch):
    component = compose(["data=cj2_public"]).data.components[NAME]
    owner, name = component.hub_name.split("/")
    snapshot = tmp_path / "hub" / f"datasets--{owner}--{name}" / "snapshots" / component.hub_revision
    snapshot.mkdir(parents=True)
    shutil.copy(fixture(NAME), snapshot / "train.jsonl")
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    return component


def test_a_hub_recipe_builds_offline_from_the_hub_cache(offline_cache, tmp_path, qwen_tokenizer):
    """Catches: streaming the Hub id while offline (datasets then needs the Hub: ConnectionError, no build),
    and offline rows that differ from the same file read locally."""
    cfg = data_cfg(tmp_path / "out", {NAME: OmegaConf.to_container(offline_cache)}, validation_fraction=0.0, max_reject_fraction=1.0, seq_length=4096)
    stats = json.loads((build_mixture(cfg, show_progress=False) / "stats.json").read_text())["components"][NAME]
    assert stats["rows_in"] == rows_in(fixture(NAME)) and stats["kept"] > 0
    local = OmegaConf.to_container(offline_cache) | {"path": str(fixture(NAME))}
    def rows(component):
        return [(e.reason, e.row) if isinstance(e, RejectedRow) else (e.question, e.responses, e.label) for e in load_examples(component, NAME)]
    assert rows(offline_cache) == rows(local)


def test_a_revision_missing_from_the_cache_is_a_clear_error(offline_cache):
    """Catches: an offline read falling back to whatever snapshot is cached (rows of another revision)."""
    other = OmegaConf.to_container(offline_cache) | {"hub_revision": "0" * 40}
    with pytest.raises(SourceError, match=r"openbmb/UltraFeedback@0{40} is not in the Hub cache .*huggingface-cli download --repo-type dataset openbmb/UltraFeedback --revision 0{40}"):
        list(load_examples(other, NAME))


def test_hub_data_dir_selects_the_preference_file_and_where_its_training_rows(tmp_path, monkeypatch):
    """HelpSteer2 keeps its pairwise preferences in preference/ beside single-response files at the
    top of the repo. Catches: data_dir not passed to datasets (the other files' rows are read too),
    and the where filter dropped (a validation row kept)."""
    component = OmegaConf.to_container(compose(["data=reward_public"]).data.components["helpsteer2"])
    repo = tmp_path / "hub" / "datasets--nvidia--HelpSteer2"
    snapshot = repo / "snapshots" / ("c" * 40)
    (snapshot / "preference").mkdir(parents=True)
    shutil.copy(PUBLIC_FIXTURES.parent / "reward" / "helpsteer2.jsonl", snapshot / "preference" / "preference.jsonl")
    (snapshot / "train.jsonl").write_text(json.dumps({"prompt": "single", "response": "scored", "helpfulness": 3}) + "\n")
    (repo / "refs").mkdir()
    (repo / "refs" / "main").write_text("c" * 40)  # hub_revision null: the cached main
    monkeypatch.setenv("HF_HUB_CACHE", str(tmp_path / "hub"))
    monkeypatch.setenv("HF_HUB_OFFLINE", "1")
    out = list(load_examples(component, "helpsteer2"))
    assert [(r.meta["row"], r.label) for r in out if not isinstance(r, RejectedRow)] == [(1, "A"), (2, "B"), (4, "tie"), (6, "A")]
    assert {r.row: r.reason for r in out if isinstance(r, RejectedRow)} == {3: "not_selected", 5: "empty_response", 7: "bad_field"}
    assert out[0].meta["file"] == "hub:nvidia/HelpSteer2:preference@main/train"
