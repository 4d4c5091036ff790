"""The embedded PostgreSQL and Redis servers start, serve, persist and stop cleanly."""

from __future__ import annotations

import os
import shutil
import signal
import stat
import subprocess
import tempfile
import time
from pathlib import Path

import psycopg
import pytest
import redis

from pkg.runtime import (
    EmbeddedPostgres,
    EmbeddedRedis,
    _accounts,
    ensure_database,
    free_port,
    postgres_server,
    redis_server,
)
from pkg.runtime._accounts import as_account, running_as_root
from pkg.runtime._postgres import postgres_bin_dir
from pkg.runtime.tests._processes import alive, mentioning

pytestmark = pytest.mark.integration


def test_postgres_starts_answers_creates_a_database_and_stops(tmp_path: Path) -> None:
    server = EmbeddedPostgres(tmp_path / "pg", free_port())
    server.start()
    try:
        password = (tmp_path / "pg.password").read_text().strip()
        assert server.url == f"postgresql://postgres:{password}@127.0.0.1:{server.port}/postgres"
        with psycopg.connect(server.url) as conn:
            row = conn.execute("SELECT current_user, version()").fetchone()
        assert row is not None
        assert row[0] == "postgres"
        assert "PostgreSQL 18" in row[1]

        url = ensure_database(server.url, "agora_test")
        assert url == f"postgresql+psycopg://postgres:{password}@127.0.0.1:{server.port}/agora_test"
        assert ensure_database(server.url, "agora_test") == url  # idempotent
        with psycopg.connect(url.replace("+psycopg", "")) as conn:
            assert conn.execute("SELECT current_database()").fetchone() == ("agora_test",)
        pid = server._postmaster_pid()
        assert pid is not None
    finally:
        server.stop()
    assert alive([pid]) == []
    assert mentioning(tmp_path) == []


def test_postgres_keeps_its_data_across_restarts(tmp_path: Path) -> None:
    port = free_port()
    with EmbeddedPostgres(tmp_path / "pg", port) as server:
        with psycopg.connect(server.url, autocommit=True) as conn:
            conn.execute("CREATE TABLE kept (v int)")
            conn.execute("INSERT INTO kept VALUES (42)")
    with (
        EmbeddedPostgres(tmp_path / "pg", free_port()) as server,
        psycopg.connect(server.url) as conn,
    ):
        assert conn.execute("SELECT v FROM kept").fetchone() == (42,)
    assert mentioning(tmp_path) == []


def test_postgres_listens_on_loopback_only(tmp_path: Path) -> None:
    with (
        EmbeddedPostgres(tmp_path / "pg", free_port()) as server,
        psycopg.connect(server.url) as conn,
    ):
        row = conn.execute("SHOW listen_addresses").fetchone()
        assert row == ("127.0.0.1",)


def _mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def test_postgres_refuses_a_connection_without_the_password(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path / "pg", free_port()) as server:
        password_file = tmp_path / "pg.password"
        assert _mode(password_file) == 0o600
        assert len(server.password) >= 32
        plain = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(plain, connect_timeout=5).close()
        wrong = f"postgresql://postgres:guess@127.0.0.1:{server.port}/postgres"
        with pytest.raises(psycopg.OperationalError, match="password authentication failed"):
            psycopg.connect(wrong, connect_timeout=5).close()
        with psycopg.connect(server.url) as conn:
            method = conn.execute(
                "SELECT DISTINCT auth_method FROM pg_hba_file_rules WHERE error IS NULL"
            ).fetchall()
            assert method == [("scram-sha-256",)]
            stored = conn.execute(
                "SELECT rolpassword FROM pg_authid WHERE rolname = 'postgres'"
            ).fetchone()
            assert stored is not None and stored[0].startswith("SCRAM-SHA-256$")
            pid = server._postmaster_pid()
        assert pid is not None
        assert server.password not in (Path("/proc") / str(pid) / "cmdline").read_text()
    assert mentioning(tmp_path) == []


