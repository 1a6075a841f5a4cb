"""Running guests under techniques: one run, a comparison, a classification."""
