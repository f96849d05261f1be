"""What an evaluation shows: terminal and Markdown tables, plots, side-by-side comparison, W&B."""
