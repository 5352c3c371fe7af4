"""MT3620 IO-core watchdog models."""
