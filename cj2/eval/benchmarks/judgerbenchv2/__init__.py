"""JudgerBenchV2: records and published positions, prompt, ground-truth table, metric, and its benchmark object."""
