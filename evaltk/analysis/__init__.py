"""`evaltk run`: the straight line through the steps (protocol, registration, linkage,
measures, estimate, verdict), assembling the AnalysisResult and writing ANALYSIS/results/."""
