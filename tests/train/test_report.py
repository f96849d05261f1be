"""The verdict-accuracy history a run keeps across resumes, its before/after numbers and its plot."""

from __future__ import annotations

import json

import numpy as np

from cj2.train.report import AccuracyHistory, _running_mean, label_balance


def test_a_resumed_history_drops_the_steps_after_its_checkpoint_and_continues(tmp_path):
    """Catches: a resume that keeps the killed attempt's entries after the checkpoint (the steps
    are run again, so they would appear twice), a fresh run that inherits an old history, NaN
    accuracies (batches without verdicts) written as points, before/after taken from the wrong ends."""
    killed = AccuracyHistory.resume(tmp_path, 0)
    killed.add_valid(0, 0.0)
    for step, accuracy in [(1, 0.25), (2, float("nan")), (3, 0.5), (4, 0.75), (5, 0.5)]:
        killed.add_train(step, accuracy)
    killed.add_valid(5, 0.5)

    resumed = AccuracyHistory.resume(tmp_path, 4)  # the newest checkpoint was step 4
    assert resumed.train == [(1, 0.25), (3, 0.5), (4, 0.75)] and resumed.valid == [(0, 0.0)]
    resumed.add_train(5, 1.0)
    resumed.add_valid(5, 0.875)
    saved = [json.loads(line) for line in (tmp_path / "accuracy.jsonl").read_text().splitlines()]
    assert sorted((e["split"], e["step"], e["accuracy"]) for e in saved) == [
        ("train", 1, 0.25), ("train", 3, 0.5), ("train", 4, 0.75), ("train", 5, 1.0), ("valid", 0, 0.0), ("valid", 5, 0.875)]
    assert resumed.before_after() == {"before_step": 0, "before": 0.0, "after_step": 5, "after": 0.875}

    fresh = AccuracyHistory.resume(tmp_path, 0)  # a fresh run in the same dir starts over
    assert fresh.train == [] and fresh.valid == [] and (tmp_path / "accuracy.jsonl").read_text() == ""
    assert resumed.plot(tmp_path / "accuracy.png", "t").read_bytes()[:4] == b"\x89PNG"


def test_position_baseline_counts_only_the_verdicts_of_the_validated_rows():
    """Catches: counting SFT-only samples (verdict -1) or rows the validation leaves out."""

    class Valid:  # the fields of a PackedDataset that label_balance reads
        samples = {"row": np.array([0, 0, 1, 2, 3]), "verdict": np.array([5, -1, 7, 9, 4]),
                   "label": np.array([32, 32, 33, 32, 33])}

    assert label_balance(Valid, [0, 1, 2]) == (3, 2 / 3)
    assert label_balance(Valid, [1]) == (1, 1.0)
    assert label_balance(Valid, []) == (0, None)


def test_the_plotted_training_mean_spans_ten_steps_whatever_the_log_interval():
    """Catches: a window of ten logged entries (fifty steps at log_interval 5: the curve lags the run)."""
    assert _running_mean([5, 10, 15, 20], [0.0, 1.0, 1.0, 0.0], 10) == [0.0, 0.5, 1.0, 0.5]
    assert _running_mean(list(range(1, 13)), [0.0] * 10 + [1.0, 1.0], 10)[-2:] == [0.1, 0.2]
