"""The whole build in this process with scripted models (tests/benchmark/scripted_models.py):
labels against the scripted world, the tie rules end to end, the win table, the report, resuming."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cj2.benchmark.job import build
from cj2.benchmark.queries import BenchInputError
from cj2.eval.benchmarks.judgerbenchv2.records import load_benchmark
from cj2.sample.model_entries import ModelEntryError, build_engine_for
from tests.benchmark.conftest import compose_bench, read_outputs, scripted_overrides
from tests.benchmark.scripted_models import quality_of


class CountingFactory:
    """The real engine factory (module:Class for the scripted models), counting every engine built and call made."""

    def __init__(self):
        self.engines = []

    def __call__(self, spec):
        engine = build_engine_for(spec)
        self.engines.append(engine)
        return engine

    @property
    def calls(self) -> int:
        return sum(e.calls for e in self.engines)


def expected_winner(record) -> str | None:
    """The scripted world's truth: the better answer wins; a cooking pair (fair+biased+flip split 3:3) ties."""
    if "recipe" in record["prompt"]:
        return None
    base = record["base_model_response"]["model_name"]
    model = record["models_response"]["model_name"]
    return model if quality_of(model, record["prompt"]) > quality_of(base, record["prompt"]) else base


def test_drop_rule_labels_files_and_win_table(tmp_path, pool):
    """Under tie_rule=drop every kept record's r1_gt is the better answer, every cooking pair is gone, and
    the win table counts the records the policy wins. Mutants caught: the win table counting base wins;
    records of a dropped pair kept (as base wins); records grouped by query instead of by policy (the published layout);
    an all-dropped scenario kept as an empty file (it would score 0 and pull the mean down)."""
    out = tmp_path / "bench"
    factory = CountingFactory()
    report = build(compose_bench(scripted_overrides(pool, out, "bench.tie_rule=drop")), factory)
    got = read_outputs(out)
    # the cooking scenario (Creation): every pair tied and was dropped, so the scenario is left out
    assert got["manifest"]["scenarios"] == ["Reason_and_analysis", "Code_and_AI"]
    assert not (out / "Creation.json").exists() and "Creation" not in got["ground_truth"]
    assert any(n.startswith("Creation: every pair was dropped") for n in report["notes"])
    assert (got["manifest"]["base_model"], got["manifest"]["policies"]) == ("base", ["good", "weak"])
    for scenario in ("Reason_and_analysis", "Code_and_AI"):
        records = got["scenarios"][scenario]
        assert len(records) == 12  # 6 queries x 2 policies
        assert [r["models_response"]["model_name"] for r in records] == ["good"] * 6 + ["weak"] * 6
        assert all(r["gold"]["r1_gt"] == expected_winner(r) for r in records)
        assert Counter(r["gold"]["lan"] for r in records) == {"en": 8, "cn": 4}
        wins = Counter(r["gold"]["r1_gt"] for r in records if r["gold"]["r1_gt"] != "base")
        assert got["ground_truth"][scenario] == {"good": wins["good"], "weak": 0}
        assert wins["good"] == 4  # 6 queries, 2 of them hard (good answers worse there)
    # The records load in cj2's evaluator under the built scenario list.
    loaded = load_benchmark(out, got["manifest"]["scenarios"])
    assert {s: len(r) for s, r in loaded.items()} == {"Reason_and_analysis": 12, "Code_and_AI": 12}
    # Report: rows, calls (3 classifier + 24 difficulty + 3 x 18 responses + 3 judges x 36 pairs x 2 orders).
    assert report["rows"] == {"in": 31, "kept": 24, "quarantined": 7}
    assert factory.calls == report["calls_made_this_run"] == 3 + 24 + 54 + 216
    creation = report["scenarios"]["Creation"]
    assert (creation["pairs"], creation["kept"], creation["dropped"], creation["by_arbiter"]) == (12, 0, 12, 0)
    # each policy loses its 6 cooking pairs from its denominator (#27: the report names it per model)
    assert creation["dropped_by_model"] == report["dropped_by_model"] == {"good": 6, "weak": 6}
    assert "Pairs dropped per policy (each leaves that policy's denominator): `good` 6, `weak` 6." in (out / "report" / "report.md").read_text()
    assert creation["difficulty"] == {"easy": 2, "medium": 2, "hard": 2}
    assert report["judge_votes"]["biased"]["position_consistency"] == 0.0
    assert report["judge_votes"]["fair"] == {"votes": 72, "unparsed": 0, "position_consistency": 1.0}
    assert len((out / "quarantine.jsonl").read_text().splitlines()) == 7
    assert (out / "report" / "report.md").read_text().startswith("# Benchmark build")


