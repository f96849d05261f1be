"""From rows to training targets: orientation, retemplating, rendering, judgment and answer checks, curated rows, decontamination, known pairs."""
