"""The public-data recipes of conf/data/cj2_public.yaml, each run on a local fixture in its dataset's
published schema (no network): the real loader, the recipe's own field mapping, hand-written records."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from omegaconf import OmegaConf

from cj2.config.compose import compose
from cj2.data.records import RejectedRow, TrainingSample
from cj2.data.sources.loaders import load_examples

FIXTURES = Path(__file__).parent / "fixtures" / "public"
# Sources that are not on the Hub: read from `path` (a download from the named repository).
NOT_ON_HUB = {"autoj": "GAIR-NLP/auto-j", "autoj_zh": "GAIR-NLP/auto-j", "pandalm": "WeOpenML/PandaLM", "shepherd": "facebookresearch/Shepherd"}
TEST_SPLITS = {"test", "validation", "valid", "eval"}


def recipes():
    return compose(["data=cj2_public"]).data.components


def fixture(name: str) -> Path:
    found = sorted(FIXTURES.glob(f"{name}.*"))
    assert len(found) == 1, f"component {name!r} has {len(found)} fixtures in {FIXTURES} (want one: {name}.jsonl/.json/.csv)"
    return found[0]


def rows_in(path: Path) -> int:
    if path.suffix == ".json":
        return len(json.loads(path.read_text(encoding="utf-8")))
    lines = [line for line in path.read_text(encoding="utf-8").splitlines() if line.strip()]
    return len(lines) - (1 if path.suffix == ".csv" else 0)


def run(name: str):
    """The recipe ``name`` read from its fixture: (kept records, {row: reason}), rows in checked."""
    component = OmegaConf.to_container(recipes()[name], resolve=True)
    component["path"] = str(fixture(name))  # path wins over hub_name: same schema, no network
    out = list(load_examples(component, name))
    assert len(out) == rows_in(fixture(name)), "rows in != kept + rejected"
    kept = [r for r in out if not isinstance(r, RejectedRow)]
    rejected = {r.row: r.reason for r in out if isinstance(r, RejectedRow)}
    assert len(kept) + len(rejected) == rows_in(fixture(name))
    return kept, rejected


def pairs(kept):
    return [(r.question, r.responses, r.label, r.meta.get("judgment")) for r in kept]


def test_every_recipe_names_its_source_split_licence_and_has_a_fixture():
    """Catches: a recipe added without a Hub id (or a download source), a training split, a licence
    note or a fixture, or one that reads an evaluation split."""
    components = recipes()
    assert len(components) >= 12
    for name, comp in components.items():
        if name in NOT_ON_HUB:
            assert comp.hub_name is None and comp.path, f"{name}: not on the Hub, must read a local path"
        else:
            assert comp.hub_name and "/" in comp.hub_name, f"{name}: no Hub id"
        assert comp.split and comp.split.lower() not in TEST_SPLITS, f"{name}: split {comp.split!r}"
        assert comp.licence and comp.licence.strip(), f"{name}: no licence"
        fixture(name)
        assert comp.hub_revision is None or len(comp.hub_revision) == 40, f"{name}: a revision must be a full commit id"


def test_autoj_cuts_query_and_responses_out_of_the_prompt():
    """Catches: mapping Auto-J's whole usermsg as the question; keeping "So, the final decision is
    Response 1" in the judgment; reading pred_label (GPT-4) instead of gt_label (human)."""
    kept, rejected = run("autoj")
    assert pairs(kept) == [
        ("Polish this sentence: me and him goes to school.", ["He and I go to school.", "Me and him go to school."], "A",
         "1. The key factors to distinguish these two responses:\n\n- grammar: Response 1 fixes both errors, Response 2 keeps \"me and him\".\n\n2. The final decision:"),
        ("Say hi.\nIn French.", ["Salut !", "Bonjour !"], "tie", "1. The key factors to distinguish these two responses:\n\n- both greet in French."),
        ("Write a Python function that returns the square of x.", ["def f(x): return x + x", "def square(x):\n    return x * x"], "B",
         "1. The key factors to distinguish these two responses:\n\n- correctness: Response 1 doubles x."),
    ]
    assert [r.category for r in kept] == ["language_polishing", "chitchat", "code_generation"]
    assert all(r.meta["date"] == "2023-10-01" for r in kept)  # before the cut-off: re-judged
    assert rejected == {4: "bad_field", 5: "bad_label"}  # a single-response prompt; label 5


