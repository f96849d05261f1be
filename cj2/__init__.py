"""cj2: train generalist LLM-as-judge models (CompassJudger-2) with verifiable rewards.

Importing ``cj2`` (and ``cj2.config``) stays light: no torch, no megatron, so composing and
validating configs on a login node is instant. Heavy modules import them where they run.
"""

__version__ = "0.1.0"
