"""MT3620 IO-core board models."""
