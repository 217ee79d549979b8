# A student's server on the course's hub: the assignment list and validate, no grading tools.
# (What keeps a student out of the course is the file system: the course folder is the
# instructor's, mode 0700. This only keeps the grading tools out of the student's menus.)
c = get_config()  # noqa: F821
c.ServerApp.jpserver_extensions = {
    "nbgrader.server_extensions.formgrader": False,
    "nbgrader.server_extensions.course_list": False,
}
# JupyterLab's app object on window.jupyterapp: the browser tests (tests/hub/) drive the lab with it.
c.LabApp.expose_app_in_browser = True
