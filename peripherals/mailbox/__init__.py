"""MT3620 IO-core mailbox models."""
