"""Every spelling of a request meets the same checks: content types, paths, filter order."""

from __future__ import annotations

import asyncio
import json
import re
import shutil
from pathlib import Path

import pytest
from google.api import annotations_pb2
from google.protobuf import descriptor_pb2

from agora.policy.v1 import policy_pb2
from pkg.edge import load_contracts, route_table
from pkg.edge._classify import is_native_grpc

from .conftest import ROOT, free_port, with_tree_service
from .stub_auth import PASSWORD
from .test_edge_run import AUDIENCE, ISSUER, Edge, _detail, _running_edge, edge_status


def _logins(edge: Edge) -> int:
    return sum(1 for name, _ in edge.stub.calls if name == "Login")


@pytest.mark.parametrize(
    ("content_type", "native"),
    [
        ("application/grpc", True),
        ("application/grpc+proto", True),
        ("application/grpc+", True),
        ("application/grpc;charset=utf-8", False),
        ("application/grpc; x=1", False),
        ("application/grpc;", False),
        ("Application/GRPC", False),
        ("application/grpc-web", False),
        ("application/grpcx", False),
        (" application/grpc", False),
        (None, False),
    ],
)
def test_native_grpc_is_what_envoy_calls_grpc(content_type: str | None, native: bool) -> None:
    assert is_native_grpc(content_type) is native


@pytest.mark.parametrize(
    "content_type",
    [
        "application/grpc;charset=utf-8",
        "application/grpc; x=1",
        "application/grpc;",
        "Application/GRPC",
        "application/grpc-web+proto",
        "application/grpcx",
    ],
)
async def test_a_content_type_that_is_not_grpc_gets_every_http_json_check(
    edge: Edge, content_type: str
) -> None:
    before = _logins(edge)
    body = '{"email": "ann@example.com", "password": "p", "password": "q", "bogus": 1}'
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login",
            content=body,
            headers={"content-type": content_type, "grpc-encoding": "bogus"},
        )

    edge_status(response, 415, 3)  # the transcoder would read it as JSON: refused first
    assert _logins(edge) == before


@pytest.mark.parametrize(
    "path",
    [
        "/v1/users/me/",
        "/v1/users/me//",
        "/v1/users/me/./",
        "/V1/users/me",
        "/v1/USERS/me",
        "/v1/users/me/%2E",
    ],
)
async def test_a_path_no_strict_rule_matches_is_404_whatever_the_transcoder_would_do(
    edge: Edge, path: str
) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        read = await client.get(
            f"{path}?name=users/2", headers={"authorization": f"Bearer {token}"}
        )
        patched = await client.patch(
            path,
            content="displayName=Eve",
            headers={"authorization": f"Bearer {token}", "content-type": "text/plain"},
        )

    for response in (read, patched):
        body = edge_status(response, 404, 5)  # never routed: the user cluster would be 503
        assert _detail(body, "ErrorInfo")["reason"] == "route_not_found"


@pytest.mark.parametrize("path", ["/v1/users%2Fme", "/v1/users%2fme", "/v1/users/me%5C"])
async def test_an_escaped_slash_is_refused_before_matching(edge: Edge, path: str) -> None:
    async with edge.client() as client:
        response = await client.get(path)

    assert response.status_code == 400


@pytest.mark.parametrize(
    "path",
    [
        "/v1//users/me",
        "/v1/./users/me",
        "/v1/x/../users/me",
        "/v1/users/me/.",
        "/v1/users/me;x",
        "/v1/users/me%20",
    ],
)
async def test_a_path_that_normalises_to_a_rule_gets_that_rules_checks(
    edge: Edge, path: str
) -> None:
    # RFC 3986 §6 normalisation happens once, before matching; "me;x" and "me%20" are
    # GetUser's one-segment name, which the service itself then judges.
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    async with edge.client() as client:
        response = await client.get(
            f"{path}?name=users/2", headers={"authorization": f"Bearer {token}"}
        )

    body = edge_status(response, 400, 3)
    assert _detail(body, "ErrorInfo")["reason"] == "strict_query_bound_field"


@pytest.mark.parametrize(
    "path",
    ["/v1/auth:login/", "/v1/auth%3Alogin", "/v1/auth:Login", "/agora.auth.v1.AuthService/Login"],
)
async def test_a_public_rpc_is_reached_over_http_only_by_its_binding(edge: Edge, path: str) -> None:
    before = _logins(edge)
    async with edge.client() as client:
        response = await client.post(path, json={"email": "ann@example.com", "password": PASSWORD})

    edge_status(response, 404, 5)
    assert _logins(edge) == before


async def test_an_anonymous_large_body_is_refused_for_its_token_before_it_is_read(
    edge: Edge,
) -> None:
    oversized = b'{"displayName": "' + b"x" * (2 * 1024 * 1024) + b'", "bogus": ['
    async with edge.client() as client:
        response = await client.patch(
            "/v1/users/me", content=oversized, headers={"content-type": "application/json"}
        )

    # 401, not 413 (buffer) nor 400 (body check): the token is checked on the headers.
    edge_status(response, 401, 16)


