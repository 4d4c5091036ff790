"""The generated supervisord.conf is what supervisord itself reads back."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest
from supervisor.options import ServerOptions

from pkg.runtime import (
    SERVICES,
    MeshLayout,
    MeshPlan,
    MeshPorts,
    program_environment,
    render_supervisord_conf,
)

BASE = 42000


def _counts(workers: dict[str, int] | None = None) -> dict[str, int]:
    """One worker for every registered service, but as ``workers`` says."""
    return {s.name: (workers or {}).get(s.name, 1) for s in SERVICES}


def _ports(workers: dict[str, int] | None = None) -> MeshPorts:
    free = iter(range(61000, 61100))
    return MeshPorts.derive(
        edge=42443,
        port_base=BASE,
        pick_free=lambda: next(free),
        workers=_counts(workers),
    )


def _worker_ports(counts: dict[str, int], base: int = BASE) -> dict[str, list[int]]:
    """Worker ``i`` of a service on ``base + port_offset + 10 * i``, for every service."""
    return {
        s.name: [base + s.port_offset + 10 * i for i in range(counts[s.name])] for s in SERVICES
    }


def _workers(counts: dict[str, int]) -> list[str]:
    """The worker programs, service by service in registry order: ``auth-1``, ..."""
    return [f"{s.name}-{i + 1}" for s in SERVICES for i in range(counts[s.name])]


def _migrations() -> list[str]:
    """A ``migrate-<name>`` program for each service that owns a database."""
    return [f"migrate-{s.name}" for s in SERVICES if s.database]


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

    assert [p.name for p in plan.programs()] == [
        "certs",
        "postgres",
        "redis",
        *_migrations(),
        *_workers(_counts()),
        "edge",
    ]
    # supervisord orders its programs by priority, then by name
    assert [(name, c.priority) for name, c in programs.items()] == [
        ("certs", 10),
        ("postgres", 10),
        ("redis", 10),
        *[(name, 20) for name in sorted(_migrations())],
        *[(name, 30) for name in sorted(_workers(_counts()))],
        ("edge", 40),
    ]
    assert "migrate-user" in programs and "migrate-auth" not in programs
    assert programs["migrate-user"].command.endswith("-m services.user migrate")
    assert programs["auth-1"].command.endswith("-m services.auth")
    for spec in SERVICES:
        assert programs[f"{spec.name}-1"].command.endswith(f"-m services.{spec.name}")
        assert programs[f"{spec.name}-1"].stdout_logfile == str(layout.out(f"{spec.name}-1"))
        if spec.database:
            migrate = programs[f"migrate-{spec.name}"]
            assert migrate.command.endswith(f"-m services.{spec.name} migrate")
            assert migrate.autorestart is False
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

    endpoints = json.loads(user["AGORA_ENDPOINTS"])
    assert endpoints == {s.name: f"ipv4:127.0.0.1:{BASE + s.port_offset}" for s in SERVICES}
    assert (endpoints["auth"], endpoints["user"]) == (
        "ipv4:127.0.0.1:42001",
        "ipv4:127.0.0.1:42002",
    )
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
    for spec in SERVICES:
        env = programs[f"{spec.name}-1"].environment
        assert json.loads(env["AGORA_ENDPOINTS"]) == endpoints
        assert env[f"{spec.prefix}LISTEN"] == f"127.0.0.1:{BASE + spec.port_offset}"
        assert (f"{spec.prefix}DATABASE_URL" in env) is spec.database
        if spec.database:
            assert env[f"{spec.prefix}DATABASE_URL"] == (
                f"postgresql+psycopg://postgres:{pg_password}@127.0.0.1:61001/agora_{spec.name}"
            )
        assert (f"{spec.prefix}REDIS_URL" in env) is spec.redis
        if spec.redis:
            assert env[f"{spec.prefix}REDIS_URL"] == auth["AGORA_AUTH_REDIS_URL"]
        for key, value in spec.env:
            assert env[key] == value.replace("{data}", str(layout.data_dir))


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
    ports = MeshPorts.derive(workers=_counts({s.name: 2 for s in SERVICES}))
    assert (ports.edge, ports.jwks, ports.postgres, ports.redis) == (8443, 9902, 54329, 63790)
    assert not hasattr(ports, "admin")  # Envoy's admin is a unix socket
    assert ports.services == {s.name: 50050 + s.port_offset for s in SERVICES}
    assert ports.workers == _worker_ports({s.name: 2 for s in SERVICES}, base=50050)
    assert (ports.services["auth"], ports.services["user"]) == (50051, 50052)
    assert (ports.workers["auth"], ports.workers["user"]) == ([50051, 50061], [50052, 50062])


def test_a_second_mesh_gets_other_ports() -> None:
    ports = MeshPorts.derive(edge=9443, port_base=51050, workers=_counts())
    assert ports.services == {s.name: 51050 + s.port_offset for s in SERVICES}
    assert (ports.services["auth"], ports.services["user"]) == (51051, 51052)
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
    counts = _counts({"auth": 2, "user": 3})
    plan = MeshPlan(layout=layout, ports=_ports(counts))
    programs = _read_back(layout, plan)
    worker_ports = _worker_ports(counts)

    workers = [name for name, c in programs.items() if c.priority == 30]
    assert workers == sorted(_workers(counts))  # supervisord's order: priority, then name
    assert [p.name for p in plan.programs() if p.priority == 30] == _workers(counts)
    assert {"auth-1", "auth-2", "user-1", "user-2", "user-3"} <= set(workers)
    assert [name for name in programs if name.startswith("migrate-")] == sorted(_migrations())
    listen = {
        name: programs[name].environment[f"AGORA_{name.split('-')[0].upper()}_LISTEN"]
        for name in workers
    }
    assert listen == {
        f"{s.name}-{i + 1}": f"127.0.0.1:{port}"
        for s in SERVICES
        for i, port in enumerate(worker_ports[s.name])
    }
    assert {name: listen[name] for name in ("auth-1", "auth-2", "user-1", "user-2", "user-3")} == {
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
    endpoints = json.loads(programs["auth-1"].environment["AGORA_ENDPOINTS"])
    assert endpoints == {
        name: "ipv4:" + ",".join(f"127.0.0.1:{port}" for port in ports)
        for name, ports in worker_ports.items()
    }
    assert endpoints["auth"] == "ipv4:127.0.0.1:42001,127.0.0.1:42011"
    assert endpoints["user"] == "ipv4:127.0.0.1:42002,127.0.0.1:42012,127.0.0.1:42022"
    assert all(programs[name].stopwaitsecs >= 10 for name in workers)
    assert plan.edge_endpoints()["user"] == [
        ("127.0.0.1", 42002),
        ("127.0.0.1", 42012),
        ("127.0.0.1", 42022),
    ]


def test_mesh_json_lists_every_worker(tmp_path: Path) -> None:
    counts = _counts({"auth": 1, "user": 2})
    plan = MeshPlan(layout=MeshLayout.at(tmp_path), ports=_ports(counts))
    state = json.loads(json.dumps(plan.state()))
    worker_ports = _worker_ports(counts)

    assert state["services"] == [s.name for s in SERVICES]
    assert state["ports"]["services"] == {name: ports[0] for name, ports in worker_ports.items()}
    assert state["ports"]["workers"] == worker_ports
    assert state["ports"]["workers"]["user"] == [42002, 42012]
    assert state["workers"] == {
        s.name: [f"{s.name}-{i + 1}" for i in range(counts[s.name])] for s in SERVICES
    }
    assert state["workers"]["user"] == ["user-1", "user-2"]
    grpc = {p["name"]: p["port"] for p in state["programs"] if p["probe"] == "grpc"}
    assert grpc == {
        f"{s.name}-{i + 1}": port for s in SERVICES for i, port in enumerate(worker_ports[s.name])
    }
    assert (grpc["auth-1"], grpc["user-1"], grpc["user-2"]) == (42001, 42002, 42012)
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
    plan = MeshPlan(layout=layout, ports=_ports({"user": 2}))
    _read_back(layout, plan)

    assert program_environment(layout.data_dir, "user")["AGORA_USER_LISTEN"] == "127.0.0.1:42002"
    assert program_environment(layout.data_dir, "user-2")["AGORA_USER_LISTEN"] == (
        "127.0.0.1:42012"
    )
    with pytest.raises(LookupError):
        program_environment(layout.data_dir, "zzunused")
