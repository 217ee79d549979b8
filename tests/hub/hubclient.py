"""Drive the course's hub from a test: start ``./run hub`` on loopback, talk to the hub's REST
API and to each user's server (through the proxy, as that user, with their own token), run
code in a user's kernel, and stop everything that was started."""
from __future__ import annotations

import asyncio
import json
import os
import signal
import socket
import subprocess
import sys
import time
import uuid
from dataclasses import dataclass, field
from pathlib import Path

import requests

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT / "deploy" / "jupyterhub"))
import hubsetup  # noqa: E402

ADMIN = "course-admin"


def free_port_block(n: int = 3) -> int:
    """A port p with p .. p+n-1 all free on loopback (the hub uses three)."""
    for _ in range(200):
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            p = s.getsockname()[1]
        if p + n > 65535:
            continue
        ok = True
        for q in range(p, p + n):
            with socket.socket() as s:
                try:
                    s.bind(("127.0.0.1", q))
                except OSError:
                    ok = False
                    break
        if ok:
            return p
    raise RuntimeError("no block of free ports on loopback")


@dataclass
class Hub:
    """A running hub started by :meth:`start`; :meth:`stop` ends it and every server it spawned."""

    settings: hubsetup.Settings
    proc: subprocess.Popen
    admin_token: str
    password: str
    log: Path
    started_in: float = 0.0  #: seconds from ``./run hub`` to the hub API answering
    tokens: dict[str, str] = field(default_factory=dict)

    # --- lifecycle
    @classmethod
    def start(cls, state: Path, instructor: str, students: tuple[str, ...], timeout: float = 180) -> "Hub":
        port = free_port_block()
        token, password = uuid.uuid4().hex, uuid.uuid4().hex[:12]
        env = {**os.environ, "AUTODIFF_HUB_STATE": str(state), "AUTODIFF_HUB_PORT": str(port),
               "AUTODIFF_HUB_INSTRUCTORS": instructor, "AUTODIFF_HUB_STUDENTS": ",".join(students),
               "AUTODIFF_HUB_AUTH": "test", "AUTODIFF_HUB_PASSWORD": password,
               "AUTODIFF_HUB_API_TOKEN": token, "AUTODIFF_HUB_SUBDOMAINS": "1",
               "COURSE_CHECK_SALT": uuid.uuid4().hex}  # an instructor's secret no user may see
        log = state.parent / f"{state.name}.log"
        t0 = time.monotonic()
        proc = subprocess.Popen([str(ROOT / "run"), "hub"], env=env, cwd=ROOT, stdout=log.open("w"),
                                stderr=subprocess.STDOUT, start_new_session=True)
        hub = cls(hubsetup.Settings.from_env(env), proc, token, password, log)
        while True:
            try:
                if requests.get(f"{hub.url}/hub/api/", timeout=2).status_code == 200:
                    break
            except requests.RequestException:
                pass
            if proc.poll() is not None or time.monotonic() - t0 > timeout:
                hub.stop()
                raise RuntimeError("the hub did not start:\n" + log.read_text()[-4000:])
            time.sleep(0.2)
        hub.started_in = time.monotonic() - t0
        return hub

    def stop(self, timeout: float = 60) -> None:
        """SIGTERM to the hub (it stops every user's server and its proxy), then make sure."""
        if self.proc.poll() is None:
            os.killpg(self.proc.pid, signal.SIGTERM)
            try:
                self.proc.wait(timeout=timeout)
            except subprocess.TimeoutExpired:
                os.killpg(self.proc.pid, signal.SIGKILL)
                self.proc.wait(timeout=10)
        # servers run as the test's own accounts: end any left, by id
        users = (self.settings.instructor, *self.settings.students)
        for pid in _pids_of(users):
            try:
                os.kill(pid, signal.SIGKILL)
            except ProcessLookupError:
                pass

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.settings.port}"

    # --- the hub's REST API
    def api(self, method: str, path: str, token: str | None = None, **kw) -> requests.Response:
        headers = {"Authorization": f"token {token or self.admin_token}", **kw.pop("headers", {})}
        return requests.request(method, f"{self.url}/hub/api{path}", headers=headers, timeout=60, **kw)

    def token(self, user: str) -> str:
        """A token of ``user``'s own (made through the admin service, with the user's rights)."""
        if user not in self.tokens:
            r = self.api("POST", f"/users/{user}/tokens", json={"note": "course tests"})
            r.raise_for_status()
            self.tokens[user] = r.json()["token"]
        return self.tokens[user]

    def spawn(self, users, timeout: float = 240) -> float:
        """Start the users' servers (each with their own token, in parallel); return the seconds."""
        t0 = time.monotonic()
        for u in users:
            r = self.api("POST", f"/users/{u}/server", token=self.token(u))
            assert r.status_code in (201, 202, 400), r.text  # 400: already running
        pending = set(users)
        while pending:
            for u in list(pending):
                srv = self.api("GET", f"/users/{u}", token=self.token(u)).json()["servers"].get("", {})
                if srv.get("ready"):
                    pending.discard(u)
            if pending and time.monotonic() - t0 > timeout:
                raise RuntimeError(f"servers of {sorted(pending)} not ready:\n" + self.log.read_text()[-4000:])
            time.sleep(0.5)
        return time.monotonic() - t0

    # --- a user's server, through the proxy, on the user's own origin
    def server(self, method: str, user: str, path: str, as_user: str | None = None,
               **kw) -> requests.Response:
        """``method /user/<user>/<path>`` with ``as_user``'s token (default: ``user``'s own)."""
        who = as_user or user
        headers = {"Host": self.settings.user_host(user), "Authorization": f"token {self.token(who)}",
                   **kw.pop("headers", {})}
        return requests.request(method, f"{self.url}/user/{user}/{path.lstrip('/')}", headers=headers,
                                timeout=kw.pop("timeout", 300), allow_redirects=False, **kw)

    def run_code(self, user: str, code: str, timeout: float = 120) -> str:
        """Run ``code`` in a new kernel of ``user``'s server; return what it printed."""
        r = self.server("POST", user, "api/kernels", json={"name": "python3"})
        r.raise_for_status()
        kid = r.json()["id"]
        try:
            return asyncio.run(self._execute(user, kid, code, timeout))
        finally:
            self.server("DELETE", user, f"api/kernels/{kid}")

    async def _execute(self, user: str, kid: str, code: str, timeout: float) -> str:
        from tornado.httpclient import HTTPRequest
        from tornado.websocket import websocket_connect
        req = HTTPRequest(f"ws://127.0.0.1:{self.settings.port}/user/{user}/api/kernels/{kid}/channels",
                          headers={"Host": self.settings.user_host(user),
                                   "Authorization": f"token {self.token(user)}"})
        ws = await asyncio.wait_for(websocket_connect(req), 60)
        msg_id, out = uuid.uuid4().hex, []
        ws.write_message(json.dumps({
            "header": {"msg_id": msg_id, "msg_type": "execute_request", "username": user,
                       "session": uuid.uuid4().hex, "date": "", "version": "5.3"},
            "parent_header": {}, "metadata": {}, "channel": "shell", "buffers": [],
            "content": {"code": code, "silent": False, "store_history": False, "user_expressions": {},
                        "allow_stdin": False, "stop_on_error": True}}))
        deadline = time.monotonic() + timeout
        while True:
            raw = await asyncio.wait_for(ws.read_message(), max(1.0, deadline - time.monotonic()))
            if raw is None:
                raise RuntimeError("the kernel's websocket closed")
            m = json.loads(raw)
            if m.get("parent_header", {}).get("msg_id") != msg_id:
                continue
            t = m["header"]["msg_type"]
            if t == "stream":
                out.append(m["content"]["text"])
            elif t == "error":
                raise RuntimeError("\n".join(m["content"]["traceback"]))
            elif t == "status" and m["content"]["execution_state"] == "idle":
                ws.close()
                return "".join(out)


def _pids_of(users) -> list[int]:
    import pwd
    uids = set()
    for u in users:
        try:
            uids.add(pwd.getpwnam(u).pw_uid)
        except KeyError:
            pass
    pids = []
    for d in Path("/proc").iterdir():
        if d.name.isdigit():
            try:
                if d.stat().st_uid in uids:
                    pids.append(int(d.name))
            except OSError:
                pass
    return pids
