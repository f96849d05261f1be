"""The query pool (quarantine), clustering, the difficulty/scenario parsers and stratified selection."""

from __future__ import annotations

import json
from collections import Counter

import pytest

from cj2.benchmark.queries import BenchInputError, Query, detect_language, read_queries
from cj2.benchmark.scenarios import cluster_queries, mapped_names, parse_difficulty, parse_scenario
from cj2.benchmark.select import LabelledQuery, select_per_scenario
from tests.benchmark.pool import good_rows, write_pool


def test_bad_rows_are_quarantined_with_reasons(tmp_path):
    """rows in = kept + quarantined, each reject with its row and reason.
    Mutant caught: a duplicate query kept (it would be judged twice and weigh double)."""
    pool = read_queries(write_pool(tmp_path / "pool.jsonl"))
    assert (pool.rows_in, len(pool.queries), len(pool.quarantined)) == (31, 24, 7)
    reasons = {q["row"]: q["reason"] for q in pool.quarantined}
    assert reasons[24].startswith("expected an object")
    assert reasons[25] == "field 'query' missing"
    assert reasons[26] == "field 'query' is empty"
    assert reasons[27].startswith("field 'query': expected str")
    assert reasons[28].startswith("field 'lan'")
    assert reasons[29].startswith("not valid JSON")
    assert reasons[30] == "duplicate of row 0"
    assert Counter(q.lan for q in pool.queries) == {"en": 18, "cn": 6}


def test_unusable_files_name_the_file(tmp_path):
    """Mutant caught: a JSON file that is not a list read as an empty pool (an empty benchmark, no error)."""
    with pytest.raises(BenchInputError, match="not found"):
        read_queries(tmp_path / "absent.jsonl")
    bad = tmp_path / "pool.json"
    bad.write_text(json.dumps({"query": "x"}))
    with pytest.raises(BenchInputError, match=r"pool\.json: expected a JSON list"):
        read_queries(bad)
    empty = tmp_path / "empty.jsonl"
    empty.write_text('{"q": 1}\n')
    with pytest.raises(BenchInputError, match="no usable query"):
        read_queries(empty)


def test_language_detection():
    """Mutant caught: any CJK character at all making a query Chinese (an English query quoting one word)."""
    assert detect_language("请写一个函数") == "cn"
    assert detect_language("Translate 猫 into English please, thanks a lot") == "en"


def test_clusters_separate_the_topics():
    """Three topics with disjoint vocabulary -> three pure clusters, the same on a second run (seeded).
    Mutant caught: k-means without random_state (cluster indices change between a build and its resume)."""
    rows = good_rows()[:18]  # the English ones: 6 arithmetic, 6 cooking, 6 code
    queries = [Query(i, r["query"], "en") for i, r in enumerate(rows)]
    first = cluster_queries(queries, 3, seed=7)
    assert len({tuple(first.labels[i : i + 6]) for i in (0, 6, 12)}) == 3
    assert all(len(set(first.labels[i : i + 6])) == 1 for i in (0, 6, 12))
    assert cluster_queries(queries, 3, seed=7) == first
    assert cluster_queries(queries[:2], 5, seed=7).labels in ([0, 1], [1, 0])  # k capped at the pool


def test_parsers():
    """Mutant caught: the first level named taken instead of the tagged one ("not easy ... Difficulty: hard")."""
    assert parse_difficulty("This is not easy at all.\nDifficulty: hard") == "hard"
    assert parse_difficulty("**Difficulty:** Medium") == "medium"
    assert parse_difficulty("I think it is hard") == "hard"
    assert parse_difficulty("easy or hard, who knows") == "unknown"
    choices = ["Knowledge", "Code_and_AI", "IF"]
    assert parse_scenario("Scenario: code_and_ai", choices) == "Code_and_AI"
    assert parse_scenario("These are Knowledge questions", choices) == "Knowledge"
    assert parse_scenario("Knowledge or IF", choices) is None
    assert mapped_names(3, ["Knowledge", "IF", "Knowledge"]) == {0: "Knowledge", 1: "IF", 2: "Knowledge"}
    assert mapped_names(2, []) == {0: "cluster_0", 1: "cluster_1"}
    with pytest.raises(BenchInputError, match="2 name"):
        mapped_names(3, ["Knowledge", "IF"])
    with pytest.raises(BenchInputError, match="cannot be a file name"):
        mapped_names(2, ["ground_truth", "IF"])


def _item(row, difficulty, lan, scenario="S"):
    return LabelledQuery(Query(row, f"q{row}", lan), scenario, difficulty)


def test_selection_balances_difficulty_then_language():
    """Pool of scenario S: easy 6 (en 5, cn 1), medium 2 (en), hard 1 (cn). Q = 6:
    levels take turns -> hard gives its 1, medium its 2, easy the remaining 3, of which the one cn
    query and 2 en (languages alternate within a level). Mutant caught: a plain first-Q cut (all easy)."""
    pool = [_item(r, "easy", "en") for r in range(5)] + [_item(5, "easy", "cn"), _item(6, "medium", "en"), _item(7, "medium", "en"), _item(8, "hard", "cn")]
    chosen = select_per_scenario(pool, 6, seed=1)["S"]
    assert len(chosen) == 6
    assert Counter(it.difficulty for it in chosen) == {"easy": 3, "medium": 2, "hard": 1}
    assert Counter((it.difficulty, it.query.lan) for it in chosen) == {("easy", "en"): 2, ("easy", "cn"): 1, ("medium", "en"): 2, ("hard", "cn"): 1}
    assert [it.query.row for it in chosen] == sorted(it.query.row for it in chosen)


def test_selection_is_seeded_and_takes_small_scenarios_whole():
    """Same seed, same pick; another seed, another pick among equals; a scenario with < Q takes all.
    Mutant caught: an unseeded shuffle (a resumed build would select other queries)."""
    pool = [_item(r, "easy", "en") for r in range(20)] + [_item(20, "hard", "en", "T")]
    picks = {s: tuple(it.query.row for it in select_per_scenario(pool, 5, seed=s)["S"]) for s in range(6)}
    assert picks[0] == tuple(it.query.row for it in select_per_scenario(pool, 5, seed=0)["S"])
    assert len(set(picks.values())) > 1
    assert [it.query.row for it in select_per_scenario(pool, 5, seed=0)["T"]] == [20]
