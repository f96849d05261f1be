"""MT-Bench's single-answer rating is a 1-10 scale: every point of it is a label sampling can check."""

from __future__ import annotations

from cj2.sample.acceptance import checkable_labels, judge_candidates
from cj2.verdicts import parse


def test_every_rating_from_1_to_10_is_a_checkable_label_and_parses_back():
    """Catches (mutation survivor): the scale starting at 2 (``range(2, 11)``): rows rated 1 would
    be uncheckable in rejection sampling, so every "1" judgment would be thrown away unseen."""
    assert checkable_labels("mtbench_single") == tuple(str(i) for i in range(1, 11))
    assert [parse("mtbench_single", f"Rating: [[{i}]]").label for i in (1, 10)] == ["1", "10"]
    assert parse("mtbench_single", "Rating: [[0]]").label is None and parse("mtbench_single", "Rating: [[11]]").label is None
    [candidate] = judge_candidates(["The answer is fine. Rating: [[1]]"], "1", "mtbench_single", accept_cap=0)
    assert candidate.get("rejected") != "unparsed"


def test_what_is_not_text_never_parses_and_the_last_bad_slot_is_reported():
    """Catches (mutation survivors): a non-text output (None from a failed request) reported as a
    parsed verdict (``ok=True``), and, when every slot is inadmissible, the reason naming the first
    slot instead of the last one (the one a "unique" format decides by)."""
    assert parse("arena_hard", None).ok is False
    verdict = parse("arena_hard", "first [[A>C]] then [[Q>B]]")
    assert verdict.label is None and "Q>B" in verdict.reason
