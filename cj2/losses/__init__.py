"""The training objective: token cross-entropy (SFT) plus a verdict-position policy-gradient term.

Every function here takes logits split over the vocabulary across tensor-parallel ranks and
never gathers the full vocabulary: only a few values per verdict position cross ranks.
"""
