"""Analyses that explain published design choices (e.g. the MobileNet v2 ReLU-collapse experiment)."""