def test_autoj_chinese_release_cuts_query_and_responses_out_of_the_chinese_prompt():
    """Catches: the English prompt's markers used on the Chinese file (every row bad_field), the closing
    "所以，最终决定是回应N" left in the judgment, or the rows taken as English (no Chinese template, no
    Chinese share in the statistics)."""
    kept, rejected = run("autoj_zh")
    assert pairs(kept) == [
        ("把这句话改得更正式：我们明天见。", ["期待明日与您会面。", "明天见啦！"], "A", "1. 区分两个回应的关键因素：\n\n- 正式程度：回应1用语正式，回应2口语化。\n\n2. 最终决定："),
        ("用Python写一个求平方的函数。", ["def f(x): return x + x", "def square(x):\n    return x * x"], "B", "1. 区分两个回应的关键因素：\n\n- 正确性：回应1计算的是两倍。"),
        ("说一声你好。", ["你好！", "您好！"], "tie", "两个回应都可以。"),
    ]
    assert {r.language for r in kept} == {"cn"} and [r.category for r in kept] == ["language_polishing", "code_generation", "chitchat"]
    assert rejected == {4: "bad_field"}  # a single-response prompt


def test_judgelm_label_from_the_two_scores_and_judgment_without_the_score_line():
    """Catches: a label from the first score alone or reversed; the "2 8" score line left in the judgment."""
    kept, rejected = run("judgelm")
    assert pairs(kept) == [
        ("I want to get a tattoo. What do you suggest?", ["Visit a tattoo website.", "Pick something meaningful to you, and find a reputable artist."],
         "B", "Assistant 1's response is not very helpful. Assistant 2's response is much more detailed and helpful."),
        ("How do I boil an egg?", ["Cover it with water, boil 9 minutes, cool it.", "Boil it."], "A",
         "Assistant 1 is accurate and complete; Assistant 2 misses a step."),
        ("What is 2 + 2?", ["4", "Four."], "tie", "Both assistants give the same correct answer."),
    ]
    assert [r.id for r in kept] == ["HZKJaPyrQSdPyxiz2hUZx9", "r2", "r3"]
    assert rejected == {4: "missing_field", 5: "bad_field"}  # one score only; no score line


def test_pandalm_train_schema():
    """Catches: dropping PandaLM's input from the question, or mapping 1/2 to the wrong side."""
    kept, rejected = run("pandalm")
    assert pairs(kept) == [
        ("Find an example of the given kind of data\n\nQualitative data",
         ["An example of qualitative data is customer feedback.", "Qualitative data is numbers."], "A",
         "Response 1 gives a correct example; Response 2 describes quantitative data."),
        ("Give three tips for staying healthy.", ["Eat well. Sleep.", "1. Eat a balanced diet.\n2. Exercise.\n3. Sleep enough."], "B",
         "Response 2 gives three tips as asked."),
        ("Translate to French.\n\nGood morning", ["Bonjour", "Bonjour !"], "tie", "Both responses are correct."),
    ]
    assert rejected == {4: "bad_label", 5: "missing_field"}


def test_prometheus_preference_drops_the_result_marker():
    """Catches: "[RESULT] A" carried into the judgment (an old verdict in another format)."""
    kept, rejected = run("prometheus_preference")
    assert pairs(kept) == [
        ("Explain photosynthesis in one sentence.", ["Plants turn light, water and CO2 into sugar and oxygen.", "Plants grow."], "A",
         "Response A names the inputs and outputs, while Response B is vague."),
        ("Decline an invitation politely.", ["No.", "Thank you, but I can't make it."], "B",
         "Response A is curt and Response B thanks the host before declining."),
    ]
    assert rejected == {3: "bad_label", 4: "empty_response"}


