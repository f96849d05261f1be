"""Using a trained judge (docs/use-your-judge.md): on requests from a file (launch/judge.py), as a
service over HTTP, inside RLHF trainers.

job (launch/judge.py: JSONL requests in, verdicts / scores / critiques out), core (requests ->
jobs -> answers: orders, ties, scores), verdict_site (the verdict token and its probabilities),
hf_backend / openai_backend (who judges), batcher and service (the judge as an object), app and
serve (HTTP), openrlhf and rewards (the remote reward model), client, trl_judge, verl_reward
(trainer integrations), config (launch/serve_judge.py).
"""