@pytest.mark.parametrize(
    ("headers", "reason"),
    [
        ({"x-anything-bin": "$$$"}, "binary_metadata_refused"),
        ({"authorization-bin": "AAAA"}, "binary_metadata_refused"),
        ({"x-a!b": "1"}, "illegal_metadata_name"),
        ({"x-note": "caf\u00e9"}, "illegal_metadata_value"),
    ],
)
async def test_http_headers_that_are_not_grpc_metadata_get_400(
    edge: Edge, headers: dict[str, str], reason: str
) -> None:
    before = _logins(edge)
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login",
            content=json.dumps({"email": "a@b.c", "password": PASSWORD}),
            headers=[
                (b"content-type", b"application/json"),
                *[(k.encode(), v.encode("latin-1")) for k, v in headers.items()],
            ],
        )

    body = edge_status(response, 400, 3)
    assert _detail(body, "ErrorInfo")["reason"] == reason
    assert _logins(edge) == before


async def test_client_x_agora_headers_are_dropped(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:login",
            json={"email": "ann@example.com", "password": PASSWORD},
            headers={"x-agora-rpc": "/agora.user.v1.UserService/ListUsers"},
        )

    assert response.status_code == 200
    assert "x-agora-rpc" not in edge.stub.last_call("Login")


def _with_overlapping_bindings(descriptor_set: Path) -> bytes:
    """The tree contracts plus a public ``GET /v1/{node_id=trees/*}`` (Look) and an
    authenticated ``GET /v1/trees/secret`` (Secret), whose paths overlap."""
    files = descriptor_pb2.FileDescriptorSet.FromString(with_tree_service(descriptor_set))
    tree = next(f for f in files.file if f.package == "agora.tree.v1")
    service = tree.service[0]
    for name, path, public in [
        ("Look", "/v1/{node_id=trees/*}", True),
        ("Secret", "/v1/trees/secret", False),
    ]:
        method = service.method.add(
            name=name, input_type=".agora.tree.v1.Node", output_type=".agora.tree.v1.Node"
        )
        method.options.Extensions[annotations_pb2.http].get = path
        if public:
            method.options.Extensions[policy_pb2.rule].public = True
        else:
            method.options.Extensions[policy_pb2.rule].authenticated = True
    return bytes(files.SerializeToString())


async def test_the_guard_picks_the_rpc_the_transcoder_routes_to(
    descriptor_set: Path, cert_dir: Path, tmp_path: Path
) -> None:
    overlapping = tmp_path / "overlapping.binpb"
    overlapping.write_bytes(_with_overlapping_bindings(descriptor_set))
    async with (
        _running_edge(overlapping, cert_dir, tmp_path, tree=[("127.0.0.1", free_port())]) as edge,
        edge.client() as client,
    ):
        secret = await client.get("/v1/trees/secret")
        other = await client.get("/v1/trees/t1")

    # The literal binding wins, as in the transcoder: its token is required (401), never
    # the public wildcard's rule letting the request through to Secret.
    edge_status(secret, 401, 16)
    edge_status(other, 503, 14)  # public Look: checked, transcoded, no tree upstream


def _sample_path(template: str) -> str:
    flat = re.sub(r"\{[^}=]+(?:=([^}]*))?\}", lambda m: m.group(1) or "*", template)
    return flat.replace("**", "a1/b2").replace("*", "a1")


async def test_every_binding_of_the_contracts_reaches_its_own_route(edge: Edge) -> None:
    token = edge.stub.sign(issuer=ISSUER, audience=AUDIENCE)
    answers = {}
    async with edge.client() as client:
        for entry in route_table(load_contracts(ROOT / "gen" / "agora.binpb")):
            response = await client.request(
                entry.verb,
                _sample_path(entry.template),
                headers={"authorization": f"Bearer {token}", "content-type": "application/json"},
                content=b"{}" if entry.body else None,
            )
            answers[f"{entry.verb} {entry.template}"] = response.status_code

    # 404 would mean the guard or the route disagreed with the transcoder about the RPC.
    assert {binding: status for binding, status in answers.items() if status == 404} == {}


async def test_an_http2_client_still_uploading_gets_the_refusal(edge: Edge) -> None:
    curl = shutil.which("curl")
    assert curl, "curl is not installed (Debian package curl)"
    statuses = []
    for path in ["/v1/auth:login?x=1", "/v1/auth:loginx"] * 5:
        process = await asyncio.create_subprocess_exec(
            curl,
            "-s",
            "--http2",
            "-o",
            "/dev/null",
            "-w",
            "%{http_code}",
            "--cacert",
            str(edge.root_ca),
            f"{edge.base_url}{path}",
            "-H",
            "content-type: application/json",
            "-d",
            '{"email": "a@b.c", "password": "p"}',
            stdout=asyncio.subprocess.PIPE,
        )
        out, _ = await asyncio.wait_for(process.communicate(), 30)
        statuses.append(out.decode())

    # A guard refusal sent while the body is still on its way, with RST_STREAM, is lost by
    # curl 7.88 ("000"); the guard waits for the body and answers after it.
    assert statuses == ["400", "404"] * 5


async def test_a_refused_request_with_an_oversized_body_gets_413(edge: Edge) -> None:
    async with edge.client() as client:
        response = await client.post(
            "/v1/auth:loginx",
            content=b"x" * (2 * 1024 * 1024),
            headers={"content-type": "application/json"},
        )

    assert response.status_code in (404, 413), response.text
