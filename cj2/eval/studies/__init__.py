"""Studies built on evaluation (loss ablation table, prompt robustness, critique-guided revision); evaluation never imports them."""
