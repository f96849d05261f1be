"""Running a judge and reading its verdicts: prompts, parsers, inference, stored judging, the pairwise base."""
