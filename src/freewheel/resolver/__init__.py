"""Dependency resolution: the PubGrub core and the providers that feed it."""
