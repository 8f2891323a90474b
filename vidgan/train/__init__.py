"""Training: data pipeline, losses and the style-training loop."""
