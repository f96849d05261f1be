"""The ``hf`` engine: transformers ``generate`` on CPU or one GPU, for small teachers and tests.

Each prompt is prefilled once: a batch-1 forward fills a KV cache with the prompt, the cache is
copied ``n`` times, and ``generate`` decodes the ``n`` candidates together from it (plain
``num_return_sequences`` would prefill ``n`` copies of the prompt). Prompts are generated one at
a time on purpose: batching different prompts pads them and shares one random stream, so an
item's candidates would depend on which other items were in its batch, and a resumed shard
would not reproduce an uninterrupted run.

``choices`` constrains decoding: every candidate is exactly one of those strings (e.g. a short
verdict format's ``[[A]]`` / ``[[B]]``). A small teacher that cannot yet write a parseable verdict
on its own then still yields candidates the acceptance check can read, right or wrong.
"""

from __future__ import annotations

from cj2.sample.engines.base import Messages, Seed, Usage, check_sampling_args, seeds_for
from cj2.sample.engines.hf_loading import load_causal_lm


class HFEngine:
    def __init__(self, model: str, gguf_file: str | None = None, device: str = "auto", dtype: str | None = None, choices: list[str] | None = None):
        if device == "auto":
            import torch

            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model, self.tokenizer = load_causal_lm(model, gguf_file=gguf_file, device=device, dtype=dtype)
        self.device = device
        self.stop_ids = stop_ids_of(self.model, self.tokenizer)
        # Each choice as the tokenizer spells it on its own: the canonical ids, so the decoded text is the choice.
        self.choice_ids = [self.tokenizer(c, add_special_tokens=False).input_ids for c in choices] if choices else None
        self.usage = Usage()

    def prompt_ids(self, messages: Messages):
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # The template already wrote the special tokens; adding them again would double the BOS.
        return self.tokenizer(text, add_special_tokens=False, return_tensors="pt").input_ids.to(self.device)

    def generate(self, prompts: list[Messages], n: int, temperature: float, top_p: float, max_tokens: int, seed: Seed) -> list[list[str]]:
        check_sampling_args(n, temperature, top_p, max_tokens)
        return [self._candidates(p, n, temperature, top_p, max_tokens, s) for p, s in zip(prompts, seeds_for(prompts, seed), strict=True)]

    def _candidates(self, messages: Messages, n: int, temperature: float, top_p: float, max_tokens: int, seed: int) -> list[str]:
        import torch
        from transformers import DynamicCache

        ids = self.prompt_ids(messages)
        # top_k=0: OpenAI semantics (temperature and top_p only), whatever the checkpoint's default.
        sampling = {"do_sample": True, "temperature": temperature, "top_p": top_p, "top_k": 0} if temperature > 0 else {"do_sample": False}
        with torch.inference_mode():
            cache = DynamicCache(config=self.model.config)
            if ids.shape[1] > 1:
                # All but the last prompt token: generate() feeds the uncached last token itself.
                # logits_to_keep=1: the prompt's logits are not needed (all of them would be [len, vocab]).
                self.model(input_ids=ids[:, :-1], cache=cache, use_cache=True, logits_to_keep=1)
                cache.batch_repeat_interleave(n)
            torch.manual_seed(seed)
            out = self.model.generate(
                input_ids=ids.repeat(n, 1),
                attention_mask=torch.ones(n, ids.shape[1], dtype=torch.long, device=self.device),
                cache=cache,
                max_new_tokens=max_tokens,
                pad_token_id=self.tokenizer.pad_token_id if self.tokenizer.pad_token_id is not None else self.stop_ids[0],
                prefix_allowed_tokens_fn=self._choice_constraint(ids.shape[1]) if self.choice_ids else None,
                **sampling,
            )
        texts = []
        for row in out[:, ids.shape[1]:].tolist():
            kept = until_stop(row, self.stop_ids)
            self.usage.completion_tokens += len(kept)
            texts.append(self.tokenizer.decode(kept, skip_special_tokens=True))
        self.usage.prompt_tokens += ids.shape[1]
        self.usage.requests += 1
        return texts

    def _choice_constraint(self, prompt_len: int):
        """transformers' ``prefix_allowed_tokens_fn``: the tokens that continue some choice after what
        was generated so far; a completed choice may only stop."""

        def allowed(batch_id, input_ids) -> list[int]:
            return choice_continuations(self.choice_ids, input_ids[prompt_len:].tolist(), self.stop_ids)

        return allowed

    def close(self) -> None:
        self.model = None


def stop_ids_of(model, tokenizer) -> list[int]:
    """The ids that end a generation: the checkpoint's generation config, else the tokenizer's EOS."""
    eos = model.generation_config.eos_token_id
    if eos is None:
        eos = tokenizer.eos_token_id
    return [eos] if isinstance(eos, int) else list(eos or [])


def choice_continuations(choice_ids: list[list[int]], done: list[int], stop_ids: list[int]) -> list[int]:
    """The tokens that continue some choice after ``done`` (the tokens generated so far); a
    completed choice may only stop."""
    n = len(done)
    tokens = {ids[n] for ids in choice_ids if len(ids) > n and ids[:n] == done}
    if any(ids == done for ids in choice_ids):
        tokens.update(stop_ids)
    return sorted(tokens) or stop_ids


def until_stop(tokens: list[int], stop_ids: list[int]) -> list[int]:
    """The generated tokens up to and including the first stop token (the rest is padding)."""
    for i, t in enumerate(tokens):
        if t in stop_ids:
            return tokens[: i + 1]
    return tokens
