"""nbgrader configuration of the course.

Loaded by ../nbgrader_config.py, so every nbgrader command run from the
checkout (``nbgrader generate_assignment 01_numerical_slopes``, the formgrader
in JupyterLab) finds the course with no extra flags.
"""
import os

from course import tools_on_path

c = get_config()  # noqa: F821  (nbgrader provides get_config)

ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))

# nbgrader runs `alembic` by name when it creates a gradebook; an nbgrader run
# as .venv/bin/nbgrader without an activated shell would not find it.
tools_on_path()

c.CourseDirectory.course_id = "autodiff"
c.CourseDirectory.root = ROOT
c.CourseDirectory.source_directory = "source"
c.CourseDirectory.release_directory = "release"
# Only notebooks are released; data files are generated in code.
c.CourseDirectory.ignore = [".ipynb_checkpoints", "*.pyc", "__pycache__", "feedback"]

# What students see in place of a solution.
c.ClearSolutions.code_stub = {
    "python": (
        "# YOUR CODE HERE\n"
        "raise NotImplementedError(\"Not written yet: replace this line with your code, "
        "then run this cell and the test cells below it.\")"
    )
}
c.ClearSolutions.text_stub = "YOUR ANSWER HERE"

# A student who deletes a test cell or strips its metadata still gets it back.
c.OverwriteCells.add_missing_cells = True

# Per-cell limit while autograding (the grading tool adds a per-submission one).
c.Execute.timeout = 120
c.Execute.interrupt_on_timeout = True

# Harmless warnings on stderr must not zero a correct test.
c.IgnorePattern.enabled = True
c.IgnorePattern.pattern = (
    r"(?:Warning|DeprecationWarning|RuntimeWarning|UserWarning|FutureWarning)"
    r"|Matplotlib is building the font cache"
)