def test_a_trust_cluster_of_an_older_agora_gets_a_password_and_keeps_its_data(
    tmp_path: Path,
) -> None:
    pgdata = tmp_path / "pg"
    old = EmbeddedPostgres(pgdata, free_port())
    pgdata.mkdir(mode=0o700)
    account = old.account
    from pkg.runtime._accounts import hand_over

    hand_over(pgdata, account)
    subprocess.run(
        as_account(
            [
                str(postgres_bin_dir() / "initdb"),
                "-D",
                str(pgdata),
                "-U",
                "postgres",
                "--auth=trust",
                "--no-sync",
                "--no-instructions",
            ],
            account,
        ),
        check=True,
        capture_output=True,
        cwd="/",
    )
    subprocess.run(
        as_account(
            [str(postgres_bin_dir() / "postgres"), "--single", "-D", str(pgdata), "postgres"],
            account,
        ),
        input=b"CREATE TABLE kept (v int);\nINSERT INTO kept VALUES (7);\n",
        check=True,
        capture_output=True,
        cwd="/",
    )
    assert not (tmp_path / "pg.password").exists()

    with EmbeddedPostgres(pgdata, free_port()) as server:
        plain = f"postgresql://postgres@127.0.0.1:{server.port}/postgres"
        with pytest.raises(psycopg.OperationalError, match="password"):
            psycopg.connect(plain, connect_timeout=5).close()
        with psycopg.connect(server.url) as conn:
            assert conn.execute("SELECT v FROM kept").fetchone() == (7,)
    assert "trust" not in (pgdata / "pg_hba.conf").read_text()
    assert EmbeddedPostgres(pgdata, free_port()).secure() is False  # once is enough
    assert mentioning(tmp_path) == []


def test_redis_refuses_commands_before_auth(tmp_path: Path) -> None:
    with EmbeddedRedis(tmp_path / "redis", free_port()) as server:
        assert _mode(tmp_path / "redis.password") == 0o600
        assert _mode(server.config_file) == 0o600
        anonymous = redis.Redis(host="127.0.0.1", port=server.port, socket_timeout=5)
        with pytest.raises(redis.AuthenticationError):
            anonymous.set("role", "admin")
        anonymous.close()
        wrong = redis.Redis(host="127.0.0.1", port=server.port, password="guess", socket_timeout=5)
        with pytest.raises(redis.AuthenticationError):
            wrong.ping()
        wrong.close()
        client = redis.Redis.from_url(server.url)
        assert client.ping()
        info = client.info("server")
        client.close()
        assert info["config_file"] == str(server.config_file)
        assert server.password not in " ".join(server.command())
    assert mentioning(tmp_path) == []


