"""Typed events of a run and where they are kept."""
