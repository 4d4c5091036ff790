"""``make bench``'s report: the tables, the scaling line, the generated section of
docs/benchmarks.md, and the optional validation micro-benchmark section."""

from __future__ import annotations

from pathlib import Path

from bench.agora_bench.report import (
    COMMERCE_MARKS,
    MARK_END,
    MARK_START,
    commerce_ratios,
    cpu_ratios,
    cpu_table,
    replace_generated,
    report,
    scaling,
    table,
    validation_section,
    validation_table,
)
from bench.agora_bench.results import Result, Settings, ValidationRow

SETTINGS = Settings(
    duration=10, warmup=2, connections=4, streams=8, threads=1, wrk_connections=32, sync_workers=16
)
HOST = {"nproc": "2", "cpu": "Some CPU", "memory": "8.0 GiB"}
VERSIONS = {"kernel": "6.1", "python": "3.11.7", "envoy": "1.40.0"}


def rows() -> list[Result]:
    return [
        Result(
            "echo-aio",
            "baseline",
            rps=4000.0,
            p50_ms=6.3,
            p99_ms=9.8,
            requests=40000,
            cpu={"echo server": 1.2, "h2load": 0.1},
        ),
        Result("user-direct", "GetUser direct", note="preflight: HTTP 503"),
        Result(
            "edge-grpc",
            "GetUser edge",
            rps=349.0,
            p50_ms=94.46,
            p99_ms=181.44,
            requests=3489,
            failed=2,
            cpu={"user-1 service": 0.72},
        ),
        Result("edge-grpc-1w", "one worker", rps=254.0, requests=2540),
    ]


def test_the_table_gives_each_row_its_ratio_to_echo_aio_and_dashes_when_unmeasured() -> None:
    lines = table(rows())
    assert lines[0] == (
        "| target | what | RPS | p50 ms | p99 ms | RPS / echo-aio | requests | failed |"
    )
    assert lines[2] == "| echo-aio | baseline | 4,000 | 6.30 | 9.80 | 1.000 | 40,000 | 0 |"
    assert lines[3] == "| user-direct | GetUser direct | — | — | — | — | 0 | 0 |"
    assert lines[4] == ("| edge-grpc | GetUser edge | 349 | 94.46 | 181.44 | 0.087 | 3,489 | 2 |")
    assert lines[-2:] == ["", "- `user-direct`: preflight: HTTP 503"]


def test_the_scaling_line_divides_two_workers_by_one() -> None:
    assert scaling(rows(), 2) == [
        "Worker scaling (GetUser through the edge, gRPC): 2 user workers 349 RPS / 1 worker "
        "254 RPS = **1.37x** on 2 cores shared with Envoy, PostgreSQL and h2load."
    ]


def test_no_scaling_line_without_the_one_worker_run() -> None:
    assert scaling([r for r in rows() if r.name != "edge-grpc-1w"], 2) == []


def test_the_cpu_table_gives_cores_and_cpu_microseconds_per_request() -> None:
    assert cpu_table(rows()) == [
        "| target | process | cores used | CPU µs / request |",
        "|---|---|---:|---:|",
        "| echo-aio | echo server | 1.20 | 300 |",
        "| echo-aio | h2load | 0.10 | 25 |",
        "| edge-grpc | user-1 service | 0.72 | 2,063 |",
    ]
    assert cpu_table([Result("echo-aio", "x")]) == []


def test_the_cpu_ratios_divide_the_user_worker_by_the_mtls_echo() -> None:
    measured = [
        Result("echo-aio-mtls", "echo", rps=2000.0, cpu={"echo server": 0.8}),
        Result("user-direct", "direct", rps=1000.0, cpu={"user-1 service": 1.2}),
        Result("edge-grpc-1w", "one worker", note="not measurable"),
    ]
    assert cpu_ratios(measured) == [
        "CPU per request of the user service over `echo-aio-mtls`'s echo server "
        "(goal: at most 4x):",
        "",
        "- GetUser straight to the user service (`user-direct`, user-1): "
        "1,200 µs / 400 µs = **3.00x**",
        "- GetUser through the edge, one user worker (`edge-grpc-1w`, user-1): —",
    ]
    assert cpu_ratios(measured[1:]) == []


