"""MT3620 IO-core uart models."""
