"""The ``megatron`` engine: the training model code (megatron-core GPTModel) with tensor parallelism.

For cluster jobs that own their GPUs: a teacher or policy checkpoint in HF format is loaded into
``cj2.models.build_model`` at ``tp`` ranks, exactly as training would shard it. Run it under
torchrun (or srun) with one process per TP rank. TP rank 0 drives: its ``generate`` broadcasts
each request to the other ranks, which sit in :meth:`follow` until rank 0 calls ``close``.

Decoding recomputes the whole sequence every step (no KV cache): simple and exact, and fine for
tests and modest lengths; long teacher runs belong on a serving engine (the ``openai`` engine in
front of vLLM/SGLang). The ``n`` candidates of a prompt decode as one batch, and the next token
is drawn on rank 0 from the gathered logits with a generator seeded per prompt, then broadcast,
so every rank continues the same sequences and TP=2 samples what TP=1 samples.
"""

from __future__ import annotations

from cj2.sample.engines.base import Messages, Seed, Usage, check_sampling_args, seeds_for

STOP = "stop"


class MegatronEngine:
    def __init__(self, model: str, tp: int = 1, seed: int = 1234, collective_timeout_s: int = 600):
        import torch.distributed as dist
        from megatron.core import parallel_state
        from megatron.core.tensor_parallel import model_parallel_cuda_manual_seed

        from cj2 import cpu_shims
        from cj2.cluster.env import init_distributed
        from cj2.config.schema import ParallelConfig
        from cj2.data.packed.tokenizer import load_tokenizer
        from cj2.models import build_model, load_hf_weights, model_config_from_hf

        init_distributed(collective_timeout_s)
        if dist.get_world_size() % tp:
            raise ValueError(f"world size {dist.get_world_size()} is not a multiple of tp={tp}")
        cpu_shims.apply()
        parallel_state.initialize_model_parallel(tensor_model_parallel_size=tp)
        model_parallel_cuda_manual_seed(seed)
        self.model_cfg = model_config_from_hf(model)
        self.model = build_model(self.model_cfg, ParallelConfig(tp=tp, pp=1), initialize=False).eval()
        load_hf_weights(self.model, model, self.model_cfg)
        self.tokenizer = load_tokenizer(model)
        self.device = next(self.model.parameters()).device
        self.rank = parallel_state.get_tensor_model_parallel_rank()
        self.group = parallel_state.get_tensor_model_parallel_group()
        self.src = parallel_state.get_tensor_model_parallel_src_rank()
        self.stop_ids = self._stop_ids(model)
        self.usage = Usage()

    def _stop_ids(self, model_dir: str) -> list[int]:
        from transformers import GenerationConfig

        try:
            eos = GenerationConfig.from_pretrained(model_dir).eos_token_id
        except OSError:  # no generation_config.json
            eos = None
        eos = self.tokenizer.eos_token_id if eos is None else eos
        return [eos] if isinstance(eos, int) else list(eos)

    def generate(self, prompts: list[Messages], n: int, temperature: float, top_p: float, max_tokens: int, seed: Seed) -> list[list[str]]:
        """On TP rank 0 only; the other ranks serve the same request from :meth:`follow`."""
        check_sampling_args(n, temperature, top_p, max_tokens)
        if self.rank != 0:
            raise RuntimeError("generate() runs on TP rank 0; other ranks call follow()")
        request = {"prompts": prompts, "n": n, "temperature": temperature, "top_p": top_p, "max_tokens": max_tokens, "seeds": seeds_for(prompts, seed)}
        self._broadcast(request)
        return self._serve(request)

    def follow(self) -> None:
        """Ranks other than 0: take part in every request until rank 0 closes the engine."""
        while (request := self._broadcast(None)) != STOP:
            self._serve(request)

    def close(self) -> None:
        from megatron.core import parallel_state

        if self.model is None:
            return
        if self.rank == 0:
            self._broadcast(STOP)
        self.model = None
        parallel_state.destroy_model_parallel()

    def _broadcast(self, obj):
        import torch.distributed as dist

        box = [obj]
        dist.broadcast_object_list(box, src=self.src, group=self.group)
        return box[0]

    def _serve(self, request) -> list[list[str]]:
        args = (request["n"], request["temperature"], request["top_p"], request["max_tokens"])
        return [self._candidates(messages, *args, seed) for messages, seed in zip(request["prompts"], request["seeds"], strict=True)]

    def prompt_ids(self, messages: Messages) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def _candidates(self, messages: Messages, n: int, temperature: float, top_p: float, max_tokens: int, seed: int) -> list[str]:
        import torch

        from cj2.sample.engines.token_sampling import next_tokens

        prompt = self.prompt_ids(messages)
        tokens = torch.tensor([prompt] * n, dtype=torch.long, device=self.device)
        done = torch.zeros(n, dtype=torch.bool, device=self.device)
        generator = torch.Generator(device=self.device).manual_seed(seed)
        for _ in range(max_tokens):
            logits = self.last_logits(tokens)
            chosen = next_tokens(logits, temperature, top_p, generator) if self.rank == 0 else torch.empty(n, dtype=torch.long, device=self.device)
            torch.distributed.broadcast(chosen, src=self.src, group=self.group)
            chosen = torch.where(done, torch.full_like(chosen, self.stop_ids[0]), chosen)
            tokens = torch.cat([tokens, chosen[:, None]], dim=1)
            done |= torch.isin(chosen, torch.tensor(self.stop_ids, device=self.device))
            if bool(done.all()):
                break
        texts = []
        for row in tokens[:, len(prompt):].tolist():
            kept = row[: next((i + 1 for i, t in enumerate(row) if t in self.stop_ids), len(row))]
            self.usage.completion_tokens += len(kept)
            texts.append(self.tokenizer.decode(kept, skip_special_tokens=True))
        self.usage.prompt_tokens += len(prompt)
        self.usage.requests += 1
        return texts

    def last_logits(self, tokens):
        """Full-vocabulary logits [batch, vocab] at the last position, on every TP rank."""
        import torch
        from megatron.core.tensor_parallel import gather_from_tensor_model_parallel_region

        batch, length = tokens.shape
        positions = torch.arange(length, device=self.device).expand(batch, length)
        causal = torch.triu(torch.ones(1, 1, length, length, dtype=torch.bool, device=self.device), diagonal=1)
        with torch.inference_mode():
            local = self.model(tokens, positions, causal)[:, -1, :]  # [batch, vocab / tp]
            return gather_from_tensor_model_parallel_region(local.contiguous())

