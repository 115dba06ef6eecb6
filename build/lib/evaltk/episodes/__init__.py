"""Episode-level data: one row per mental-health incident, in canonical field names."""
