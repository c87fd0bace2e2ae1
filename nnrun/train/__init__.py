"""Training: the loop, evaluation, prediction and run directories."""
