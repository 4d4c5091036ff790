"""The rendered bootstrap: shape of listeners, routes and clusters; Envoy accepts it."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest
import yaml

from pkg.edge import (
    EDGE_LISTENER,
    JWKS_LISTENER,
    EdgeConfigError,
    render_envoy_config,
    write_envoy_config,
)
from pkg.edge.__main__ import main
from pkg.edge._local_reply import GRPC_CODE_BY_HTTP_STATUS
from pkg.runtime import SERVICES

from .conftest import envoy_validate

ENDPOINTS = {
    **{spec.name: [("127.0.0.1", 50050 + spec.port_offset)] for spec in SERVICES},
    "user": [("127.0.0.1", 50052), ("127.0.0.1", 50062)],
}
"""An endpoint for every service of the registry (the edge routes them all); user has two."""


@pytest.fixture
def config(descriptor_set: Path, cert_dir: Path) -> dict[str, Any]:
    return render_envoy_config(
        descriptor_set=descriptor_set, cert_dir=cert_dir, endpoints=ENDPOINTS
    )


def _listener(config: dict[str, Any], name: str) -> dict[str, Any]:
    listeners = config["static_resources"]["listeners"]
    return next(listener for listener in listeners if listener["name"] == name)


def _hcm(config: dict[str, Any], name: str) -> dict[str, Any]:
    typed: dict[str, Any] = _listener(config, name)["filter_chains"][0]["filters"][0][
        "typed_config"
    ]
    return typed


def _routes(config: dict[str, Any]) -> dict[str, dict[str, Any]]:
    routes = _hcm(config, EDGE_LISTENER)["route_config"]["virtual_hosts"][0]["routes"]
    return {route["match"].get("path") or route["match"]["prefix"]: route for route in routes}


def test_edge_listens_with_tls_on_8443_and_admin_on_loopback(config: dict[str, Any]) -> None:
    edge = _listener(config, EDGE_LISTENER)
    tls = edge["filter_chains"][0]["transport_socket"]["typed_config"]["common_tls_context"]

    assert edge["address"]["socket_address"] == {"address": "127.0.0.1", "port_value": 8443}
    assert tls["alpn_protocols"] == ["h2", "http/1.1"]
    assert tls["tls_certificates"][0]["certificate_chain"]["filename"].endswith("edge.crt")
    assert config["admin"]["address"]["socket_address"] == {
        "address": "127.0.0.1",
        "port_value": 9901,
    }


def test_filter_order(config: dict[str, Any]) -> None:
    names = [f["name"].rsplit(".", 1)[1] for f in _hcm(config, EDGE_LISTENER)["http_filters"]]

    # Cheap refusals first: the guard's header checks, trailers, the rate limit and the
    # token, before the body is buffered, parsed and transcoded.
    assert names == [
        "cors",
        "guard",
        "no_request_trailers",
        "local_ratelimit",
        "jwt_authn",
        "buffer",
        "strict_body",
        "grpc_json_transcoder",
        "router",
    ]


def test_routes_carry_policy_and_internal_rpcs_have_none(config: dict[str, Any]) -> None:
    routes = _routes(config)
    jwt = next(
        f for f in _hcm(config, EDGE_LISTENER)["http_filters"] if f["name"].endswith("jwt_authn")
    )["typed_config"]
    needs_token = {rule["match"]["headers"][0]["string_match"]["exact"] for rule in jwt["rules"]}

    login = routes["/agora.auth.v1.AuthService/Login"]
    assert login["route"]["cluster"] == "auth"
    assert "/agora.auth.v1.AuthService/Login" not in needs_token
    list_users = routes["/agora.user.v1.UserService/ListUsers"]
    assert list_users["route"]["cluster"] == "user"
    assert "/agora.user.v1.UserService/ListUsers" in needs_token
    assert all(rule["match"]["headers"][0]["name"] == "x-agora-rpc" for rule in jwt["rules"])
    assert list_users["request_headers_to_remove"] == ["x-agora-rpc"]
    assert "/agora.user.v1.UserInternalService/CreateUser" not in routes
    assert not any("Internal" in path for path in needs_token)
    assert routes["/grpc.reflection.v1.ServerReflection/"]["route"]["cluster"] == "auth"
    assert not any(path.startswith("/grpc.health.v1") for path in routes)


def test_clusters_use_mtls_with_the_services_spiffe_id(config: dict[str, Any]) -> None:
    clusters = {c["name"]: c for c in config["static_resources"]["clusters"]}
    user = clusters["user"]
    tls = user["transport_socket"]["typed_config"]["common_tls_context"]

    assert set(clusters) == {*(spec.name for spec in SERVICES), "jwks"}
    assert len(user["load_assignment"]["endpoints"][0]["lb_endpoints"]) == 2
    assert tls["validation_context"]["match_typed_subject_alt_names"] == [
        {"san_type": "URI", "matcher": {"exact": "spiffe://agora.local/user"}}
    ]
    assert "grpc_health_check" in user["health_checks"][0]
    assert user["lb_policy"] == "ROUND_ROBIN" and "outlier_detection" in user
    options = user["typed_extension_protocol_options"][
        "envoy.extensions.upstreams.http.v3.HttpProtocolOptions"
    ]["common_http_protocol_options"]
    assert options == {"max_requests_per_connection": 1000, "max_connection_duration": "60s"}
    assert user["close_connections_on_host_health_failure"] is True


def test_jwks_comes_through_the_loopback_listener(config: dict[str, Any]) -> None:
    jwt = next(
        f for f in _hcm(config, EDGE_LISTENER)["http_filters"] if f["name"].endswith("jwt_authn")
    )["typed_config"]
    provider = jwt["providers"]["agora"]
    jwks_routes = _hcm(config, JWKS_LISTENER)["route_config"]["virtual_hosts"][0]["routes"]

    assert provider["remote_jwks"]["http_uri"]["uri"] == (
        "http://127.0.0.1:9902/.well-known/jwks.json"
    )
    assert (provider["issuer"], provider["audiences"], provider["forward"]) == (
        "https://auth.agora.local",
        ["agora"],
        True,
    )
    assert [r["match"]["path"] for r in jwks_routes] == ["/agora.auth.v1.AuthService/GetJwks"]


def test_local_replies_are_google_rpc_status_with_one_mapper_per_status(
    config: dict[str, Any],
) -> None:
    replies = _hcm(config, EDGE_LISTENER)["local_reply_config"]
    by_status = {
        m["filter"]["status_code_filter"]["comparison"]["value"]["default_value"]: m[
            "body_format_override"
        ]["json_format"]["code"]
        for m in replies["mappers"]
        if "status_code_filter" in m["filter"]
    }
    fallback = replies["body_format"]["json_format"]

    assert (
        by_status
        == GRPC_CODE_BY_HTTP_STATUS
        == {
            400: 3,
            401: 16,
            403: 7,
            404: 5,
            408: 4,
            413: 8,
            414: 8,
            415: 3,
            429: 8,
            431: 8,
            503: 14,
            504: 4,
        }
    )
    assert (fallback["code"], fallback["message"]) == (2, "%LOCAL_REPLY_BODY%")
    assert fallback["details"][-1]["@type"] == "type.googleapis.com/google.rpc.ErrorInfo"
    assert not any(
        "status_code_filter" in m["filter"] and "status_code" in m for m in replies["mappers"]
    ), "only jwt_authn replies change status"
    assert _hcm(config, JWKS_LISTENER)["local_reply_config"] == replies


def test_a_routed_service_without_endpoints_is_refused(
    descriptor_set: Path, cert_dir: Path
) -> None:
    with pytest.raises(EdgeConfigError, match="user"):
        render_envoy_config(
            descriptor_set=descriptor_set,
            cert_dir=cert_dir,
            endpoints={"auth": [("127.0.0.1", 50051)]},
        )


def test_envoy_accepts_the_written_config(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    path = write_envoy_config(
        tmp_path / "envoy" / "envoy.yaml",
        descriptor_set=descriptor_set,
        cert_dir=cert_dir,
        endpoints=ENDPOINTS,
    )

    assert yaml.safe_load(path.read_text())["static_resources"]["listeners"]
    result = envoy_validate(path)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]


def test_the_command_line_writes_a_config(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "envoy.yaml"

    status = main(
        [
            "--descriptor-set",
            str(descriptor_set),
            "--cert-dir",
            str(cert_dir),
            "--out",
            str(out),
            *(
                argument
                for spec in SERVICES
                for argument in ("--endpoint", f"{spec.name}=127.0.0.1:{50050 + spec.port_offset}")
            ),
        ]
    )

    assert status == 0
    clusters = yaml.safe_load(out.read_text())["static_resources"]["clusters"]
    assert [c["name"] for c in clusters] == [*sorted(spec.name for spec in SERVICES), "jwks"]


def test_the_command_line_routes_to_every_registered_service_by_default(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    from pkg.runtime import SERVICES

    out = tmp_path / "envoy.yaml"
    assert (
        main(
            [
                "--descriptor-set",
                str(descriptor_set),
                "--cert-dir",
                str(cert_dir),
                "--out",
                str(out),
            ]
        )
        == 0
    )
    clusters = {
        c["name"]: c for c in yaml.safe_load(out.read_text())["static_resources"]["clusters"]
    }
    for spec in SERVICES:  # services/registry.toml, so a generated service is reachable
        [endpoint] = clusters[spec.name]["load_assignment"]["endpoints"][0]["lb_endpoints"]
        assert endpoint["endpoint"]["address"]["socket_address"] == {
            "address": "127.0.0.1",
            "port_value": 50050 + spec.port_offset,
        }


def test_rate_limits_come_from_the_contract(config: dict[str, Any]) -> None:
    limit = next(
        f
        for f in _hcm(config, EDGE_LISTENER)["http_filters"]
        if f["name"].endswith("local_ratelimit")
    )["typed_config"]
    buckets = {d["entries"][0]["value"]: d["token_bucket"] for d in limit["descriptors"]}

    # One bucket per RPC, found by the guard's x-agora-rpc header for HTTP/JSON and gRPC alike.
    assert limit["rate_limits"] == [
        {"actions": [{"request_headers": {"header_name": "x-agora-rpc", "descriptor_key": "rpc"}}]}
    ]
    assert buckets["/agora.auth.v1.AuthService/Login"] == {
        "max_tokens": 100,
        "tokens_per_fill": 50,
        "fill_interval": "1s",
    }
    assert limit["rate_limited_as_resource_exhausted"] is True
    assert limit["always_consume_default_token_bucket"] is False
    assert "/agora.user.v1.UserService/GetUser" not in buckets


def test_every_route_timeout_applies_to_http_json_and_grpc_alike(config: dict[str, Any]) -> None:
    routes = _routes(config)
    login = routes["/agora.auth.v1.AuthService/Login"]["route"]

    # The router's timeout is ignored once max_stream_duration is set, and a request without
    # grpc-timeout (every transcoded one) is bounded only by max_stream_duration itself.
    assert "timeout" not in login
    assert login["max_stream_duration"] == {
        "max_stream_duration": "5s",
        "grpc_timeout_header_max": "5s",
    }


def test_retries_only_for_requests_that_never_reached_a_server(config: dict[str, Any]) -> None:
    routes = _routes(config)
    retry_on = {
        path.rsplit("/", 1)[1]: route["route"]["retry_policy"]["retry_on"]
        for path, route in routes.items()
        if "retry_policy" in route["route"]
    }
    login = routes["/agora.auth.v1.AuthService/Login"]["route"]["retry_policy"]

    never_reached = "connect-failure,refused-stream,reset-before-request"
    assert retry_on["Login"] == retry_on["UpdateUser"] == never_reached
    assert retry_on["GetUser"] == retry_on["ListUsers"] == never_reached + ",unavailable"
    assert login["num_retries"] == 2 and login["host_selection_retry_max_attempts"] == 3
    assert login["retry_host_predicate"][0]["name"] == (
        "envoy.retry_host_predicates.previous_hosts"
    )
    for conditions in retry_on.values():
        assert not {"5xx", "reset", "gateway-error"} & set(conditions.split(","))


def test_clusters_notice_a_draining_host_within_its_drain_window(config: dict[str, Any]) -> None:
    user = next(c for c in config["static_resources"]["clusters"] if c["name"] == "user")
    check = user["health_checks"][0]
    outliers = user["outlier_detection"]

    assert (check["interval"], check["timeout"], check["no_traffic_interval"]) == ("1s",) * 3
    assert (check["unhealthy_threshold"], check["healthy_threshold"]) == (2, 1)
    assert outliers["max_ejection_percent"] == 50 and outliers["always_eject_one_host"] is False
    budget = user["circuit_breakers"]["thresholds"][0]["retry_budget"]
    assert budget == {"budget_percent": {"value": 20.0}, "min_retry_concurrency": 3}


def test_listeners_wait_for_the_jwks_and_a_failed_fetch_is_unavailable(
    config: dict[str, Any],
) -> None:
    jwt = next(
        f for f in _hcm(config, EDGE_LISTENER)["http_filters"] if f["name"].endswith("jwt_authn")
    )["typed_config"]
    mappers = _hcm(config, EDGE_LISTENER)["local_reply_config"]["mappers"]
    jwks_failed = [m for m in mappers if "Jwks_remote_fetch_is_failed" in str(m["filter"])]

    assert jwt["providers"]["agora"]["remote_jwks"]["async_fetch"]["fast_listener"] is False
    assert [m["status_code"] for m in jwks_failed] == [503, 503]
    assert all(
        m["headers_to_add"][0]["header"] == {"key": "retry-after", "value": "1"}
        for m in jwks_failed
    )


def test_responses_are_not_stored_except_the_public_jwks(config: dict[str, Any]) -> None:
    routes = _routes(config)
    cache = {
        path.rsplit("/", 1)[1]: route["response_headers_to_add"][0]["header"]["value"]
        for path, route in routes.items()
        if "response_headers_to_add" in route
    }

    assert cache.pop("GetJwks") == "public, max-age=300"
    assert set(cache.values()) == {"no-store"}
    assert {"Login", "Register", "Refresh", "GetUser"} <= set(cache)


def test_cors_is_off_by_default(config: dict[str, Any]) -> None:
    virtual_host = _hcm(config, EDGE_LISTENER)["route_config"]["virtual_hosts"][0]

    assert "typed_per_filter_config" not in virtual_host
    assert all(route["name"] != "cors_lookup" for route in virtual_host["routes"])


def test_cors_allows_exactly_the_configured_origins(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    path = write_envoy_config(
        tmp_path / "envoy.yaml",
        descriptor_set=descriptor_set,
        cert_dir=cert_dir,
        endpoints=ENDPOINTS,
        cors_origins=["https://app.example.com", "http://localhost:3000"],
    )
    config = yaml.safe_load(path.read_text())
    virtual_host = _hcm(config, EDGE_LISTENER)["route_config"]["virtual_hosts"][0]
    policy = virtual_host["typed_per_filter_config"]["envoy.filters.http.cors"]

    assert policy["allow_origin_string_match"] == [
        {"exact": "https://app.example.com"},
        {"exact": "http://localhost:3000"},
    ]
    assert policy["allow_methods"] == "DELETE, GET, PATCH, POST"
    assert policy["allow_headers"] == "authorization, content-type, x-request-id"
    assert policy["expose_headers"] == "x-request-id, retry-after, www-authenticate"
    assert virtual_host["routes"][-1]["match"]["prefix"] == "/"
    assert virtual_host["routes"][-1]["route"]["cluster"] == "edge_no_route"
    result = envoy_validate(path)
    assert result.returncode == 0, result.stderr[-2000:] + result.stdout[-2000:]


@pytest.mark.parametrize(
    "origin", ["*", "https://app.example.com/", "app.example.com", "https://*.example.com"]
)
def test_a_cors_origin_must_be_exact(descriptor_set: Path, cert_dir: Path, origin: str) -> None:
    with pytest.raises(EdgeConfigError, match="CORS origin"):
        render_envoy_config(
            descriptor_set=descriptor_set,
            cert_dir=cert_dir,
            endpoints=ENDPOINTS,
            cors_origins=[origin],
        )
