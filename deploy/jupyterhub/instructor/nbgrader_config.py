# The instructor's nbgrader settings on the course's hub (JUPYTER_CONFIG_PATH, set by
# jupyterhub_config.py): the course's own settings, its folder on the hub and the exchange.
import os

c = get_config()  # noqa: F821
load_subconfig(os.path.join(os.environ["AUTODIFF_CHECKOUT"], "autograder", "nbgrader_config.py"))  # noqa: F821
c.CourseDirectory.root = os.environ["AUTODIFF_COURSE_ROOT"]
c.CourseDirectory.course_id = os.environ.get("AUTODIFF_COURSE_ID", "autodiff")
c.Exchange.root = os.environ["NBGRADER_EXCHANGE"]
