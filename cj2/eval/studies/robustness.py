"""Prompt robustness (CompassJudger-2, section 5.4): does a style requirement in the question move the judge?

``python launch/robustness.py eval=rewardbench eval.data_file=F eval.model=...`` judges the
benchmark with the plain question, then once per style with the style's sentence appended to the
user question ("Users prefer a more detailed response." ...), and reports accuracy per subset
(and, for RewardBench, per section and the score) with and without it, and the drop
(plain - styled, in points; positive = the style requirement hurt). ``eval.style_suffix=NAME``
runs only that style; ``python launch/eval.py ... eval.style_suffix=NAME`` scores one styled run
on its own. Every run stores its judgments separately (cj2.eval.judging.stored_judging), so a killed
robustness run resumes where it stopped.
"""

from __future__ import annotations

import copy
import json
from pathlib import Path

from omegaconf import open_dict, read_write

from cj2.eval.core.files import EvalInputError, stop_on_input_error
from cj2.eval.judging.styles import STYLES, style_text

PLAIN = "plain"


def run_scores(result) -> dict:
    """What the robustness table compares: the headline, per-group accuracy (and RewardBench sections)."""
    groups = {g: {"items": c["judged"], "accuracy": c["accuracy"]} for g, c in result.metrics.get("groups", {}).items()}
    scores = {"headline": result.headline, "groups": groups, "unparsed": result.unparsed}
    if "sections" in result.metrics:
        scores["sections"] = dict(result.metrics["sections"])
    return scores


def robustness_report(benchmark: str, headline_name: str, protocol: dict, runs: dict[str, dict]) -> dict:
    """``runs``: ``plain`` and each style's :func:`run_scores`; adds every drop (plain - styled)."""
    plain = runs[PLAIN]
    styles = {}
    for style, scores in runs.items():
        if style == PLAIN:
            continue
        drop = {"headline": plain["headline"] - scores["headline"], "groups": {g: plain["groups"][g]["accuracy"] - c["accuracy"] for g, c in scores["groups"].items()}}
        if "sections" in scores:
            drop["sections"] = {s: plain["sections"][s] - v for s, v in scores["sections"].items()}
        styles[style] = {"text": STYLES[style], **scores, "drop": drop}
    return {"benchmark": benchmark, "headline_name": headline_name, "protocol": protocol, PLAIN: plain, "styles": styles}


def report_rows(report: dict) -> list[dict]:
    """One row per subset, per section and the headline: plain accuracy, each style's accuracy and drop."""
    plain, styles = report[PLAIN], report["styles"]
    measures = [("subset", g, lambda s, g=g: s["groups"][g]["accuracy"], lambda d, g=g: d["groups"][g]) for g in plain["groups"]]
    measures += [("section", name, lambda s, n=name: s["sections"][n], lambda d, n=name: d["sections"][n]) for name in plain.get("sections", {})]
    measures.append(("overall", report["headline_name"], lambda s: s["headline"], lambda d: d["headline"]))
    rows = []
    for kind, name, value, drop in measures:
        row = {"kind": kind, "name": name, PLAIN: value(plain)}
        for style, scores in styles.items():
            row[style], row[f"{style} drop"] = value(scores), drop(scores["drop"])
        rows.append(row)
    return rows


def markdown(report: dict) -> str:
    from cj2.eval.reporting.report import markdown_table

    styles = "".join(f"- `{name}`: \"{s['text']}\" appended to every user question; drop in {report['headline_name']}: {s['drop']['headline']:.2f} points\n" for name, s in report["styles"].items())
    protocol = report["protocol"]
    head = f"# Prompt robustness: {report['benchmark']}\n\nprompt {protocol['prompt']}, parser {protocol['parser']}; drop = plain - styled (points; positive: the requirement hurt)\n\n"
    return head + styles + "\n" + markdown_table(report_rows(report))


def with_style(cfg, style: str | None):
    """A copy of the (finalized, read-only) config judging with ``style``; its scores go to the default path."""
    styled = copy.deepcopy(cfg)
    with read_write(styled), open_dict(styled):
        styled.eval.style_suffix = style
        styled.eval.output = None
    return styled


def run_robustness(cfg, judge=None) -> dict:
    """Judge and score the plain run and every style run; ``judge`` (an engine factory) is shared, built once by default."""
    from cj2.eval.job import evaluate
    from cj2.eval.judging.stored_judging import LazyJudge

    if cfg.eval.predictions:
        raise EvalInputError("eval.predictions", "the robustness command judges the benchmark once per style: set eval.model (and the engine), not saved predictions")
    styles = [cfg.eval.style_suffix] if cfg.eval.style_suffix else list(STYLES)
    for style in styles:
        style_text(style)
    engine = judge or LazyJudge(cfg.eval)
    runs, protocol, result = {}, {}, None
    try:
        for style in [None, *styles]:
            result = evaluate(with_style(cfg, style), judge=engine)
            runs[style or PLAIN] = run_scores(result)
            protocol = protocol or {k: v for k, v in result.protocol.items() if k != "unparsed"}
    finally:
        if judge is None:
            engine.close()
    return robustness_report(result.benchmark, result.headline_name, protocol, runs)


def write_report(cfg, report: dict) -> Path:
    from cj2.utils.atomic import atomic_write_text

    output = Path(cfg.eval.output or Path(cfg.run_dir) / f"robustness_{cfg.eval.name}.json")
    atomic_write_text(output, json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    atomic_write_text(Path(cfg.eval.report_dir or output.parent) / f"{output.stem}.md", markdown(report))
    return output


def run(cfg) -> dict:
    """``launch/robustness.py`` lands here."""
    with stop_on_input_error("robustness"):
        report = run_robustness(cfg)
    output = write_report(cfg, report)
    print(markdown(report))
    print(f"robustness report written to {output}")
    return report
