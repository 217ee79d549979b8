# The instructor's server on the course's hub.
#
# JupyterHub 4.1+ sends "Content-Security-Policy: frame-ancestors 'none'" from every user's
# server, so the formgrader, which JupyterLab shows in an iframe of the same server, is a
# blank panel (nbgrader issue #1870). With one origin per user (JupyterHub subdomains, on by
# default here) "frame-ancestors 'self'" lets only the instructor's own pages frame it. On a
# hub without subdomains 'self' would be every user's server, so it stays 'none' there and
# the formgrader opens in its own tab (/user/<instructor>/formgrader).
import os

c = get_config()  # noqa: F821
if os.environ.get("AUTODIFF_HUB_SUBDOMAINS") == "1":
    c.ServerApp.tornado_settings = {"headers": {"Content-Security-Policy": "frame-ancestors 'self'"}}
# JupyterLab's app object on window.jupyterapp: the browser tests (tests/hub/) drive the lab with it.
c.LabApp.expose_app_in_browser = True
