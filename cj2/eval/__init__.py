"""Evaluation of judge models: benchmarks, their exact metrics, reports, and judge inference.

Metrics are pure functions over parsed verdicts (``*_metric.py``); loading data and saved
outputs, running a model and writing reports live in their own modules.
"""
