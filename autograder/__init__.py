"""Instructor tooling: release generation and checks, and the grading pipeline.

Run as ``./run grade <command>`` (or ``python -m autograder <command>``).
"""
