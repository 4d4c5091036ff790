"""``make bench``'s readers of load-generator output, fed with recorded runs.

The samples under ``bench_samples/`` were recorded on this machine with the tools the bench
uses (nghttp2 1.52 ``nghttp -v`` and ``h2load`` against ``bench/echo_server.py``; ``wrk``
4.1 against ``python -m http.server``).
"""

from __future__ import annotations

from pathlib import Path

import pytest

from bench.agora_bench.parsers import (
    h2load_latencies,
    h2load_result,
    nghttp_verdict,
    percentile,
    wrk_ms,
    wrk_result,
)
from bench.agora_bench.results import Result

SAMPLES = Path(__file__).parent / "bench_samples"


def sample(name: str) -> str:
    return (SAMPLES / name).read_bytes().decode(errors="replace")


def test_a_preflight_answering_grpc_status_0_passes_with_its_response_size() -> None:
    assert nghttp_verdict(sample("nghttp-ok.out")) == (None, 7)


def test_a_preflight_answering_a_grpc_error_is_a_problem_naming_status_and_message() -> None:
    problem, received = nghttp_verdict(sample("nghttp-unimplemented.out"))
    assert problem == "preflight: grpc-status 12 (Method not found!)"
    assert received == 0


def test_a_preflight_without_any_http2_answer_says_what_happened() -> None:
    problem, _ = nghttp_verdict("[ERROR] Could not connect to the address 127.0.0.1\n")
    assert problem == (
        "preflight: no HTTP/2 response ([ERROR] Could not connect to the address 127.0.0.1)"
    )


def test_percentile_is_the_nearest_rank() -> None:
    values = list(range(1, 101))
    assert percentile(values, 0.50) == 50.0
    assert percentile(values, 0.99) == 99.0
    assert percentile(values, 1.0) == 100.0
    assert percentile(values, 0.07) == 7.0
    assert percentile([1, 2], 0.50) == 1.0
    assert percentile([7], 0.99) == 7.0


def test_h2load_requests_still_in_flight_at_the_end_are_not_latencies() -> None:
    log = "1\t200\t1500\n2\t0\t999999\n3\t503\t700\nnot a log line\n"
    assert h2load_latencies(log) == [700, 1500]


def test_an_h2load_run_gives_rps_counts_and_percentiles() -> None:
    log = "".join(f"{i}\t200\t{i * 1000}\n" for i in range(1, 101)) + "101\t0\t5000000\n"
    row = h2load_result(Result("echo-aio", "x"), 0, sample("h2load.out"), "", log, 7)
    assert (row.rps, row.requests, row.failed) == (2842.0, 2842, 0)
    assert (row.p50_ms, row.p99_ms) == (50.0, 99.0)
    assert row.note == ""


def test_recorded_h2load_log_percentiles_lie_within_its_latencies() -> None:
    log = sample("h2load-requests.log")
    row = h2load_result(Result("echo-aio", "x"), 0, sample("h2load.out"), "", log, 7)
    latencies = h2load_latencies(log)
    assert row.p50_ms is not None and row.p99_ms is not None
    assert latencies[0] / 1000 <= row.p50_ms <= row.p99_ms <= latencies[-1] / 1000


def test_h2load_answers_shorter_than_the_preflights_are_flagged_as_grpc_errors() -> None:
    row = h2load_result(Result("edge-grpc", "x"), 0, sample("h2load.out"), "", "", 8)
    assert row.note == (
        "response bytes (19894) below 2842 x 8: some answers carried no message (gRPC errors?)"
    )
    assert row.rps == 2842.0


def test_a_failed_h2load_run_is_not_measured_and_says_why() -> None:
    row = h2load_result(Result("edge-grpc", "x"), 1, "", "connect: refused\n", "", 7)
    assert row.rps is None
    assert row.note == "h2load failed (exit 1): connect: refused"


def test_h2load_non_2xx_answers_count_as_failed() -> None:
    out = sample("h2load.out").replace(
        "2842 2xx, 0 3xx, 0 4xx, 0 5xx", "2800 2xx, 0 3xx, 2 4xx, 40 5xx"
    )
    row = h2load_result(Result("edge-grpc", "x"), 0, out, "", "", 0)
    assert row.failed == 42


def test_a_wrk_run_gives_rps_counts_and_percentiles() -> None:
    row = wrk_result(Result("edge-http", "x"), 0, sample("wrk.out"), "")
    assert (row.rps, row.requests, row.failed) == (648.80, 650, 0)
    assert (row.p50_ms, row.p99_ms) == (2.83, 6.44)


def test_wrk_non_2xx_answers_count_as_failed() -> None:
    row = wrk_result(Result("edge-http", "x"), 0, sample("wrk-non2xx.out"), "")
    assert (row.requests, row.failed) == (1673, 1673)


def test_wrk_socket_errors_count_as_failed() -> None:
    out = sample("wrk.out").replace(
        "Requests/sec:", "  Socket errors: connect 1, read 2, write 3, timeout 4\nRequests/sec:"
    )
    assert wrk_result(Result("edge-http", "x"), 0, out, "").failed == 10


def test_a_wrk_run_that_cannot_connect_is_not_measured_and_says_why() -> None:
    row = wrk_result(Result("edge-http", "x"), 1, "", sample("wrk-refused.out"))
    assert row.rps is None
    assert row.note == "wrk failed (exit 1): unable to connect to 127.0.0.1:9 Connection refused"


@pytest.mark.parametrize(
    ("text", "ms"), [("850.00us", 0.85), ("6.44ms", 6.44), ("2.00s", 2000.0), ("1.50m", 90000.0)]
)
def test_wrk_latencies_in_every_unit_become_milliseconds(text: str, ms: float) -> None:
    assert wrk_ms(text) == pytest.approx(ms)


def test_an_unknown_wrk_latency_unit_is_an_error() -> None:
    with pytest.raises(ValueError, match="unparsable wrk latency"):
        wrk_ms("3.0h")
