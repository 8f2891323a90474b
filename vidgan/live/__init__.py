"""Cameras without OBS: a camera (or a file standing in for one) through the live pipeline."""
