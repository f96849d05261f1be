"""Using a trained judge: a service over HTTP, inside RLHF trainers (docs/use-your-judge.md).

core (requests -> jobs -> answers: orders, ties, scores), verdict_site (the verdict token and its
probabilities), hf_backend / openai_backend (who judges), batcher and service (the judge as an
object), app and serve (HTTP), openrlhf and rewards (the remote reward model), client, trl_judge,
verl_reward (trainer integrations), config (launch/serve_judge.py).
"""
