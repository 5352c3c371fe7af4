"""MT3620 IO-core timers models."""
