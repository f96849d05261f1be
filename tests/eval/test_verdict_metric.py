"""The teacher-forced verdict metric (cj2.eval.core.verdict_metric) on hand-computed records."""

from __future__ import annotations

import json

import pytest

from cj2.eval.core.files import EvalInputError
from cj2.eval.core.verdict_metric import (
    VerdictLogits,
    paired_differences,
    read_verdict_logits,
    verdict_intervals,
    verdict_metrics,
    write_verdict_logits,
)


def record(item, gold, swapped, a, b, lse, top, group=None, question=None, subset=None):
    return VerdictLogits(item=item, gold=gold, swapped=swapped, z={"A": a, "B": b}, logsumexp=lse, top=top, group=group, question=question, subset=subset)


# Ten records, every number worked out by hand. s(x) = 1 / (1 + e^-x); brier = s(-margin)^2.
#      item gold swapped  zA   zB  lse  top   right  choice  margin  nll        brier
HAND = [
    record("p1", "A", False, 2, 0, 3.0, "A", subset="pairs"),  # yes  A   2    3-2=1     s(-2)^2 = 0.1192029^2 = 0.0142093
    record("p1", "B", True, 1, 1, 2.0, None, subset="pairs"),  # no   -   0    2-1=1     0.5^2 = 0.25  (a tie: no choice)
    record("p2", "B", False, 0, 3, 3.5, "B", subset="pairs"),  # yes  B   3    0.5       s(-3)^2 = 0.0474259^2 = 0.0022492
    record("p2", "A", True, 1, -1, 2.0, None, subset="pairs"),  # yes  A   2    1         0.0142093
    record("p3", "A", False, -1, 0, 1.0, "B", subset="pairs"),  # no   B  -1    2         s(1)^2 = 0.7310586^2 = 0.5344466
    record("b1", "A", False, 1, 0, 2.0, "A", group="g1", question="q1", subset="bon"),  # yes A 1  1    s(-1)^2 = 0.2689414^2 = 0.0723295
    record("b2", "A", False, 2, 0, 2.5, "A", group="g1", question="q1", subset="bon"),  # yes A 2  0.5  0.0142093
    record("b3", "A", False, 0.5, 0, 2.0, None, group="g1", question="q1", subset="bon"),  # yes A 0.5 1.5 s(-0.5)^2 = 0.3775407^2 = 0.1425370
    record("c1", "B", False, 0, 1, 2.0, "B", group="g2", question="q2", subset="bon"),  # yes B 1  1    0.0723295
    record("c2", "B", False, 1, 0, 2.0, "A", group="g2", question="q2", subset="bon"),  # no  A -1  2    0.5344466
]


def test_every_metric_against_the_hand_computation():
    """accuracy 7/10 = 70; top1 (top == gold: p1, p2 original, b1, b2, c1) 5/10 = 50; a_rate (choice A:
    p1, p2 swapped, b1, b2, b3, c2) 6/10 = 60; gold_a_rate 6/10 = 60; margin 9.5/10 = 0.95; nll
    11.5/10 = 1.15; brier 1.6509664/10 = 0.16509664; swap consistency over p1, p2 (p3 has one order):
    p1's swapped tie names nothing (inconsistent), p2 chose B then A-in-the-swapped-order = B in the
    original order (consistent): 1/2 = 50; BoN: g1 all right, g2 has c2 wrong: 1/2 = 50. Counts: 10
    records, 8 items, 5 questions (p1, p2, p3, q1, q2), 2 groups.

    Mutants seen failing: a tie read as A (``a >= b``) -> a_rate 70; swap consistency on the shown
    choices -> 0; a group right when any record is -> bon 100; nll from z[other] -> 1.25."""
    m = verdict_metrics(HAND)
    expected = {"records": 10, "items": 8, "questions": 5, "groups": 2, "items_in_both_orders": 2, "accuracy": 70.0, "top1": 50.0, "a_rate": 60.0,
                "gold_a_rate": 60.0, "margin": 0.95, "nll": 1.15, "brier": 0.16509664, "swap_consistency": 50.0, "bon_accuracy": 50.0}
    assert {k: m[k] for k in expected} == pytest.approx(expected, abs=1e-7)
    # Per subset: pairs = p1..p3 (3 of 5 right, 2 A-choices + the tie, no group); bon = the two groups.
    assert m["subsets"]["pairs"]["accuracy"] == pytest.approx(60.0) and m["subsets"]["pairs"]["bon_accuracy"] is None
    assert m["subsets"]["bon"]["accuracy"] == pytest.approx(80.0) and m["subsets"]["bon"]["bon_accuracy"] == pytest.approx(50.0)
    assert m["subsets"]["bon"]["swap_consistency"] is None  # no item of that subset was judged in both orders


