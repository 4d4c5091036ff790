"""The generated supervisord.conf is what supervisord itself reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from supervisor.options import ServerOptions

from pkg.runtime import (
    MeshLayout,
    MeshPlan,
    MeshPorts,
    program_environment,
    render_supervisord_conf,
)


def _ports(workers: dict[str, int] | None = None) -> MeshPorts:
    free = iter(range(61000, 61100))
    return MeshPorts.derive(
        edge=42443,
        port_base=42000,
        pick_free=lambda: next(free),
        workers=workers or {"auth": 1, "user": 1},
    )


def _read_back(layout: MeshLayout, plan: MeshPlan) -> dict[str, Any]:
    layout.logs.mkdir(parents=True, exist_ok=True)
    layout.supervisord_conf.write_text(render_supervisord_conf(layout, plan.programs()))
    options = ServerOptions()
    options.realize(args=["-c", str(layout.supervisord_conf)])
    return {
        config.name: config
        for group in options.process_group_configs
        for config in group.process_configs
    }


def test_programs_start_in_order_with_their_commands(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(layout=layout, ports=_ports())
    programs = _read_back(layout, plan)

    assert [(name, c.priority) for name, c in programs.items()] == [
        ("certs", 10),
        ("postgres", 10),
        ("redis", 10),
        ("migrate-user", 20),
        ("auth-1", 30),
        ("user-1", 30),
        ("edge", 40),
    ]
    assert programs["migrate-user"].command.endswith("-m services.user migrate")
    assert programs["auth-1"].command.endswith("-m services.auth")
    assert f"-c {layout.envoy_config} --base-id {layout.envoy_base_id}" in programs["edge"].command
    assert f"-D {layout.postgres} -h 127.0.0.1 -p 61001" in programs["postgres"].command
    assert "--port 61002" in programs["redis"].command
    assert programs["redis"].command.split()[1] == str(layout.secrets / "redis.conf")
    assert all(c.umask == 0o077 for c in programs.values())
    assert all(not c.autostart for c in programs.values())
    assert all(c.killasgroup for c in programs.values())
    assert not programs["postgres"].stopasgroup
    assert programs["auth-1"].stdout_logfile == str(layout.out("auth-1"))
    assert programs["auth-1"].environment["AGORA_LOG_FILE"] == str(layout.log("auth-1"))
    assert programs["user-1"].environment["AGORA_LOG_FILE"] == str(layout.log("user-1"))
    assert programs["migrate-user"].stdout_logfile == str(layout.log("migrate-user"))
    assert programs["edge"].stdout_logfile == str(layout.log("edge"))
    assert programs["migrate-user"].autorestart is False


def test_service_environment_follows_the_architecture(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(layout=layout, ports=_ports(), log_level="DEBUG")
    programs = _read_back(layout, plan)
    user, auth = programs["user-1"].environment, programs["auth-1"].environment

    assert json.loads(user["AGORA_ENDPOINTS"]) == {
        "auth": "ipv4:127.0.0.1:42001",
        "user": "ipv4:127.0.0.1:42002",
    }
    assert user["AGORA_CERT_DIR"] == str(layout.certs)
    assert user["AGORA_JWT_ISSUER"] == "https://auth.agora.local"
    assert user["AGORA_JWT_AUDIENCE"] == "agora"
    assert user["AGORA_LOG_LEVEL"] == "DEBUG"
    assert user["AGORA_USER_LISTEN"] == "127.0.0.1:42002"
    pg_password = layout.postgres_password.read_text().strip()
    redis_password = layout.redis_password.read_text().strip()
    assert user["AGORA_USER_DATABASE_URL"] == (
        f"postgresql+psycopg://postgres:{pg_password}@127.0.0.1:61001/agora_user"
    )
    assert auth["AGORA_AUTH_REDIS_URL"] == f"redis://default:{redis_password}@127.0.0.1:61002/0"
    assert pg_password != redis_password
    assert user["AGORA_USER_REDIS_URL"] == auth["AGORA_AUTH_REDIS_URL"]  # its event stream
    assert user["AGORA_USER_JWKS_CACHE_FILE"] == str(layout.data_dir / "user" / "jwks.json")
    assert auth["AGORA_AUTH_LISTEN"] == "127.0.0.1:42001"
    assert auth["AGORA_AUTH_KEYS_DIR"] == str(layout.data_dir / "auth" / "keys")
    assert "AGORA_AUTH_DATABASE_URL" not in auth
    assert programs["migrate-user"].environment == {
        k: v for k, v in user.items() if k != "AGORA_LOG_FILE"
    }


def test_external_servers_replace_the_embedded_ones(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(
        layout=layout,
        ports=_ports(),
        database_url="postgresql://app:p%40ss@db.internal:5432/postgres?sslmode=require",
        redis_url="redis://cache.internal:6379/2",
    )
    programs = _read_back(layout, plan)

    assert "postgres" not in programs and "redis" not in programs
    user = programs["user-1"].environment
    assert user["AGORA_USER_DATABASE_URL"] == (
        "postgresql+psycopg://app:p%40ss@db.internal:5432/agora_user?sslmode=require"
    )
    assert programs["auth-1"].environment["AGORA_AUTH_REDIS_URL"] == "redis://cache.internal:6379/2"


def test_default_ports_are_the_documented_ones() -> None:
    ports = MeshPorts.derive(workers={"auth": 2, "user": 2})
    assert (ports.edge, ports.jwks, ports.postgres, ports.redis) == (8443, 9902, 54329, 63790)
    assert not hasattr(ports, "admin")  # Envoy's admin is a unix socket
    assert ports.services == {"auth": 50051, "user": 50052}
    assert ports.workers == {"auth": [50051, 50061], "user": [50052, 50062]}


def test_a_second_mesh_gets_other_ports() -> None:
    ports = MeshPorts.derive(edge=9443, port_base=51050, workers={"auth": 1, "user": 1})
    assert ports.services == {"auth": 51051, "user": 51052}
    assert {ports.jwks, ports.postgres, ports.redis}.isdisjoint({9902, 54329, 63790})


def test_meshes_in_different_directories_get_different_envoy_base_ids(tmp_path: Path) -> None:
    first, second = MeshLayout.at(tmp_path / "a"), MeshLayout.at(tmp_path / "b")
    assert first.envoy_base_id != second.envoy_base_id


def test_values_supervisord_cannot_carry_are_refused(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(layout=layout, ports=_ports(), log_level="INFO\nX=1")
    with pytest.raises(ValueError, match="newlines"):
        render_supervisord_conf(layout, plan.programs())


def test_each_worker_is_a_program_on_its_own_port(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(layout=layout, ports=_ports({"auth": 2, "user": 3}))
    programs = _read_back(layout, plan)

    workers = [name for name, c in programs.items() if c.priority == 30]
    assert workers == ["auth-1", "auth-2", "user-1", "user-2", "user-3"]
    assert [name for name in programs if name.startswith("migrate-")] == ["migrate-user"]
    listen = {
        name: programs[name].environment[f"AGORA_{name.split('-')[0].upper()}_LISTEN"]
        for name in workers
    }
    assert listen == {
        "auth-1": "127.0.0.1:42001",
        "auth-2": "127.0.0.1:42011",
        "user-1": "127.0.0.1:42002",
        "user-2": "127.0.0.1:42012",
        "user-3": "127.0.0.1:42022",
    }
    for name in ("user-2", "user-3"):
        others = dict(programs[name].environment)
        others.pop("AGORA_USER_LISTEN")
        assert others.pop("AGORA_LOG_FILE") == str(layout.log(name))
        first = dict(programs["user-1"].environment)
        first.pop("AGORA_USER_LISTEN")
        first.pop("AGORA_LOG_FILE")
        assert others == first
    assert json.loads(programs["auth-1"].environment["AGORA_ENDPOINTS"]) == {
        "auth": "ipv4:127.0.0.1:42001,127.0.0.1:42011",
        "user": "ipv4:127.0.0.1:42002,127.0.0.1:42012,127.0.0.1:42022",
    }
    assert all(programs[name].stopwaitsecs >= 10 for name in workers)
    assert plan.edge_endpoints()["user"] == [
        ("127.0.0.1", 42002),
        ("127.0.0.1", 42012),
        ("127.0.0.1", 42022),
    ]


def test_mesh_json_lists_every_worker(tmp_path: Path) -> None:
    plan = MeshPlan(layout=MeshLayout.at(tmp_path), ports=_ports({"auth": 1, "user": 2}))
    state = json.loads(json.dumps(plan.state()))

    assert state["ports"]["services"] == {"auth": 42001, "user": 42002}
    assert state["ports"]["workers"] == {"auth": [42001], "user": [42002, 42012]}
    assert state["workers"] == {"auth": ["auth-1"], "user": ["user-1", "user-2"]}
    grpc = {p["name"]: p["port"] for p in state["programs"] if p["probe"] == "grpc"}
    assert grpc == {"auth-1": 42001, "user-1": 42002, "user-2": 42012}
    assert state["admin_socket"] == str(tmp_path / "envoy" / "admin.sock")


def test_no_password_is_on_a_command_line_or_in_mesh_json(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(layout=layout, ports=_ports())
    programs = _read_back(layout, plan)
    state = json.dumps(plan.state())
    passwords = [
        layout.postgres_password.read_text().strip(),
        layout.redis_password.read_text().strip(),
    ]

    for password in passwords:
        assert (
            password
            in programs["user-1"].environment["AGORA_USER_DATABASE_URL"]
            + programs["auth-1"].environment["AGORA_AUTH_REDIS_URL"]
        )
        assert all(password not in c.command for c in programs.values())
        assert password not in state
    assert plan.state()["database_url"] == "postgresql://postgres:***@127.0.0.1:61001/postgres"
    assert plan.state()["redis_url"] == "redis://default:***@127.0.0.1:61002/0"


def test_external_urls_are_recorded_without_their_password(tmp_path: Path) -> None:
    plan = MeshPlan(
        layout=MeshLayout.at(tmp_path),
        ports=_ports(),
        database_url="postgresql://app:s3cret@db.internal:5432/postgres",
        redis_url="redis://:t0ken@cache.internal:6379/2",
    )
    state = plan.state()
    assert state["database_url"] == "postgresql://app:***@db.internal:5432/postgres"
    assert state["redis_url"] == "redis://:***@cache.internal:6379/2"
    assert not (tmp_path / "secrets").exists()


def test_worker_counts_outside_the_range_are_refused() -> None:
    with pytest.raises(ValueError, match="user: 0 workers"):
        MeshPorts.derive(workers={"user": 0})


def test_program_environment_of_a_service_is_its_first_worker(tmp_path: Path) -> None:
    layout = MeshLayout.at(tmp_path)
    plan = MeshPlan(layout=layout, ports=_ports({"auth": 1, "user": 2}))
    _read_back(layout, plan)

    assert program_environment(layout.data_dir, "user")["AGORA_USER_LISTEN"] == "127.0.0.1:42002"
    assert program_environment(layout.data_dir, "user-2")["AGORA_USER_LISTEN"] == (
        "127.0.0.1:42012"
    )
    with pytest.raises(LookupError):
        program_environment(layout.data_dir, "catalog")
