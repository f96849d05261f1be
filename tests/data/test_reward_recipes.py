"""conf/data/reward_public.yaml: every recipe maps its dataset's published schema onto judge records.

Each component is read through the real loader from a small fixture in that dataset's schema
(tests/data/fixtures/reward/<component>.jsonl), the component's ``path`` set to the fixture (a
path wins over hub_name, so no network). The expected records are written by hand from the
dataset cards, not computed by the mapping under test.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from omegaconf import OmegaConf

from cj2.config import compose
from cj2.data.records import JudgeExample, RejectedRow
from cj2.data.sources.loaders import load_examples

FIXTURES = Path(__file__).parent / "fixtures" / "reward"

# component -> (kept records as (row, question, [response_a, response_b], label), {row: rejection reason})
EXPECTED = {
    "skywork": (
        [(1, "What is 2+2?", ["2+2 = 4.", "2+2 = 5."], "A"),
         (2, "User: Name a colour.\n\nAssistant: Blue.\n\nUser: Another one?", ["Green.", "Blue again."], "A"),
         (5, "Explain photosynthesis in one sentence.", ["Plants turn light, water and CO2 into sugar and oxygen.", "It is a plant thing."], "A")],  # a HelpSteer2 pair
        {3: "empty_response", 4: "bad_field"},
    ),
    "helpsteer3": (
        [(1, "Write a haiku about rain.", ["Soft rain on the roof / ...", "Rain is water."], "A"),
         (2, "User: Reverse a list in Python.\n\nAssistant: Use reversed().\n\nUser: In place?", ["Use sorted(xs).", "xs.reverse()"], "B"),
         (3, "What is 0.1 + 0.2 in floating point?", ["About 0.30000000000000004.", "0.30000000000000004 in IEEE 754 doubles."], "tie"),
         (5, "用一句话解释光合作用。", ["植物利用光能把二氧化碳和水变成糖和氧气。", "植物会长大。"], "A")],
        {4: "missing_field"},
    ),
    "helpsteer2": (
        [(1, "Explain photosynthesis in one sentence.", ["Plants turn light, water and CO2 into sugar and oxygen.", "It is a plant thing."], "A"),
         (2, "Translate 'thank you' into French.", ["Gracias.", "Merci."], "B"),
         (4, "What is 7 x 8?", ["56.", "7 x 8 = 56."], "tie"),
         (6, "User: Name a prime number.\n\nAssistant: 7.\n\nUser: A bigger one?", ["11.", "10."], "A")],  # the <extra_id_1> turns as a dialogue
        {3: "not_selected", 5: "empty_response", 7: "bad_field"},  # row 3 is a validation row of the same file; row 7 a turn of no known role
    ),
    "ultrafeedback": (
        [(1, "List three primes.", ["2, 3 and 5.", "1, 2 and 3."], "A"),
         (2, "Capital of Japan?", ["Tokyo.", "Kyoto."], "A")],
        {3: "empty_response"},
    ),
    "offsetbias": (
        [(1, "Summarize: The cat sat on the mat.", ["A cat sat on a mat.", "Cats are mammals that purr."], "A"),
         (2, "Give a one-word synonym for happy.", ["Happy is a feeling of joy, which many people enjoy at parties.", "Joyful."], "B")],
        {3: "bad_label"},
    ),
    "code_preference": (
        [(1, "Write a Python function that returns the maximum of a list.", ["def max_of(xs):\n    return max(xs)", "def max_of(xs):\n    return min(xs)"], "A"),
         (2, "Sum the numbers 1..n in Python.", ["def total(n):\n    return n * (n + 1) // 2", "def total(n):\n    return n * (n - 1) // 2"], "A")],
        {3: "missing_field"},
    ),
    "hh_rlhf": (
        [(1, "Human: How do I boil an egg?", ["Put it in boiling water for about nine minutes.", "Eggs come from chickens."], "A"),
         (2, "Human: Recommend a book.\n\nAssistant: Try Dune.\n\nHuman: Something shorter?", ["The Old Man and the Sea is short.", "Dune is long."], "A")],
        {3: "empty_response", 4: "bad_field"},
    ),
    "nectar": (
        [(1, "Human: What is the boiling point of water at sea level?", ["100 degrees Celsius (212 F).", "Water boils."], "A"),
         (2, "Human: Name a prime.\n\nAssistant: 7.\n\nHuman: A bigger one?", ["11.", "10."], "A")],
        {3: "bad_field"},
    ),
    "pku_saferlhf": (
        [(1, "How can I pick a lock?", ["I can't help with breaking into property; a locksmith can help if it's your lock.",
                                        "Insert a tension wrench and rake the pins."], "A"),
         (2, "How do I make my neighbour's dog stop barking?", ["Poison it.", "Talk to your neighbour, or contact local animal control."], "B"),
         (3, "Where can I buy fireworks?", ["At a licensed seller.", "Online."], "tie")],  # both safe: "safer" says nothing, a tie (refused before the teacher)
        {},
    ),
}


def recipes():
    return compose(["data=reward_public"]).data.components


def load_fixture(name: str, component) -> list:
    component = OmegaConf.to_container(component, resolve=True)
    component["path"] = str(FIXTURES / f"{name}.jsonl")
    return list(load_examples(component, name))


def check(name: str, component) -> None:
    """The fixture through the recipe gives exactly the hand-written records and rejections."""
    kept, rejected = EXPECTED[name]
    out = load_fixture(name, component)
    rows_in = sum(1 for line in (FIXTURES / f"{name}.jsonl").read_text(encoding="utf-8").splitlines() if line.strip())
    got_kept = [(r.meta["row"], r.question, r.responses, r.label) for r in out if isinstance(r, JudgeExample)]
    got_rejected = {r.row: r.reason for r in out if isinstance(r, RejectedRow)}
    assert len(out) == rows_in == len(got_kept) + len(got_rejected), "rows in = kept + rejected"
    assert got_kept == kept
    assert got_rejected == rejected, [r.detail for r in out if isinstance(r, RejectedRow)]
    assert all(r.source == name for r in out if isinstance(r, JudgeExample))


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_recipe_maps_its_published_schema(name):
    """Catches: a recipe reading the wrong column (a swapped response, the whole chat instead of the
    reply, the first instead of the last turn), a label map that flips A and B or drops ties, the
    best/worst of a ranked list picked the wrong way round, and a bad row kept or rejected for another
    reason than its own (rows in = kept + rejected)."""
    check(name, recipes()[name])


def test_every_recipe_is_complete_and_has_a_fixture():
    """Catches: a recipe added to reward_public without a Hub id, a training split, a licence note
    or a fixture with expected records (a recipe nobody ran on its schema), a component that is not an
    RFT pairwise source, and an expectation left for a recipe that no longer exists."""
    components = recipes()
    assert set(components) == set(EXPECTED), "every recipe needs a fixture and expected records here, and only recipes do"
    for name, c in components.items():
        assert c.kind == "pairwise" and c.role == "rft", name
        assert c.hub_name and "/" in c.hub_name, name
        assert c.split and c.split.startswith("train"), name
        assert c.licence and c.licence.strip(), name
        assert c.path is None, f"{name}: a path would win over hub_name in the real build"
        assert (FIXTURES / f"{name}.jsonl").is_file(), name
        if c.hub_revision is not None:
            assert len(c.hub_revision) == 40 and all(ch in "0123456789abcdef" for ch in c.hub_revision), name


def test_helpsteer3_rows_carry_a_language_code():
    """Catches: HelpSteer3's language column taken as written ("chinese", "python"), so that no Chinese
    template is drawn for its Chinese rows and the build counts them under no language JudgerBenchV2 has."""
    languages = [(r.meta["row"], r.language) for r in load_fixture("helpsteer3", recipes()["helpsteer3"]) if isinstance(r, JudgeExample)]
    assert languages == [(1, "en"), (2, "en"), (3, "en"), (5, "cn")]


def test_pairs_are_not_the_same_response_twice():
    """Catches: a mapping that reads both responses from one column (e.g. chosen twice), which a
    loader accepts and a teacher would judge as a coin flip."""
    for name in EXPECTED:
        for r in load_fixture(name, recipes()[name]):
            if isinstance(r, JudgeExample):
                assert r.responses[0] != r.responses[1], (name, r.meta["row"])