def test_prometheus_feedback_is_a_single_response_critique():
    """Catches: the rubric score or "[RESULT] 1" in the critique target; the wrong template; a question
    without the rubric and reference answer the critique was written against (#27: it cites them)."""
    kept, rejected = run("prometheus_feedback")
    rubric = "\n\n[Scoring rubric]\nIs the response helpful?\nScore 1: level 1\nScore 2: level 2\nScore 3: level 3\nScore 4: level 4\nScore 5: level 5\n\n[Reference answer (score 5)]\n"
    assert pairs(kept) == [
        ("How do vaccines work?" + rubric + "Vaccines expose the immune system to an antigen...", ["They train the immune system with a harmless part of a germ."], "4",
         "The response is accurate and concise but gives no example. So the overall score is 4."),
        ("Summarize the plot of Hamlet." + rubric + "Prince Hamlet avenges his father...", ["Hamlet is a city in Denmark."], "1",
         "The response does not summarize the play."),
    ]
    assert {r.template for r in kept} == {"cj2_critique"}
    assert rejected == {3: "missing_field"}


def test_ultrafeedback_critique_of_one_completion():
    """Catches: critique and response taken from different completions, or the fine-grained score as the label."""
    kept, rejected = run("ultrafeedback_critique")
    assert pairs(kept) == [
        ("Write a haiku about autumn.", ["Crisp leaves drift and fall\nGolden light on quiet paths\nThe year exhales slow"], "7.5",
         "The haiku follows 5-7-5 and evokes autumn well; the last line could be sharper."),
        ("What happens if you crack your knuckles a lot?", ["You will get arthritis."], "2.0",
         "The response repeats a myth; studies show no link to arthritis."),
    ]
    assert [r.category for r in kept] == ["evol_instruct", "truthful_qa"]
    assert rejected == {3: "missing_field"}  # no completions


def test_shepherd_feedback():
    """Catches: the answer and its feedback swapped, or a blank answer accepted."""
    kept, rejected = run("shepherd")
    assert pairs(kept) == [
        ("Ryan has 40 balls. There are twice as many red balls as blue while the rest are green. If there are 11 blue balls, how many green balls are there?",
         ["There are 20 red balls. 40 - 20 - 11 = 9. The answer is 9.\n\n"], None,
         "Twice as many red as blue is 22, not 20, so the green count is wrong."),
        ("Is a duck a bird?", ["No, a duck is a fish."], None, "Ducks are birds; the answer contradicts common sense."),
    ]
    assert [r.id for r in kept] == ["0", "1"] and {r.template for r in kept} == {"cj2_critique"}
    assert rejected == {3: "empty_response"}


def knowledge(kept):
    return [(r.question, r.meta["gold"]) for r in kept]


def test_mmlu_choices_written_into_the_question():
    """Catches: a question without its options (answers could not be graded by letter), or the gold index unmapped."""
    kept, rejected = run("mmlu")
    assert knowledge(kept) == [
        ("Which gas do plants absorb?\n(A) Oxygen\n(B) Nitrogen\n(C) Carbon dioxide\n(D) Helium", "C"),
        ("2 + 2 =\n(A) 4\n(B) 3\n(C) None\n(D) 5", "A"),
    ]
    assert rejected == {3: "bad_label", 4: "missing_field"}  # index 7; three choices


def test_cmmlu_columns_and_letter_answer():
    """Catches: CMMLU's A-D columns left out of the question; a blank answer accepted as gold."""
    kept, rejected = run("cmmlu")
    assert knowledge(kept) == [
        ("水稻属于哪一类作物？\n(A) 油料作物\n(B) 粮食作物\n(C) 纤维作物\n(D) 糖料作物", "B"),
        ("下列哪种肥料属于氮肥？\n(A) 过磷酸钙\n(B) 氯化钾\n(C) 石灰\n(D) 尿素", "D"),
    ]
    assert {(r.language, r.template) for r in kept} == {("cn", "knowledge_correctness_cn")}
    assert rejected == {3: "missing_field"}


def test_gsm8k_keeps_the_worked_answer_as_gold():
    """Catches: gold mapped to the question, or a null answer accepted."""
    kept, rejected = run("gsm8k")
    assert [gold.rsplit("#### ", 1)[1] for _, gold in knowledge(kept)] == ["72", "10"]
    assert kept[0].question.startswith("Natalia sold clips")
    assert rejected == {3: "missing_field"}