def test_the_generated_section_keeps_its_layout() -> None:
    text = report(rows(), SETTINGS, "2026-11-29 12:19 UTC", "0.80 1.07 1.15", HOST, VERSIONS, [])
    lines = text.splitlines()
    assert lines[0] == "Run of 2026-11-29 12:19 UTC (`python bench/run.py`)."
    assert "Load average when the run started (other work on the machine): 0.80 1.07 1.15." in lines
    assert "Machine: `nproc` 2, Some CPU, 8.0 GiB memory; Linux 6.1." in lines
    assert "Versions: python 3.11.7, envoy 1.40.0." in lines
    assert lines[-4:] == SETTINGS.describe()
    assert "### Validation" not in text
    cpu = lines.index("| target | process | cores used | CPU µs / request |")
    assert lines.index(scaling(rows(), 2)[0]) < cpu < lines.index("Settings:")


def test_the_validation_lines_come_under_their_heading_after_the_cpu_table() -> None:
    section = ["### Validation", "", "| message | µs |", "|---|---:|", "| A | 12 |"]
    lines = report(rows(), SETTINGS, "now", "0.1 0.1 0.1", HOST, VERSIONS, section).splitlines()
    start = lines.index("### Validation")
    assert lines[start : start + 5] == section
    assert lines.index("| edge-grpc | user-1 service | 0.72 | 2,063 |") < start
    assert start < lines.index("Settings:")


def test_the_doc_keeps_everything_outside_the_markers() -> None:
    doc = f"# Benchmarks\n\nprose\n\n{MARK_START}\nold run\n{MARK_END}\n\n## After\n"
    assert replace_generated(doc, "new run") == (
        f"# Benchmarks\n\nprose\n\n{MARK_START}\nnew run\n{MARK_END}\n\n## After\n"
    )


def test_a_commerce_only_run_leaves_the_whole_run_in_place() -> None:
    start, end = COMMERCE_MARKS
    doc = f"# Benchmarks\n\n{MARK_START}\nwhole run\n{MARK_END}\n"
    once = replace_generated(doc, "commerce 1", COMMERCE_MARKS)
    assert once == f"{doc}\n{start}\ncommerce 1\n{end}\n"
    twice = replace_generated(once, "commerce 2", COMMERCE_MARKS)
    assert "whole run" in twice and "commerce 2" in twice and "commerce 1" not in twice
    assert replace_generated(twice, "whole again") == twice.replace("whole run", "whole again")


def test_a_doc_without_markers_gets_them_at_the_end() -> None:
    assert replace_generated("# Benchmarks\n", "run") == (
        f"# Benchmarks\n\n{MARK_START}\nrun\n{MARK_END}\n"
    )


def test_the_validation_table_has_valid_and_invalid_columns_and_the_goal_line() -> None:
    lines = validation_table(
        [
            ValidationRow("GetJwksRequest", 0.6, 0.5),
            ValidationRow("GetUserRequest", 235.8, 1.3, 376.6, 3.4, ("string.pattern",)),
            ValidationRow(
                "CreateUserRequest",
                3636.0,
                5.8,
                5228.2,
                24.3,
                ("string.min_len", "repeated.unique"),
            ),
        ]
    )
    assert lines[0] == (
        "| request message | valid: protovalidate µs | valid: fast path µs "
        "| invalid: protovalidate µs | invalid: fast path µs | violations |"
    )
    assert lines[2:5] == [
        "| GetJwksRequest | 0.6 | 0.5 | — | — | — |",
        "| GetUserRequest | 235.8 | 1.3 | 376.6 | 3.4 | 1 |",
        "| CreateUserRequest | 3,636.0 | 5.8 | 5,228.2 | 24.3 | 2 |",
    ]
    assert lines[6] == (
        "Slowest invalid message on the fast path: CreateUserRequest 24.3 µs; "
        "the goal of at most 100 µs per request type holds."
    )
    assert lines[-2:] == [
        "- GetUserRequest: string.pattern",
        "- CreateUserRequest: string.min_len, repeated.unique",
    ]


