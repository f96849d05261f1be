"""RMB: pairwise and Best-of-N sets (benchmark) and their scores (metric)."""
