"""MT3620 IO-core dma models."""
