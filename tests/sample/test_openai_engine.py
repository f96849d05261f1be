"""The openai engine against a real ``transformers serve`` on 127.0.0.1 (which ignores ``n``)."""

from __future__ import annotations

import json

import pytest

from cj2.sample.engines import build_engine
from cj2.sample.engines.openai_server import SamplingRequestFailed
from tests.dist import free_port

PROMPT = [{"role": "user", "content": "Which answer is better, A or B?"}]
SAMPLE = dict(temperature=1.0, top_p=0.95, max_tokens=5)


def test_tops_up_a_server_that_ignores_n_to_exactly_n_candidates(transformers_server):
    engine = build_engine("openai", base_url=transformers_server["base_url"], model=transformers_server["model"], concurrency=4)
    out = engine.generate([PROMPT, PROMPT], n=3, seed=[10, 20], **SAMPLE)
    assert [len(c) for c in out] == [3, 3]
    assert engine.choices_per_request == 1  # it learned the server's one choice per request ...
    assert engine.usage.requests == 6  # ... and asked once per candidate: 1 + 2 top-ups per prompt
    assert engine.usage.completion_tokens > 0
    assert engine.retries == 0
    engine.close()


def test_candidate_j_is_sampled_with_seed_plus_j(transformers_server):
    # One request at a time: the server seeds torch's global generator, so overlapping requests are not reproducible.
    engine = build_engine("openai", base_url=transformers_server["base_url"], model=transformers_server["model"], concurrency=1)
    fanned = engine.generate([PROMPT], n=3, seed=[100], **SAMPLE)[0]
    singles = [engine.generate([PROMPT], n=1, seed=[100 + j], **SAMPLE)[0][0] for j in range(3)]
    assert fanned == singles
    assert len(set(fanned)) == 3  # distinct seeds, distinct samples


def test_the_served_model_is_found_when_not_named(transformers_server):
    engine = build_engine("openai", base_url=transformers_server["base_url"])
    assert engine.model
    assert len(engine.generate([PROMPT], n=1, seed=0, **SAMPLE)[0]) == 1


def test_timeouts_are_retried_then_reported(transformers_server):
    engine = build_engine("openai", base_url=transformers_server["base_url"], model=transformers_server["model"], request_timeout_s=0.001, max_retries=2, backoff_s=0.01)
    with pytest.raises(SamplingRequestFailed, match="after 3 attempts"):
        engine.generate([PROMPT], n=1, seed=0, **SAMPLE)
    assert engine.retries == 2


def test_a_refused_connection_is_retried_with_backoff_then_reported():
    engine = build_engine("openai", base_url=f"http://127.0.0.1:{free_port()}/v1", model="m", max_retries=3, backoff_s=0.01)
    with pytest.raises(SamplingRequestFailed, match="after 4 attempts"):
        engine.generate([PROMPT], n=2, seed=0, **SAMPLE)
    assert engine.retries == 3


def test_sampling_job_through_a_server_address_file(transformers_server, sample_input, tmp_path):
    """The SLURM recipe's path: the server job (slurm/teacher_server.sbatch) wrote its URL to a file."""
    from cj2.config import compose, finalize
    from cj2.sample.job import run

    overrides = ["sample.engine=openai", f"sample.base_url_file={transformers_server['address_file']}", "sample.server_wait_s=60", f"sample.model={transformers_server['model']}", "sample.n=2", "sample.max_tokens=4", "sample.num_shards=2", "sample.concurrency=4", "sample.progress=false", f"sample.input={sample_input}", f"sample.output_dir={tmp_path / 'out'}", f"run_dir={tmp_path / 'run'}"]
    summary = run(finalize(compose(overrides)))
    assert summary["groups"]["all"]["candidates"] == 2 * summary["groups"]["all"]["items"] > 0
    records = [json.loads(line) for p in (tmp_path / "out").glob("shards/*/items.jsonl") for line in p.read_text().splitlines()]
    assert all(len(r["candidates"]) == 2 and r["sampling"]["engine"] == "openai" for r in records)


def test_waiting_for_a_server_that_never_comes_is_bounded(tmp_path):
    from cj2.sample.server_address import ServerNotReady, resolve_base_url

    with pytest.raises(ServerNotReady, match="does not exist"):
        resolve_base_url(str(tmp_path / "never-written"), wait_s=0.2, poll_s=0.05)
