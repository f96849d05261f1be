"""A run's verdict-accuracy history: ``accuracy.jsonl``, ``accuracy.png`` and the before/after table.

The trainer adds the training batch's verdict accuracy at every logged step and the held-out
(validation) accuracy at step 0 and every ``train.eval_interval`` steps. Each entry is appended
to ``accuracy.jsonl`` as it comes (one line: a long run's history costs O(1) per step), so a
resumed run continues it: entries past the step it resumed from (steps the killed attempt ran
after its last checkpoint) are dropped and run again.
"""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from pathlib import Path

from cj2.utils.atomic import atomic_write_text

HISTORY_FILE = "accuracy.jsonl"
PLOT_FILE = "accuracy.png"


@dataclass
class AccuracyHistory:
    path: Path
    train: list[tuple[int, float]] = field(default_factory=list)  # (step, batch verdict accuracy)
    valid: list[tuple[int, float]] = field(default_factory=list)  # (step, held-out verdict accuracy)
    write: bool = True  # only global rank 0 writes

    @classmethod
    def resume(cls, run_dir: Path, step: int, write: bool = True) -> AccuracyHistory:
        """The history of ``run_dir`` up to ``step`` (empty for a run starting at step 0)."""
        path = Path(run_dir) / HISTORY_FILE
        history = cls(path, write=write)
        if step > 0 and path.is_file():
            for line in path.read_text().splitlines():
                entry = json.loads(line)
                if entry["step"] <= step:
                    getattr(history, entry["split"]).append((entry["step"], entry["accuracy"]))
        if write:  # what is kept, and nothing of an earlier run when starting at step 0
            atomic_write_text(path, "".join(_line(split, s, a) for split in ("train", "valid") for s, a in getattr(history, split)))
        return history

    def add_train(self, step: int, accuracy: float) -> None:
        self._add("train", step, accuracy)

    def add_valid(self, step: int, accuracy: float) -> None:
        self._add("valid", step, accuracy)

    def _add(self, split: str, step: int, accuracy: float) -> None:
        if math.isnan(accuracy):  # a batch without verdicts
            return
        getattr(self, split).append((step, accuracy))
        if self.write:
            with open(self.path, "a", encoding="utf-8") as f:
                f.write(_line(split, step, accuracy))

    def before_after(self) -> dict | None:
        """Held-out accuracy at the first and last validation (None without two of them)."""
        if len(self.valid) < 2:
            return None
        (first_step, before), (last_step, after) = self.valid[0], self.valid[-1]
        return {"before_step": first_step, "before": before, "after_step": last_step, "after": after}

    def plot(self, out: Path, title: str) -> Path | None:
        """Training (each logged batch and a running mean) and held-out verdict accuracy over steps."""
        if not self.train and not self.valid:
            return None
        import matplotlib

        matplotlib.use("Agg")  # no display on a compute node
        import matplotlib.pyplot as plt

        fig, ax = plt.subplots(figsize=(7, 4))
        if self.train:
            steps, accuracy = zip(*self.train, strict=True)
            ax.plot(steps, accuracy, color="tab:blue", alpha=0.25, linewidth=1, label="training batch")
            ax.plot(steps, _running_mean(steps, accuracy, 10), color="tab:blue", label="training (mean over 10 steps)")
        if self.valid:
            steps, accuracy = zip(*self.valid, strict=True)
            ax.plot(steps, accuracy, color="tab:orange", marker="o", label="held-out")
        ax.axhline(0.5, color="grey", linestyle=":", linewidth=1, label="chance (positions balanced)")
        ax.set(xlabel="step", ylabel="verdict accuracy", ylim=(-0.02, 1.02), title=title)
        ax.grid(alpha=0.3)
        ax.legend(loc="lower right", fontsize="small")
        fig.tight_layout()
        fig.savefig(out, dpi=100)
        plt.close(fig)
        return out


def _line(split: str, step: int, accuracy: float) -> str:
    return json.dumps({"split": split, "step": step, "accuracy": accuracy}) + "\n"


def _running_mean(steps, values, window: int) -> list[float]:
    """At each entry, the mean of the entries of the last ``window`` steps (whatever the log interval)."""
    out, start = [], 0
    for i, step in enumerate(steps):
        while steps[start] <= step - window:
            start += 1
        out.append(sum(values[start : i + 1]) / (i + 1 - start))
    return out


def print_before_after(console, change: dict, pairs: int, majority_share: float | None) -> None:
    """The held-out verdict accuracy before and after training, as a table."""
    from rich.table import Table

    table = Table(title=f"held-out verdict accuracy ({pairs} pairs)")
    table.add_column("")
    table.add_column(f"step {change['before_step']} (before)", justify="right")
    table.add_column(f"step {change['after_step']} (after)", justify="right")
    row = [f"{change['before']:.1%}", f"{change['after']:.1%}"]
    table.add_row("judge", *row)
    if majority_share is not None:
        table.add_row("always the more frequent position", f"{majority_share:.1%}", f"{majority_share:.1%}")
    console.print(table)


def label_balance(valid, rows: list[int]) -> tuple[int, float | None]:
    """How many held-out verdicts ``rows`` of ``valid`` (a PackedDataset) hold, and the share of the
    most frequent verdict token: what a judge that always names the same position would score."""
    import numpy as np

    samples = valid.samples
    used = np.isin(samples["row"], rows) & (samples["verdict"] >= 0)
    labels = samples["label"][used]
    if not len(labels):
        return 0, None
    return int(len(labels)), float(np.unique(labels, return_counts=True)[1].max() / len(labels))
