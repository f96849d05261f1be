"""Properties every format must keep, over arbitrary and verdict-like strings (hypothesis)."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from cj2.verdicts import FORMATS, NO_VERDICT, parse

FORMAT_NAMES = sorted(FORMATS)

# Fragments of every format's syntax, so generated text hits the parsers' edges far more often
# than uniform text would.
FRAGMENTS = [
    '"Choice"', '"choice"', ":", "\uff1a", ' "', '"', "Model ", "A", "B", "C", "a", "[[", "]]", ">", ">>", "=",
    "<", "+", "++", '"winner"', '"胜者"', "7", "10", "0", "11", ".5", "correct", "incorrect", '"correctness"',
    "\n", " ", "{", "}", "\u201c", "\u201d", "'",
]
verdictish = st.lists(st.one_of(st.sampled_from(FRAGMENTS), st.text(max_size=5)), max_size=40).map("".join)
any_text = st.one_of(st.text(max_size=300), verdictish)
PROPERTY_SETTINGS = settings(max_examples=300, deadline=None, suppress_health_check=[HealthCheck.too_slow])


@PROPERTY_SETTINGS
@given(name=st.sampled_from(FORMAT_NAMES), text=any_text)
def test_parse_is_total_and_consistent(name, text):
    verdict = parse(name, text)
    if verdict.ok:
        assert verdict.label in FORMATS[name].labels or name == "mtbench_single"
        start, end = verdict.span
        assert 0 <= start < end <= len(text)
        assert text[start:end] == verdict.raw
        assert not verdict.reason
    else:
        assert verdict.label is None and verdict.span is None and verdict.reason


def _label_strategy(name):
    return st.sampled_from(FORMATS[name].labels)


@st.composite
def prefixed_verdicts(draw):
    """(format, label, prefix, text): free text with no verdict of its own, then a rendered verdict."""
    name = draw(st.sampled_from(FORMAT_NAMES))
    label = draw(_label_strategy(name))
    prefix = draw(any_text)
    return name, label, prefix, prefix + "\n" + FORMATS[name].render(label)


@PROPERTY_SETTINGS
@given(case=prefixed_verdicts())
def test_rendered_verdict_is_read_back(case):
    name, label, prefix, text = case
    if parse(name, prefix).reason != NO_VERDICT:
        return  # the prefix states a verdict of its own: covered by the policy tests
    verdict = parse(name, text)
    assert verdict.ok and verdict.label == label


@PROPERTY_SETTINGS
@given(case=prefixed_verdicts())
def test_opposite_at_span_flips_the_verdict(case):
    """What the trainer relies on: writing opposite(raw) at the span states the other side."""
    name, label, prefix, text = case
    if parse(name, prefix).reason != NO_VERDICT:
        return
    fmt = FORMATS[name]
    verdict = parse(name, text)
    flipped_text = fmt.opposite(verdict.raw)
    if label in ("A", "B", "correct", "incorrect"):
        assert flipped_text is not None
        start, end = verdict.span
        flipped = parse(name, text[:start] + flipped_text + text[end:])
        other = {"A": "B", "B": "A", "correct": "incorrect", "incorrect": "correct"}[label]
        assert flipped.label == other and flipped.span[0] == start
    else:
        assert flipped_text is None  # ties and scores have no single opposite


@PROPERTY_SETTINGS
@given(name=st.sampled_from(["judgerbench_en", "judgerbench_cn", "wildbench"]), first=st.sampled_from(["A", "B"]),
       second=st.sampled_from(["A", "B"]), middle=st.text(max_size=50))
def test_last_match_decides(name, first, second, middle):
    fmt = FORMATS[name]
    if parse(name, middle).reason != NO_VERDICT:
        return
    assert parse(name, fmt.render(first) + middle + fmt.render(second)).label == second


@PROPERTY_SETTINGS
@given(name=st.sampled_from(["cj2_cot", "cj2_short", "arena_hard", "mtbench_pair", "pointwise_correctness"]),
       middle=st.text(max_size=50), data=st.data())
def test_disagreement_is_a_conflict(name, middle, data):
    fmt = FORMATS[name]
    if parse(name, middle).reason != NO_VERDICT:
        return
    first, second = data.draw(st.permutations(list(fmt.labels)))[:2]
    verdict = parse(name, fmt.render(first) + middle + fmt.render(second))
    assert not verdict.ok and verdict.reason.startswith("two conflicting verdicts")
