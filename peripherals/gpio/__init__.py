"""MT3620 IO-core gpio models."""
