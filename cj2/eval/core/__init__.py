"""Shared types and pure metrics of evaluation; imports nothing else of cj2.eval."""