def test_arbiter_rule_decides_the_ties(tmp_path, pool):
    """Under tie_rule=arbiter the fair arbiter decides each cooking pair (the better answer), and only tied
    pairs reach it (12 Creation pairs x 2 orders = 24 arbiter calls). Mutant caught: the arbiter asked about
    every pair (36 pairs, 72 calls)."""
    out = tmp_path / "bench"
    report = build(compose_bench(scripted_overrides(pool, out, "bench.tie_rule=arbiter", "bench.arbiter=arbiter-fair", "bench.plots=true")), CountingFactory())
    got = read_outputs(out)
    creation = got["scenarios"]["Creation"]
    assert len(creation) == 12
    for r in creation:
        base, model = r["base_model_response"]["model_name"], r["models_response"]["model_name"]
        assert r["gold"]["r1_gt"] == (model if quality_of(model, r["prompt"]) > quality_of(base, r["prompt"]) else base)
    assert report["calls"]["arbiter arbiter-fair"]["calls"] == 24
    assert report["scenarios"]["Creation"]["by_arbiter"] == 12
    for plot in ("scenario_sizes", "difficulty_mix", "judge_agreement"):
        assert (out / "report" / f"{plot}.png").stat().st_size > 0


def test_by_default_ties_go_to_an_arbiter_the_first_judge_without_one(tmp_path, pool):
    """The default tie rule is arbiter (#27: dropping moves each policy's denominator); with no arbiter
    named the first judge (fair) decides with the votes it already cast, asked nothing again: the 12
    cooking pairs are kept, none dropped. Catches: drop left the default, an arbiter rule that fails
    without bench.arbiter, and a judge-arbiter asked its own prompts a second time (24 repeated calls)."""
    report = build(compose_bench(scripted_overrides(pool, tmp_path / "bench")), CountingFactory())
    assert report["tie_rule"] == "arbiter" and report["arbiter"] == "fair"
    assert "arbiter fair" not in report["calls"]
    assert (report["scenarios"]["Creation"]["by_arbiter"], report["dropped_by_model"]) == (12, {"good": 0, "weak": 0})


def test_a_finished_build_makes_no_call_and_writes_the_same(tmp_path, pool):
    """Rerunning a finished build builds no engine and rewrites identical outputs.
    Mutant caught: a stage ignoring its finished shard (every call made again)."""
    out = tmp_path / "bench"
    cfg = compose_bench(scripted_overrides(pool, out))
    build(cfg, CountingFactory())
    first = read_outputs(out)
    again = CountingFactory()
    report = build(cfg, again)
    assert again.engines == [] and report["calls_made_this_run"] == 0
    assert read_outputs(out) == first


def test_changed_settings_refuse_the_stored_calls(tmp_path, pool):
    """A rerun with another policy list must not mix in the stored answers of the first.
    Mutant caught: no fingerprint check (stale responses reused for a different model)."""
    out = tmp_path / "bench"
    build(compose_bench(scripted_overrides(pool, out)), CountingFactory())
    with pytest.raises(BenchInputError, match="other settings"):
        build(compose_bench(scripted_overrides(pool, out, "bench.response_temperature=0.1")), CountingFactory())


@pytest.mark.parametrize(
    "extra, message",
    [
        (["bench.policies=[]"], "bench.policies"),
        (["bench.tie_rule=coin"], "bench.tie_rule"),
        (["bench.policies=[good,good]"], "model names must differ"),
        (["bench.queries_per_scenario=600"], "1000"),
        (["bench.policies=[{name: g, modle: good}]"], "unknown key"),
    ],
)
def test_bad_settings_are_named(tmp_path, pool, extra, message):
    """Mutant caught: Q x policies > 1000 accepted (the position list would fail at evaluation, after every call)."""
    with pytest.raises((BenchInputError, ModelEntryError), match=message):  # a model entry's own error names the entry too
        build(compose_bench(scripted_overrides(pool, tmp_path / "bench", *extra)), CountingFactory())


def test_unparsed_votes_are_reported(tmp_path, pool):
    """A judge whose verdicts never parse adds no vote: with judges [fair, mute] every pair goes to the fair
    judge's side, and the mute judge shows every vote unparsed. Mutant caught: unparsed votes counted for A."""
    out = tmp_path / "bench"
    report = build(compose_bench(scripted_overrides(pool, out, "bench.judges=[fair,mute]")), CountingFactory())
    assert report["judge_votes"]["mute"]["unparsed"] == report["judge_votes"]["mute"]["votes"] == 72
    got = read_outputs(out)
    creation = got["scenarios"]["Creation"]
    assert len(creation) == 12 and all(r["gold"]["r1_gt"] == ("good" if quality_of("good", r["prompt"]) > 5 and r["models_response"]["model_name"] == "good" else "base") for r in creation)
    assert json.loads((out / "report" / "report.json").read_text())["scenarios"]["Creation"]["agreement"]["kappa_pairs"] == 0
