"""Deciding: multiplicity, equivalence tests, the verdict rule and headline, the whole-system
ledger and the evidence level, from the fits of the estimate step."""
