"""The hidden checks: seeded random inputs and anti-hard-coding, one module per notebook.

Not part of the student's copy of the course (the ``course`` package never imports
it and the release never mentions it). Source notebooks call it only between
``### BEGIN HIDDEN TESTS`` and ``### END HIDDEN TESTS``. It is importable when
``autograder/hidden`` is on ``sys.path``: ``./run`` puts it there for the
instructor's commands, the project's tests do too, and the grading sandbox binds
it read-only for the kernel.
"""