def test_gsm8k_chinese_reads_the_translated_question_and_the_final_number():
    """Catches: the English question read (no Chinese knowledge added), the worked English answer taken as
    gold, a row without its translation accepted."""
    kept, rejected = run("gsm8k_zh")
    assert [(q[:6], gold) for q, gold in knowledge(kept)] == [("娜塔莉亚四月", "72"), ("翁照看孩子每", "10")]
    assert {(r.language, r.template) for r in kept} == {("cn", "knowledge_correctness_cn")}
    assert rejected == {3: "missing_field"}


def test_math_gold_is_the_last_boxed_number():
    """Catches: taking the first \\boxed{} of a solution, or passing an expression to number grading."""
    kept, rejected = run("math")
    assert knowledge(kept) == [("What is $2+3$?", "5"), ("Find $x$ if $x/4 = 3$.", "12"), ("Solve $2x = -7$.", "-3.5")]
    assert [r.category for r in kept] == ["Prealgebra", "Algebra", "Algebra"]
    assert rejected == {3: "bad_field"}  # \frac{1}{2}


def test_tulu3_messages_split_into_prompt_and_target():
    """Catches: the last assistant turn left in the prompt, or a conversation ending with the user accepted;
    G-SFT taken whole (939k rows, more than all judge data) instead of a share of the mixture."""
    assert recipes()["tulu3_sft"].share == 0.15 and recipes()["tulu3_sft"].num_samples is None
    kept, rejected = run("tulu3_sft")
    assert all(isinstance(r, TrainingSample) for r in kept)
    assert [(r.messages, r.target, r.id) for r in kept] == [
        ([{"role": "user", "content": "What is the capital of France?"}], "Paris.", "oasst1_1"),
        ([{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hi"}, {"role": "assistant", "content": "Hello!"},
          {"role": "user", "content": "Count to 3."}], "1, 2, 3.", "sharegpt_2"),
    ]
    assert rejected == {3: "malformed_row"}


TESTED = {"autoj", "autoj_zh", "gsm8k_zh", "judgelm", "pandalm", "prometheus_preference", "prometheus_feedback", "ultrafeedback_critique", "shepherd",
          "mmlu", "cmmlu", "gsm8k", "math", "tulu3_sft"}  # each has its own test above


def test_every_recipe_has_a_test():
    """Catches: a recipe added to cj2_public.yaml whose mapping no test checks against hand-written records."""
    assert set(recipes()) == TESTED


@pytest.mark.parametrize("name", ["autoj", "judgelm", "pandalm", "prometheus_preference"])
def test_judge_recipes_are_rejudged_before_the_cutoff(name):
    """Catches: a pre-cut-off public set configured to keep its old critiques (method.md 3.1 re-judges it)."""
    comp = recipes()[name]
    assert comp.kind == "pairwise" and comp.role == "rejudge"
    assert comp.date_field.startswith("const:") and comp.date_field.removeprefix("const:") < compose(["data=cj2_public"]).data.date_cutoff


# The better response of every A/B row of the judge fixtures: the scripted teacher picks it.
WINNERS = {"He and I go to school.", "def square(x):\n    return x * x", "Pick something meaningful to you, and find a reputable artist.",
           "Cover it with water, boil 9 minutes, cool it.", "An example of qualitative data is customer feedback.",
           "1. Eat a balanced diet.\n2. Exercise.\n3. Sleep enough.", "Plants turn light, water and CO2 into sugar and oxygen.",
           "Thank you, but I can't make it.", "期待明日与您会面。"}


# Knowledge questions of the fixtures (by their opening): a right and a wrong answer the scripted policy writes.
ANSWERS = {"Which gas do plants absorb?": ("The answer is (C).", "The answer is (A)."), "2 + 2 =": ("The answer is (A).", "The answer is (B)."),
           "水稻属于哪一类作物": ("The answer is (B).", "The answer is (A)."), "下列哪种肥料属于氮肥": ("The answer is (D).", "The answer is (A)."),
           "Natalia sold clips": ("So 72 in all.\n#### 72", "#### 70"), "Weng earns $12": ("#### 10", "#### 12"),
           "What is $2+3$?": ("The answer is 5.", "The answer is 6."), "Find $x$ if": ("The answer is 12.", "The answer is 3."),
           "Solve $2x = -7$.": ("The answer is -3.5.", "The answer is 3.5."),
           "娜塔莉亚四月份": ("一共卖出了72个。", "一共卖出了70个。"), "翁照看孩子": ("她挣了10美元。", "她挣了12美元。")}


def teacher_reply(messages, k):
    from tests.data.teachers import judge_in_its_format

    judged = judge_in_its_format(messages, lambda question, a, b: "A" if a.strip() in WINNERS else "B")  # the known better response
    if judged is not None:
        return judged
    text = messages[-1]["content"]
    opening = next(q for q in ANSWERS if q in text)
    right, wrong = ANSWERS[opening]
    if "[Response]" in text or "【回答】" in text:  # knowledge correctness of the answer after the question
        verdict = "correct" if right in text.split(opening, 1)[1] else "incorrect"
        return json.dumps({"rationale": "checked against my own solution", "correctness": verdict})
    return right if k % 2 == 0 else wrong  # the policy's answers: one right, one wrong


def test_whole_mixture_builds_offline_from_the_fixtures(tmp_path, qwen_tokenizer):
    """Catches: a recipe that loads but cannot be curated, rendered and packed (a wrong kind/role/template
    combination), and a build that loses rows (rows in != kept + rejected per component)."""
    from tests.data.helpers import ScriptedTeacher, curate_and_build

    overrides = ["data=cj2_public", f"data.output_dir={tmp_path / 'data'}", f"curate.output_dir={tmp_path / 'curated'}", "data.max_reject_fraction=1.0", "data.seq_length=4096",
                 "curate.template_share=0"]
    overrides += [f"data.components.{name}.path={fixture(name)}" for name in recipes()]
    out = curate_and_build(compose(overrides), ScriptedTeacher(teacher_reply))
    stats = json.loads((out / "stats.json").read_text())
    assert set(stats["components"]) == set(recipes())
    for name, comp in stats["components"].items():
        assert comp["rows_in"] == rows_in(fixture(name)), name
        assert comp["rows_in"] == comp["kept"] + sum(comp["rejected"].values()), name
    kept = {name: comp["kept"] for name, comp in stats["components"].items()}
    # Every A/B pair re-judged in agreement is kept; ties cannot be stated by cj2_cot.
    assert {n: kept[n] for n in ("autoj", "autoj_zh", "judgelm", "pandalm", "prometheus_preference")} == {
        "autoj": 2, "autoj_zh": 2, "judgelm": 2, "pandalm": 2, "prometheus_preference": 2}
    assert {n: kept[n] for n in ("prometheus_feedback", "ultrafeedback_critique", "shepherd", "tulu3_sft")} == {
        "prometheus_feedback": 2, "ultrafeedback_critique": 2, "shepherd": 2, "tulu3_sft": 2}
    # One graded answer per usable question, kept where the teacher's correctness agrees with the gold.
    assert {n: kept[n] for n in ("mmlu", "cmmlu", "gsm8k", "gsm8k_zh", "math")} == {"mmlu": 2, "cmmlu": 2, "gsm8k": 2, "gsm8k_zh": 2, "math": 3}
    # Each kind of source trains the prompt it is for: pairs re-judged in CoT, critiques in critique
    # mode (no score asked for), knowledge as correctness judgments, G-SFT as plain chat.
    templates: dict[str, set] = {}
    for split in ("train", "valid"):
        for line in (out / f"{split}.jsonl").read_text(encoding="utf-8").splitlines():
            sample = json.loads(line)
            templates.setdefault(sample["source"], set()).add(sample["meta"].get("template"))
    assert templates == {
        **{n: {"cj2_cot"} for n in ("autoj", "judgelm", "pandalm", "prometheus_preference")},
        **{n: {"cj2_critique"} for n in ("prometheus_feedback", "ultrafeedback_critique", "shepherd")},
        "mmlu": {"knowledge_correctness"}, "gsm8k": {"knowledge_correctness"}, "math": {"knowledge_correctness"},
        "cmmlu": {"knowledge_correctness_cn"}, "tulu3_sft": {None}, "autoj_zh": {"cj2_cot_cn"}, "gsm8k_zh": {"knowledge_correctness_cn"}}
