"""Using a trained judge: verdicts, scores and critiques for requests (launch/judge.py)."""
