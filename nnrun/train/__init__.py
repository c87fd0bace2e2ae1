"""Training: the loop, metrics, and run directories."""