def test_a_judge_that_always_says_a_is_caught():
    """The planted collapse: z_A = 1 > z_B = 0 on 4 balanced items in both orders. It is right exactly
    when A is the shown winner: accuracy 50, a_rate 100, and it names a different original response
    in the two orders of every item: swap consistency 0."""
    collapsed = [record(f"i{k}", gold, swapped, 1.0, 0.0, 1.5, "A") for k in range(4)
                 for gold, swapped in (("A" if k % 2 else "B", False), ("B" if k % 2 else "A", True))]
    m = verdict_metrics(collapsed)
    assert (m["accuracy"], m["a_rate"], m["gold_a_rate"], m["swap_consistency"]) == (50.0, 100.0, 50.0, 0.0)


def test_intervals_contain_the_estimates_and_resample_questions():
    """Every metric with a value gets an interval around its own estimate; bon_accuracy's units are
    the 2 groups (one right): its interval spans 0..100 as resampling two questions can."""
    intervals = verdict_intervals(HAND, resamples=300)
    m = verdict_metrics(HAND)
    assert set(intervals) == {"accuracy", "top1", "a_rate", "margin", "nll", "brier", "swap_consistency", "bon_accuracy"}
    for name, interval in intervals.items():
        assert interval.estimate == pytest.approx(m[name]) and interval.low <= interval.estimate <= interval.high
    assert (intervals["bon_accuracy"].low, intervals["bon_accuracy"].high) == (0.0, 100.0)


def test_paired_differences_by_hand():
    """Judge b = the hand records with p3 and c2 made right (z flipped): a - b accuracy = (7 - 9)/10
    = -20 points; McNemar: 0 verdicts only a gets right, 2 only b: p = 2 * (1/2)^2 = 0.5; BoN:
    g2 right only for b: a - b = -50, McNemar 0 vs 1 -> p = 1. Records are paired by (item, order),
    not by position (b is given reversed)."""
    fixed = {"p3": (0.0, -1.0), "c2": (0.0, 1.0)}
    b = [record(r.item, r.gold, r.swapped, *fixed.get(r.item, (r.z["A"], r.z["B"])), r.logsumexp, r.top, r.group, r.question) for r in HAND]
    d = paired_differences(HAND, list(reversed(b)), resamples=200)
    assert d["accuracy"].estimate == pytest.approx(-20.0)
    assert d["mcnemar"] == {"a_only": 0, "b_only": 2, "p": pytest.approx(0.5)}
    assert d["bon_accuracy"].estimate == pytest.approx(-50.0)
    assert d["bon_mcnemar"] == {"a_only": 0, "b_only": 1, "p": pytest.approx(1.0)}
    with pytest.raises(ValueError, match="same verdicts"):
        paired_differences(HAND, b[:-1])


def test_jsonl_round_trip_and_errors_naming_file_line_and_field(tmp_path):
    path = tmp_path / "verdict_logits_set.jsonl"
    write_verdict_logits(path, HAND)
    assert read_verdict_logits(path) == HAND
    lines = path.read_text().splitlines()
    assert json.loads(lines[0]) == {"item": "p1", "gold": "A", "swapped": False, "z": {"A": 2, "B": 0}, "logsumexp": 3.0, "top": "A",
                                    "group": None, "question": None, "subset": "pairs"}
    for change, field, why in [({"gold": "tie"}, "gold", "expected 'A' or 'B'"), ({"z": {"A": 1.0}}, "z", "expected"),
                               ({"logsumexp": -5.0}, "logsumexp", "below a label's logit"), ({"colour": 1}, "colour", "unknown key")]:
        bad = [lines[0], json.dumps({**json.loads(lines[1]), **change}), *lines[2:]]
        path.write_text("\n".join(bad) + "\n")
        with pytest.raises(EvalInputError) as e:
            read_verdict_logits(path)
        assert f"{path} line 2 field '{field}'" in str(e.value) and why in str(e.value)
    path.write_text("\n".join([lines[0], lines[0]]) + "\n")
    with pytest.raises(ValueError, match="p1.*twice"):
        read_verdict_logits(path)


def test_a_record_from_what_a_forward_pass_gives():
    """Gold B in the shown order: y* (id 33) is B's token, y- (id 32) A's. z_B = 3, z_A = 1; the argmax
    id names the label it belongs to, or None for any other token. Mutant: z of gold stored under A
    whatever the gold -> z == {"A": 3, "B": 1}, the record's choice flips."""
    r = VerdictLogits.from_logits("p", "B", True, 3.0, 1.0, 4.0, 32, 33, 32, group="g", question="q", subset="s")
    assert (r.z, r.top, r.choice, r.right, r.margin) == ({"A": 1.0, "B": 3.0}, "A", "B", True, 2.0)
    assert (r.group, r.question, r.subset, r.unit) == ("g", "q", "s", "q")
    assert VerdictLogits.from_logits("p", "A", False, 3.0, 1.0, 4.0, 7, 33, 32).top is None
