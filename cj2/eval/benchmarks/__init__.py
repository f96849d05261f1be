"""One home per benchmark, each exposing one registered object (cj2.eval.registry); no benchmark imports another."""
