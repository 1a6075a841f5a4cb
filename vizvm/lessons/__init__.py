"""Lessons: packs of plain-text lessons, their checks, progress and grading.

Nothing here imports Qt: the window shows lessons, the command line checks
and grades them, and both read the same model.
"""
