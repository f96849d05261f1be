"""Evaluation of judge models: a benchmark's prompts in, its published score out.

The map of this package (each layer imports only the layers above it in this list):

    core/        shared types and pure metrics: Benchmark (the object every benchmark is), EvalResult,
                 file readers and EvalInputError, saved predictions, pairwise accuracy / consistency / bias,
                 the verdict-logit metric (VerdictLogits records), intervals and paired tests
    judging/     running and reading a judge: prompts, verdict parsing (official and lenient),
                 OpenCompass's Choice prompt, the pairwise base (PairwiseBenchmark), style requirements,
                 inference with a cj2 engine, stored (resumable) judging, evaluation inside training (hooks),
                 teacher-forced verdict logits (eval.scoring=verdict_logits)
    benchmarks/  one home per benchmark, each exposing one object: judgerbenchv2/, judgebench, rmb/,
                 rewardbench/, pairwise (the sets a config describes: pandalm, llmbar, autoj_pairwise ...)
    registry.py  eval.name -> the benchmark object (built-ins by "module:attr" path, or module:OBJECT of yours)
    reporting/   tables (terminal, Markdown), plots, two outputs side by side (compare), W&B
    job.py       launch/eval.py: judge (or take saved outputs), score, write and report
    studies/     built on evaluation, never imported by it: the loss ablation table, the loss comparison
                 (verdict logits, intervals, gates), prompt robustness, critique-guided revision

A new benchmark is one module under benchmarks/ (or anywhere: eval.name=module:OBJECT) plus one
conf/eval/NAME.yaml; docs/architecture.md says where everything else goes.
"""
