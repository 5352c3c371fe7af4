"""MT3620 IO-core clock models."""
