# A student's nbgrader settings on the course's hub (JUPYTER_CONFIG_PATH, set by jupyterhub_config.py):
# the course and the exchange only. Students never see the course folder.
import os

c = get_config()  # noqa: F821
c.CourseDirectory.course_id = os.environ.get("AUTODIFF_COURSE_ID", "autodiff")
c.Exchange.root = os.environ["NBGRADER_EXCHANGE"]
