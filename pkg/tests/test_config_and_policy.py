"""Settings normalisation and access rules read from the contracts."""

from __future__ import annotations

import pytest
from google.protobuf import descriptor, descriptor_pb2, descriptor_pool

from agora.policy.v1 import policy_pb2
from pkg.config import MeshSettings, normalise_database_url
from pkg.contracts import import_contracts
from pkg.policy import Access, PolicyError, parse_rule, rules_for_services


@pytest.mark.parametrize(
    "url", ["postgres://u@h:5/db", "postgresql://u@h:5/db", "postgresql+psycopg://u@h:5/db"]
)
def test_database_urls_get_the_psycopg_driver(url: str) -> None:
    assert normalise_database_url(url) == "postgresql+psycopg://u@h:5/db"


def test_a_non_postgres_url_is_refused() -> None:
    with pytest.raises(ValueError, match="not a PostgreSQL URL"):
        normalise_database_url("mysql://u@h/db")


def test_mesh_settings_read_the_agora_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("AGORA_ENDPOINTS", '{"user": "ipv4:127.0.0.1:1,127.0.0.1:2"}')
    monkeypatch.setenv("AGORA_JWT_AUDIENCE", "other")
    settings = MeshSettings()
    assert settings.endpoints == {"user": "ipv4:127.0.0.1:1,127.0.0.1:2"}
    assert settings.jwt_audience == "other"


def test_the_contracts_rules_are_parsed() -> None:
    import_contracts()
    rules = rules_for_services(
        [
            "agora.user.v1.UserService",
            "agora.user.v1.UserInternalService",
            "agora.auth.v1.AuthService",
        ]
    )
    assert rules["/agora.auth.v1.AuthService/Login"].access is Access.PUBLIC
    assert rules["/agora.user.v1.UserService/GetUser"].access is Access.AUTHENTICATED
    list_users = rules["/agora.user.v1.UserService/ListUsers"]
    assert (list_users.access, list_users.values) == (Access.ROLES, frozenset({"admin"}))
    create = rules["/agora.user.v1.UserInternalService/CreateUser"]
    assert (create.access, create.values) == (Access.CALLERS, frozenset({"auth"}))


def _method(options: descriptor_pb2.MethodOptions) -> descriptor.MethodDescriptor:
    """``t.S.Do`` in a pool of its own, with ``options``."""
    pool = descriptor_pool.DescriptorPool()
    for module in (descriptor_pb2, policy_pb2):
        file = descriptor_pb2.FileDescriptorProto()
        module.DESCRIPTOR.CopyToProto(file)
        pool.Add(file)
    test = descriptor_pb2.FileDescriptorProto(
        name="t.proto", package="t", dependency=["agora/policy/v1/policy.proto"]
    )
    test.message_type.add(name="M")
    method = test.service.add(name="S").method.add(name="Do", input_type=".t.M", output_type=".t.M")
    method.options.CopyFrom(options)
    pool.Add(test)
    return pool.FindMethodByName("t.S.Do")


def test_a_missing_or_ambiguous_rule_is_an_error() -> None:
    with pytest.raises(PolicyError, match="has no"):
        parse_rule(_method(descriptor_pb2.MethodOptions()))
    both = descriptor_pb2.MethodOptions()
    both.Extensions[policy_pb2.rule].public = True
    both.Extensions[policy_pb2.rule].roles.append("admin")
    with pytest.raises(PolicyError, match="exactly one"):
        parse_rule(_method(both))


def test_a_services_database_settings_come_from_its_own_prefix(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    from pydantic_settings import SettingsConfigDict

    from pkg.config import DatabaseSettingsMixin
    from pkg.db import engine_from_settings, reader_from_settings

    class ThingSettings(DatabaseSettingsMixin):
        model_config = SettingsConfigDict(env_prefix="AGORA_THING_", extra="ignore")

    monkeypatch.setenv("AGORA_THING_DATABASE_URL", "postgres://u@db.invalid:5/agora_thing")
    monkeypatch.setenv("AGORA_THING_DATABASE_POOL_SIZE", "3")
    monkeypatch.setenv("AGORA_THING_DATABASE_MAX_OVERFLOW", "2")
    monkeypatch.setenv("AGORA_THING_DATABASE_STATEMENT_TIMEOUT_SECONDS", "1.5")
    settings = ThingSettings()
    assert settings.database_url == "postgresql+psycopg://u@db.invalid:5/agora_thing"
    assert (settings.database_pool_size, settings.database_max_overflow) == (3, 2)
    assert settings.database_statement_timeout_seconds == 1.5
    assert settings.database_timeout_seconds == 8.0
    engine = engine_from_settings(settings)
    assert (engine.pool.size(), engine.url.database) == (3, "agora_thing")  # type: ignore[attr-defined]
    assert engine_from_settings(settings, pool_size=1).pool.size() == 1  # type: ignore[attr-defined]
    reader = reader_from_settings(settings)
    assert (reader._pool.min_size, reader._pool.max_size) == (3, 5)
    single = reader_from_settings(settings, size=1)
    assert (single._pool.min_size, single._pool.max_size) == (1, 1)
    monkeypatch.setenv("AGORA_THING_DATABASE_POOL_SIZE", "0")
    with pytest.raises(ValueError, match="database_pool_size"):
        ThingSettings()
