"""RewardBench: the filtered split (benchmark) and its section-weighted score (metric)."""