def test_the_validation_goal_line_says_when_it_is_missed() -> None:
    lines = validation_table([ValidationRow("A", 900.0, 2.0, 1200.0, 150.5, ("x",))])
    assert "A 150.5 µs; the goal of at most 100 µs per request type is missed." in lines[4]


def test_no_validation_section_without_bench_validation(tmp_path: Path) -> None:
    assert validation_section(tmp_path / "validation.py") == []


def test_the_validation_table_of_bench_validation_is_included(tmp_path: Path) -> None:
    module = tmp_path / "validation.py"
    module.write_text("def validation_table():\n    return ['| message | µs |', '| A | 12 |']\n")
    assert validation_section(module) == ["### Validation", "", "| message | µs |", "| A | 12 |"]


def test_a_bench_validation_without_the_function_adds_nothing(tmp_path: Path) -> None:
    module = tmp_path / "validation.py"
    module.write_text("def main():\n    return 0\n")
    assert validation_section(module) == []


def test_a_failing_validation_benchmark_is_reported_not_fatal(tmp_path: Path) -> None:
    module = tmp_path / "validation.py"
    module.write_text("def validation_table():\n    raise RuntimeError('no protovalidate')\n")
    assert validation_section(module) == [
        "### Validation",
        "",
        "`validation.py` failed: RuntimeError: no protovalidate",
    ]


def test_the_origination_hop_presents_the_client_certificate_and_checks_the_server() -> None:
    from bench.agora_bench.origin import origin_config

    config = origin_config(4000, 5000, Path("/certs"), server="echo", client="cli")
    listener = config["static_resources"]["listeners"][0]
    cluster = config["static_resources"]["clusters"][0]
    tls = cluster["transport_socket"]["typed_config"]
    assert listener["address"]["socket_address"]["port_value"] == 4000
    endpoint = cluster["load_assignment"]["endpoints"][0]["lb_endpoints"][0]["endpoint"]
    assert endpoint["address"]["socket_address"]["port_value"] == 5000
    assert tls["sni"] == "echo"
    common = tls["common_tls_context"]
    assert common["tls_certificates"][0]["certificate_chain"]["filename"] == "/certs/cli.crt"
    assert common["validation_context"]["match_typed_subject_alt_names"][0]["matcher"] == {
        "exact": "spiffe://agora.local/echo"
    }


def test_commerce_lines_count_every_worker_against_both_echoes_and_judge_the_goals() -> None:
    measured = [
        Result("echo-aio", "echo", rps=1000.0, cpu={"echo server": 0.1}),  # 100 µs
        Result("echo-aio-mtls", "echo mTLS", rps=1000.0, cpu={"echo server": 0.2}),  # 200 µs
        Result(
            "list-http",
            "list",
            rps=100.0,
            cpu={"catalog-1 service": 0.05, "catalog-2 service": 0.05, "edge Envoy": 0.02},
        ),
        Result(
            "additem-grpc",
            "add",
            rps=100.0,
            cpu={"catalog-1 service": 0.04, "basket-1 service": 0.06},
        ),
        Result("list-http-fixed", "fixed", rps=300.0, p99_ms=19.9),
        Result("additem-grpc-fixed", "fixed", rps=300.0, p99_ms=20.0),
    ]
    lines = commerce_ratios(measured)
    assert lines[0].endswith("(200 µs):")
    listing = next(line for line in lines if "`list-http`" in line)
    assert "edge 200 µs = 1.00x" in listing and "catalog 1,000 µs = 5.00x" in listing
    assert "**5.00x**, 10.00x `echo-aio`'s (goal ≤ 5x: met)" in listing
    adding = next(line for line in lines if "`additem-grpc`" in line)
    assert "basket + catalog = **5.00x**" in adding and "(goal ≤ 4x: missed)" in adding
    assert any("`list-http-fixed`): 19.90 ms (goal < 20 ms: met)" in line for line in lines)
    assert any("`additem-grpc-fixed`): 20.00 ms (goal < 20 ms: missed)" in line for line in lines)
