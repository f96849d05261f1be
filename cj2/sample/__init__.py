"""Rejection sampling (method.md 3.2): a teacher writes N candidate judgments per labelled pair,
the candidates whose verdict matches the label are kept.

``engines`` turns chat prompts into candidates (hf, openai, megatron); the runner shards the input,
samples each shard exactly once across kills and restarts, and summarises the outcome.
"""
