"""The in-process judge: a transformers model, batched greedy judgments, verdict probabilities.

A batch's prompts are left-padded and decoded together (greedy: a judge's verdict on a request
does not depend on a seed). Each judgment whose verdict parses is then located in tokens
(:mod:`cj2.judge.verdict_site`) and one more batched forward over prompt + judgment-up-to-the-
verdict gives the logits there, so the probabilities are those of the text the judge wrote,
tokenized as training tokenizes it. Constrained jobs decode only the verdict (one of the
format's verdict texts), the way a verdict-only judge answers.
"""

from __future__ import annotations

import time

import torch
from transformers import GenerationConfig, StoppingCriteria, StoppingCriteriaList

from cj2.judge.jobs import TIMED_OUT, Job, Judgment, Messages
from cj2.judge.verdict_site import label_probabilities, locate
from cj2.placement import to_device
from cj2.sample.engines.hf import choice_continuations, stop_ids_of, until_stop
from cj2.sample.engines.hf_loading import load_causal_lm


class HFBackend:
    kind = "hf"

    def __init__(self, model: str, device: str = "auto", dtype: str | None = None, max_tokens: int = 512):
        if device == "auto":
            device = "cuda" if torch.cuda.is_available() else "cpu"
        self.model, self.tokenizer = load_causal_lm(model, device=device, dtype=dtype)
        self.device = torch.device(device)
        self.max_tokens = max_tokens
        self.stop_ids = stop_ids_of(self.model, self.tokenizer)
        pad = self.tokenizer.pad_token_id
        self.pad_id = pad if pad is not None else self.stop_ids[0]

    @property
    def context_length(self) -> int | None:
        return getattr(self.model.config, "max_position_embeddings", None)

    def prompt_ids(self, messages: Messages) -> list[int]:
        text = self.tokenizer.apply_chat_template(messages, tokenize=False, add_generation_prompt=True)
        # The template already wrote the special tokens; adding them again would double the BOS.
        return self.tokenizer(text, add_special_tokens=False).input_ids

    def count_prompt_tokens(self, messages: Messages) -> int:
        return len(self.prompt_ids(messages))

    def judge_batch(self, jobs: list[Job]) -> list[Judgment]:
        """One judgment per job, in order (free jobs and constrained jobs are decoded as two batches)."""
        prompts = [self.prompt_ids(job.messages) for job in jobs]
        texts: list[str | None] = [None] * len(jobs)
        for constrained in (False, True):
            chosen = [i for i, job in enumerate(jobs) if job.constrained == constrained and not job.expired()]
            if chosen:
                choices = [self._choice_ids(jobs[i]) for i in chosen] if constrained else None
                deadline = max((jobs[i].deadline for i in chosen), default=None) if all(jobs[i].deadline for i in chosen) else None
                for i, text in zip(chosen, self._generate([prompts[i] for i in chosen], choices, deadline), strict=True):
                    texts[i] = text
        now = time.monotonic()
        judgments = [Judgment(error=TIMED_OUT) if text is None or job.expired(now) else Judgment(text=text) for job, text in zip(jobs, texts, strict=True)]
        self._add_probabilities(jobs, prompts, judgments)
        return judgments

    def _choice_ids(self, job: Job) -> list[list[int]]:
        # Each choice as the tokenizer spells it on its own, so the decoded text is the choice.
        return [self.tokenizer(choice, add_special_tokens=False).input_ids for choice in job.choices]

    def _padded(self, sequences: list[list[int]]) -> tuple[torch.Tensor, torch.Tensor]:
        width = max(map(len, sequences))
        ids = torch.tensor([[self.pad_id] * (width - len(s)) + s for s in sequences])
        mask = torch.tensor([[0] * (width - len(s)) + [1] * len(s) for s in sequences])
        return to_device(ids, self.device), to_device(mask, self.device)

    def _generate(self, prompts: list[list[int]], choices: list[list[list[int]]] | None, deadline: float | None) -> list[str]:
        ids, mask = self._padded(prompts)
        width = ids.shape[1]
        allowed = (lambda row, input_ids: choice_continuations(choices[row], input_ids[width:].tolist(), self.stop_ids)) if choices else None
        # A constrained answer is one of its choices and the stop token, whatever max_tokens says.
        length = max(len(ids) for row in choices for ids in row) + 1 if choices else self.max_tokens
        config = GenerationConfig(max_new_tokens=length, do_sample=False, pad_token_id=self.pad_id, eos_token_id=self.stop_ids)
        with torch.inference_mode():
            out = self.model.generate(
                input_ids=ids,
                attention_mask=mask,
                generation_config=config,
                prefix_allowed_tokens_fn=allowed,
                stopping_criteria=StoppingCriteriaList([_Deadline(deadline)]) if deadline is not None else None,
            )
        return [self.tokenizer.decode(until_stop(row, self.stop_ids), skip_special_tokens=True) for row in out[:, width:].tolist()]

    def _add_probabilities(self, jobs: list[Job], prompts: list[list[int]], judgments: list[Judgment]) -> None:
        located = []
        for i, (job, judgment) in enumerate(zip(jobs, judgments, strict=True)):
            if judgment.text is None or job.verdict_format is None:
                continue
            site, note = locate(self.tokenizer, job.verdict_format, judgment.text, job.labels)
            if site is None:
                judgment.probability_note = note
            else:
                located.append((i, site))
        if not located:
            return
        ids, mask = self._padded([prompts[i] + site.prefix for i, site in located])
        positions = (mask.cumsum(-1) - 1).clamp(min=0)  # left padding: each row counts from its first real token
        with torch.inference_mode():
            logits = self.model(input_ids=ids, attention_mask=mask, position_ids=positions, logits_to_keep=1).logits[:, -1]
        for row, (i, site) in enumerate(located):
            judgments[i].probabilities, judgments[i].mass = label_probabilities(logits[row], site.tokens)

    def close(self) -> None:
        self.model = None


class _Deadline(StoppingCriteria):
    """A stopping criterion: stop the whole batch once its last deadline has passed."""

    def __init__(self, deadline: float):
        self.deadline = deadline

    def __call__(self, input_ids, scores, **kwargs) -> torch.Tensor:
        return torch.full((input_ids.shape[0],), time.monotonic() > self.deadline, dtype=torch.bool, device=input_ids.device)