def test_redis_starts_answers_persists_and_stops(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", free_port())
    server.start()
    try:
        password = (tmp_path / "redis.password").read_text().strip()
        assert server.url == f"redis://default:{password}@127.0.0.1:{server.port}/0"
        client = redis.Redis.from_url(server.url)
        client.set("greeting", "hello")
        pid = int(client.info("server")["process_id"])
        assert client.config_get("bind") == {"bind": "127.0.0.1"}
        client.close()
    finally:
        server.stop()
    assert alive([pid]) == []
    assert (tmp_path / "redis" / "dump.rdb").exists()

    with EmbeddedRedis(tmp_path / "redis", free_port()) as again:
        client = redis.Redis.from_url(again.url)
        assert client.get("greeting") == b"hello"
        client.close()
    assert mentioning(tmp_path) == []


def test_redis_killed_with_sigkill_keeps_what_it_acknowledged(tmp_path: Path) -> None:
    server = EmbeddedRedis(tmp_path / "redis", free_port())
    server.start()
    try:
        client = redis.Redis.from_url(server.url)
        client.set("token-family", "kept")
        pid = int(client.info("server")["process_id"])
        client.close()
        time.sleep(1.5)  # past one appendfsync everysec period
        os.kill(pid, signal.SIGKILL)
        server.stop()
        assert alive([pid]) == []

        server.start()
        client = redis.Redis.from_url(server.url)
        assert client.get("token-family") == b"kept"
        assert client.config_get("appendfsync") == {"appendfsync": "everysec"}
        assert client.config_get("save") == {"save": "60 1"}
        client.close()
        assert (tmp_path / "redis" / "appendonly.aof").stat().st_size > 0
    finally:
        server.stop()
    assert mentioning(tmp_path) == []


def test_a_snapshot_only_directory_keeps_its_data_when_append_only_is_switched_on(
    tmp_path: Path,
) -> None:
    with EmbeddedRedis(tmp_path / "redis", free_port(), append_only=False) as old:
        client = redis.Redis.from_url(old.url)
        client.set("token-family", "from an older mesh")
        client.close()
    assert not (tmp_path / "redis" / "appendonly.aof").exists()

    server = EmbeddedRedis(tmp_path / "redis", free_port())
    assert server.convert_snapshot() is True
    assert server.convert_snapshot() is False
    with server:
        client = redis.Redis.from_url(server.url)
        assert client.get("token-family") == b"from an older mesh"
        assert client.config_get("appendonly") == {"appendonly": "yes"}
        client.close()
    assert mentioning(tmp_path) == []


def test_fixtures_start_embedded_servers_when_no_url_is_named(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.delenv("TEST_DATABASE_URL", raising=False)
    monkeypatch.delenv("TEST_REDIS_URL", raising=False)
    with postgres_server(tmp_path / "pg") as pg_url, redis_server(tmp_path / "redis") as r_url:
        with psycopg.connect(pg_url) as conn:
            assert conn.execute("SELECT 1").fetchone() == (1,)
        client = redis.Redis.from_url(r_url)
        assert client.ping()
        client.close()
    assert mentioning(tmp_path) == []


def test_fixtures_use_the_named_servers(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_DATABASE_URL", "postgresql://someone@db.example:5432/postgres")
    monkeypatch.setenv("TEST_REDIS_URL", "redis://cache.example:6379/3")
    with postgres_server(tmp_path / "pg") as pg_url, redis_server(tmp_path / "redis") as r_url:
        assert pg_url == "postgresql://someone@db.example:5432/postgres"
        assert r_url == "redis://cache.example:6379/3"
    assert not (tmp_path / "pg").exists()


def test_ensure_database_refuses_other_schemes() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        ensure_database("mysql://root@127.0.0.1/x", "agora_user")


@pytest.mark.skipif(not running_as_root(), reason="the system-account fallback is for root only")
def test_postgres_as_root_falls_back_to_a_system_account(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(_accounts, "_namespace_account", lambda: None)
    # Outside pytest's basetemp, which pytest resets to 0700 when any session starts.
    base = Path(tempfile.mkdtemp(prefix="agora-fallback-"))
    try:
        with EmbeddedPostgres(base / "pg", free_port()) as server:
            assert server.command()[0].endswith("setpriv")
            with psycopg.connect(server.url) as conn:
                assert conn.execute("SELECT 1").fetchone() == (1,)
            assert (base / "pg" / "PG_VERSION").stat().st_uid != 0
        assert mentioning(base) == []
    finally:
        shutil.rmtree(base, ignore_errors=True)


@pytest.mark.skipif(not running_as_root(), reason="only root needs another identity")
def test_postgres_as_root_leaves_its_files_to_root(tmp_path: Path) -> None:
    with EmbeddedPostgres(tmp_path / "pg", free_port()) as server:
        account = server.account
        assert account is not None
        if not account.namespace:
            pytest.skip("user namespaces are refused here; the setpriv fallback is in use")
        assert (tmp_path / "pg" / "PG_VERSION").stat().st_uid == 0
