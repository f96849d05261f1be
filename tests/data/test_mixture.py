"""Selection by weight / sample count, dedup, shuffling and the split, on the Mixture alone."""

from __future__ import annotations

import json
from collections import Counter

from cj2.data.packed.mixture import Mixture


def fill(mixture: Mixture, component: str, count: int, orientations: int = 1) -> None:
    for i in range(count):
        digest = f"{component}-{i}".encode().hex().ljust(32, "0")[:32]
        samples = [json.dumps({"id": f"{component}:{i}:{o}"}) for o in range(orientations)]
        mixture.add(component, digest, samples, [f"spool,{i},10,-1,-1,-1,1.0,-"] * orientations)


def selected_ids(mixture: Mixture) -> list[tuple[str, str]]:
    return [(json.loads(sample)["id"], split) for split, _, sample in mixture.shuffled()]


def test_num_samples_is_exact_and_weight_multiplies(tmp_path):
    mixture = Mixture(tmp_path, seed=1, buckets=4)
    fill(mixture, "down", 10)
    fill(mixture, "up", 10)
    fill(mixture, "double", 6)
    fill(mixture, "all", 5)
    counts = mixture.select({"down": (1.0, 7, None), "up": (1.0, 25, None), "double": (2.0, None, None), "all": (1.0, None, None)}, 0.0)
    assert counts == {"down": 7, "up": 25, "double": 12, "all": 5}
    ids = Counter(sample_id.split(":")[0] + ":" + sample_id.split(":")[1] for sample_id, _ in selected_ids(mixture))
    assert sorted(n for key, n in ids.items() if key.startswith("up:")) == [2] * 5 + [3] * 5  # 25 = 2 x 10 + 5
    assert len([k for k in ids if k.startswith("down:")]) == 7 and all(n == 1 for k, n in ids.items() if k.startswith("down:"))


def test_a_share_is_that_fraction_of_the_selected_rows(tmp_path):
    """G-SFT at share 0.2 beside judge data of 60 selected rows (40 + 2 x 10): 15 rows, 20% of 75; two shares
    split what is left over the others. Catches: a share taken of its own rows (0.2 x 100 = 20), or of
    the rows before selection (0.2 / 0.8 x 50 = 12.5), so that a 939k-row G-SFT set outweighs the judge data."""
    mixture = Mixture(tmp_path / "one", seed=1, buckets=2)
    fill(mixture, "judge", 40)
    fill(mixture, "double", 10)
    fill(mixture, "gsft", 100)
    counts = mixture.select({"judge": (1.0, None, None), "double": (2.0, None, None), "gsft": (1.0, None, 0.2)}, 0.0)
    assert counts == {"judge": 40, "double": 20, "gsft": 15}
    mixture = Mixture(tmp_path / "two", seed=1, buckets=2)
    for name in ("judge", "gsft", "chat"):
        fill(mixture, name, 100)
    assert mixture.select({"judge": (1.0, 30, None), "gsft": (1.0, None, 0.25), "chat": (1.0, None, 0.25)}, 0.0) == {"judge": 30, "gsft": 15, "chat": 15}


def test_fractional_weight_keeps_a_seeded_subset(tmp_path):
    def run(seed):
        mixture = Mixture(tmp_path / str(seed), seed=seed, buckets=2)
        fill(mixture, "half", 400)
        mixture.select({"half": (0.5, None, None)}, 0.0)
        return {sample_id for sample_id, _ in selected_ids(mixture)}

    first, again, other = run(3), run(3), run(4)
    assert first == again and first != other
    assert 150 < len(first) < 250  # Binomial(400, 0.5): 200 +- 5 sigma


def test_shuffle_is_seeded_and_split_keeps_orientations_together(tmp_path):
    def run(seed, directory):
        mixture = Mixture(tmp_path / directory, seed=seed, buckets=3)
        fill(mixture, "c", 200, orientations=2)
        mixture.select({"c": (1.0, None, None)}, 0.25)
        return selected_ids(mixture)

    first = run(9, "a")
    assert first == run(9, "b")
    assert [i for i, _ in first] != [i for i, _ in run(10, "c")]
    assert [i for i, _ in first] != sorted(i for i, _ in first)  # really shuffled
    split_of = {}
    for sample_id, split in first:
        row = sample_id.rsplit(":", 1)[0]
        assert split_of.setdefault(row, split) == split
    valid_rows = sum(split == "valid" for split in split_of.values())
    assert 20 < valid_rows < 80  # Binomial(200, 0.25): 50 +- 5 sigma


def test_dedup_by_content(tmp_path):
    mixture = Mixture(tmp_path, seed=0)
    assert not mixture.is_duplicate("00" * 16)
    assert mixture.is_duplicate("00" * 16)
    assert not mixture.is_duplicate("01" * 16)
