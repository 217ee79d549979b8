"""JupyterHub configuration of the course (started by ``./run hub``; settings in hubsetup.py).

* Every hub user is a system account; ``LocalProcessSpawner`` starts their
  JupyterLab as that account from the course's ``.venv``, in their home.
* Instructors and students get different Jupyter configuration folders
  (``instructor/``, ``student/`` beside this file, put on ``JUPYTER_CONFIG_PATH``):
  the formgrader and the course folder for the instructor; the assignment list,
  validate and the exchange for students, with the formgrader switched off and
  their own ``~/.jupyter`` ignored.
* Authentication: ``AUTODIFF_HUB_AUTH=test`` is JupyterHub's
  SharedPasswordAuthenticator: the listed accounts, one password (tests and demos only); ``pam`` is the machine's accounts.
  docs/deploy.md shows OAuth and LTI: only the authenticator lines change.
"""
import sys
from pathlib import Path

HERE = Path(__file__).resolve().parent
sys.path.insert(0, str(HERE))
import hubsetup  # noqa: E402

c = get_config()  # noqa: F821
s = hubsetup.Settings.from_env()

# --- where the hub listens: everything on loopback unless AUTODIFF_HUB_IP says otherwise
c.JupyterHub.bind_url = f"http://{s.ip}:{s.port}"
c.JupyterHub.hub_ip = "127.0.0.1"
c.JupyterHub.hub_port = s.port + 1
c.ConfigurableHTTPProxy.api_url = f"http://127.0.0.1:{s.port + 2}"
c.ConfigurableHTTPProxy.command = [str(HERE / "node_modules" / ".bin" / "configurable-http-proxy")]
c.ConfigurableHTTPProxy.pid_file = str(s.state / "jupyterhub-proxy.pid")
c.JupyterHub.db_url = f"sqlite:///{s.state / 'jupyterhub.sqlite'}"
c.JupyterHub.cookie_secret_file = str(s.state / "jupyterhub_cookie_secret")
c.JupyterHub.cleanup_servers = True  # stopping the hub stops every user's server
if s.subdomains:
    # Each user's server on its own origin (alice.localhost:8000): one user's pages can never
    # script or frame another's, so the instructor's server may allow frames from itself,
    # which is what the formgrader needs inside JupyterLab (see instructor/).
    c.JupyterHub.subdomain_host = s.public_url

# --- who may log in
c.Authenticator.allowed_users = set(s.instructors + s.students)
if s.auth == "test":
    c.JupyterHub.authenticator_class = "shared-password"
    c.SharedPasswordAuthenticator.user_password = hubsetup.password(s)
else:
    c.JupyterHub.authenticator_class = "pam"

# An admin service for scripted use (the tests create users' tokens with it); only when asked.
if s.api_token:
    c.JupyterHub.services = [{"name": "course-admin", "api_token": s.api_token}]
    c.JupyterHub.load_roles = [{"name": "course-admin", "services": ["course-admin"],
                                "scopes": ["admin:users", "admin:servers", "tokens", "list:users"]}]

# --- each user's server: the course's environment, as the user's system account, in their home
c.JupyterHub.spawner_class = "localprocess"
c.Spawner.cmd = [str(hubsetup.VENV / "bin" / "jupyterhub-singleuser")]
c.Spawner.default_url = "/lab"
c.Spawner.notebook_dir = "~"
c.Spawner.start_timeout = 180  # a loaded machine starts JupyterLab slowly
c.Spawner.http_timeout = 180
c.Spawner.env_keep = ["PATH", "LANG", "LC_ALL", "VIRTUAL_ENV", "JUPYTERHUB_SINGLEUSER_APP"]


def role_environment(spawner) -> None:
    """Give a server its role's Jupyter configuration folder and the course's locations."""
    instructor = spawner.user.name in s.instructors
    env = {"JUPYTER_CONFIG_PATH": str(HERE / ("instructor" if instructor else "student")),
           "NBGRADER_EXCHANGE": str(s.exchange), "AUTODIFF_COURSE_ID": s.course_id,
           "AUTODIFF_HUB_SUBDOMAINS": "1" if s.subdomains else "0",
           "AUTODIFF_CHECKOUT": str(hubsetup.CHECKOUT), "MPLBACKEND": "module://matplotlib_inline.backend_inline"}
    if instructor:
        env["AUTODIFF_COURSE_ROOT"] = str(s.course)
    spawner.environment = {**spawner.environment, **env}
    # a student's own ~/.jupyter cannot switch the formgrader back on
    spawner.disable_user_config = not instructor


c.Spawner.pre_spawn_hook = role_environment
