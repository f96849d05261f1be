"""Data: loaders, records, templates, curation, synthesis, mixtures, tokenization, packing."""
