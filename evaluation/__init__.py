"""Golden-set evaluation: load the golden set, run a candidate GGUF, score, gate."""
