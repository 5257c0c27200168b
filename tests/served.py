"""A served instance of the product: a fresh database and gunicorn in separate processes.

What a city runs in production, with DEBUG off: several worker processes, each
with its own database connections, so concurrent clients race for real. The
database is made for the instance (SpatiaLite: a file; PostGIS: a database next
to the test database) and dropped afterwards. Used by the concurrency tests and
by bench/bench_concurrent_writers.py.
"""

import os
import socket
import subprocess
import sys
import time
import uuid
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import psycopg
import requests

PROJECT_DIR = Path(__file__).resolve().parent.parent
PASSWORD = "pw-for-served-1"

# Logins made in the served database: (username, role, department code).
PEOPLE_SCRIPT = """
from governance import services
from governance.models import Department, Region, Role
district, _ = Region.objects.get_or_create(code="330211", defaults={"name": "示范区", "level": "district"})
street, _ = Region.objects.get_or_create(code="330211001", defaults={"name": "东湖街道", "level": "street",
                                                                     "parent": district})
for username, role, department in PEOPLE:
    services.staff_upsert(username=username, role=Role(role), password=PASSWORD, region=street,
                          department=Department.objects.get(code=department) if department else None)
"""


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return probe.getsockname()[1]


class ServedInstance:
    """`with ServedInstance(database_url, people) as served:` … `served.session("name")`."""

    def __init__(self, database_url: str, people, *, workers: int = 4, threads: int = 2, workdir: Path):
        self.source_url, self.people, self.workdir = database_url, people, workdir
        self.workers, self.threads = workers, threads
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.database_url = self._fresh_database_url()
        self.process = None

    # --- the database -----------------------------------------------------------------

    def _fresh_database_url(self) -> str:
        if self.source_url.startswith("spatialite://"):
            return f"spatialite:///{self.workdir / 'served.sqlite3'}"
        parts = urlsplit(self.source_url)
        self.pg_name = f"served_{uuid.uuid4().hex[:8]}"
        return urlunsplit(parts._replace(path=f"/{self.pg_name}"))

    def _pg_admin(self):
        parts = urlsplit(self.source_url)
        return psycopg.connect(
            host=parts.hostname, port=parts.port or 5432, user=parts.username, password=parts.password,
            dbname="postgres", autocommit=True,
        )  # fmt: skip

    def _create_database(self) -> None:
        if not self.database_url.startswith("postgis://"):
            return
        with self._pg_admin() as admin:
            admin.execute(f'CREATE DATABASE "{self.pg_name}"')
        with psycopg.connect(self.database_url.replace("postgis://", "postgresql://"), autocommit=True) as db:
            db.execute("CREATE EXTENSION IF NOT EXISTS postgis")

    def _drop_database(self) -> None:
        if not self.database_url.startswith("postgis://"):
            return
        with self._pg_admin() as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{self.pg_name}" WITH (FORCE)')

    # --- the processes ----------------------------------------------------------------

    def env(self) -> dict:
        return os.environ | {
            "DATABASE_URL": self.database_url, "DEBUG": "0", "SECRET_KEY": "served-instance-test-key",
            "ALLOWED_HOSTS": "127.0.0.1", "SESSION_COOKIE_SECURE": "0", "CSRF_COOKIE_SECURE": "0",
            "SECURE_SSL_REDIRECT": "0", "VAR_DIR": str(self.workdir), "LOG_LEVEL": "WARNING",
        }  # fmt: skip

    def manage(self, *args: str, stdin: str | None = None) -> None:
        subprocess.run([sys.executable, "manage.py", *args], cwd=PROJECT_DIR, env=self.env(), input=stdin,
                       text=True, check=True, capture_output=True)  # fmt: skip

    def __enter__(self):
        self._create_database()
        try:
            self.manage("migrate", "--no-input", "-v", "0")
            script = f"PEOPLE = {list(self.people)!r}\nPASSWORD = {PASSWORD!r}\n{PEOPLE_SCRIPT}"
            self.manage("shell", "--no-imports", "-c", script)
            self.log = open(self.workdir / "gunicorn.log", "wb")  # noqa: SIM115 - closed in __exit__
            self.process = subprocess.Popen(
                [sys.executable, "-m", "gunicorn", "governance.wsgi", "--bind", f"127.0.0.1:{self.port}",
                 "--workers", str(self.workers), "--threads", str(self.threads), "--timeout", "120",
                 # gthread closes a kept-alive connection idle past --keep-alive (2 s) in its poll loop; a
                 # worker whose threads keep the GIL busy can run that loop late and close a connection
                 # whose next request already arrived (the client sees a reset). A proxy in front keeps
                 # connections open longer than this in production.
                 "--keep-alive", "30"],
                cwd=PROJECT_DIR, env=self.env(), stdout=self.log, stderr=subprocess.STDOUT,
            )  # fmt: skip
            self._wait_until_up()
        except BaseException:
            self.__exit__(None, None, None)
            raise
        return self

    def _wait_until_up(self, timeout: float = 60) -> None:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                raise RuntimeError("gunicorn exited:\n" + self.log_text())
            try:
                requests.get(self.url + "/login/", timeout=10)
                return
            except (requests.ConnectionError, requests.Timeout):
                time.sleep(0.2)
        raise RuntimeError("gunicorn did not answer in time:\n" + self.log_text())

    def log_text(self) -> str:
        return (self.workdir / "gunicorn.log").read_text(errors="replace")

    def __exit__(self, *exc):
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=20)
            except subprocess.TimeoutExpired:
                self.process.kill()
        if getattr(self, "log", None):
            self.log.close()
        self._drop_database()

    # --- clients ------------------------------------------------------------------------

    def session(self, username: str) -> requests.Session:
        """A logged-in client, as a browser or an API client with a session holds it."""
        client = requests.Session()
        client.get(self.url + "/login/", timeout=30)
        answer = client.post(
            self.url + "/login/",
            data={"username": username, "password": PASSWORD, "csrfmiddlewaretoken": client.cookies["csrftoken"]},
            headers={"Referer": self.url + "/login/"},
            timeout=30,
            allow_redirects=False,
        )
        assert answer.status_code == 302, f"{username} could not log in: {answer.status_code}"
        client.headers.update({"X-CSRFToken": client.cookies["csrftoken"], "Referer": self.url + "/"})
        return client
