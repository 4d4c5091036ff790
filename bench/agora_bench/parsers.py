"""Reading the load generators' output: ``nghttp -v`` (the preflight call), ``h2load``'s
summary and per-request log, ``wrk --latency``. Pure functions over text, no processes."""

from __future__ import annotations

import math
import re

from .results import Result

_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def nghttp_verdict(out: str) -> tuple[str | None, int]:
    """Judge the combined output of one ``nghttp -v`` gRPC call.

    Returns (problem, response bytes): problem is None when it answered HTTP 200 with
    ``grpc-status: 0``; response bytes is the length of the DATA frames it received.
    """
    status = re.search(r"recv \(stream_id=\d+\) :status: (\d+)", out)
    grpc_status = re.search(r"recv \(stream_id=\d+\) grpc-status: (\d+)", out)
    message = re.search(r"recv \(stream_id=\d+\) grpc-message: (.*)", out)
    received = sum(int(n) for n in re.findall(r"recv DATA frame <length=(\d+)", out))
    if status is None:
        last = out.strip().splitlines()[-1:] or ["nothing"]
        return f"preflight: no HTTP/2 response ({last[0]})", 0
    if status.group(1) != "200":
        return f"preflight: HTTP {status.group(1)}", 0
    if grpc_status is None or grpc_status.group(1) != "0":
        code = grpc_status.group(1) if grpc_status else "missing"
        detail = f" ({message.group(1).strip()})" if message else ""
        return f"preflight: grpc-status {code}{detail}", 0
    return None, received


def percentile(sorted_values: list[int], q: float) -> float:
    """The ``q`` quantile (0..1) of ``sorted_values`` (ascending, non-empty): the value of
    nearest rank ``ceil(q * n)`` (at least 1)."""
    rank = max(1, math.ceil(round(q * len(sorted_values), 9)))
    return float(sorted_values[min(rank, len(sorted_values)) - 1])


def h2load_latencies(log_text: str) -> list[int]:
    """Latencies (µs, ascending) from an h2load ``--log-file``.

    Each line: send time (µs since epoch), HTTP status, latency (µs), tab-separated.
    Status 0 marks a request still in flight when the duration ended: neither a latency
    nor a failure, so it is left out.
    """
    return sorted(
        int(parts[2])
        for parts in (line.split("\t") for line in log_text.splitlines())
        if len(parts) == 3 and parts[1] != "0"
    )


def h2load_result(
    result: Result, returncode: int, stdout: str, stderr: str, log_text: str, response_bytes: int
) -> Result:
    """Fill ``result`` from one h2load run (or set its ``note`` when the run failed).

    RPS is h2load's; p50/p99 (ms) from the per-request log. ``failed`` counts h2load's
    failed and errored requests and non-2xx statuses. h2load cannot see ``grpc-status``
    (a trailer): a run whose received body bytes fall below 98 % of (2xx answers x
    ``response_bytes``, what the preflight call received) is flagged in ``note``, since a
    gRPC error answer carries no message.
    """
    finished = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", stdout)
    counts = re.search(
        r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
        r"(\d+) failed, (\d+) errored",
        stdout,
    )
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", stdout)
    body = re.search(r"^traffic: .*\((\d+)\) data$", stdout, re.M)
    if returncode or not finished or not counts or not codes:
        result.note = f"h2load failed (exit {returncode}): {stderr.strip()[-200:]}"
        return result
    latencies = h2load_latencies(log_text)
    ok = int(codes.group(1))
    result.requests = int(counts.group(3))
    result.failed = (
        int(counts.group(4)) + int(counts.group(5)) + sum(int(codes.group(i)) for i in (2, 3, 4))
    )
    result.rps = float(finished.group(1))
    if latencies:
        result.p50_ms = percentile(latencies, 0.50) / 1000
        result.p99_ms = percentile(latencies, 0.99) / 1000
    if body and response_bytes and int(body.group(1)) < 0.98 * ok * response_bytes:
        result.note = (
            f"response bytes ({body.group(1)}) below {ok} x {response_bytes}: "
            "some answers carried no message (gRPC errors?)"
        )
    return result


def wrk_ms(text: str) -> float:
    """A wrk latency (``850.00us``, ``1.20ms``, ``2.00s``, ``1.00m``) in milliseconds.

    Raises ``ValueError`` for anything else.
    """
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def wrk_result(result: Result, returncode: int, stdout: str, stderr: str) -> Result:
    """Fill ``result`` from one ``wrk --latency`` run (or set its ``note`` when it failed).

    ``failed`` counts non-2xx/3xx answers and socket errors (connect, read, write, timeout).
    """
    rps = re.search(r"Requests/sec:\s+([\d.]+)", stdout)
    total = re.search(r"(\d+) requests in", stdout)
    p50 = re.search(r"^\s+50%\s+(\S+)", stdout, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", stdout, re.M)
    if returncode or not (rps and total and p50 and p99):
        result.note = f"wrk failed (exit {returncode}): {stderr.strip()[-200:]}"
        return result
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", stdout)
    errors = re.search(
        r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", stdout
    )
    result.rps = float(rps.group(1))
    result.requests = int(total.group(1))
    result.failed = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0
    )
    result.p50_ms = wrk_ms(p50.group(1))
    result.p99_ms = wrk_ms(p99.group(1))
    return result
