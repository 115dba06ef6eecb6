"""Results: the versioned results.json contract."""
