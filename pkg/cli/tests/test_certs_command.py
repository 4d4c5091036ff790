"""``agora certs``: issue once, keep what is valid, renew everything with ``--force``."""

from __future__ import annotations

from pathlib import Path

import pytest
from cryptography import x509

from pkg.cli.main import main
from pkg.runtime import WORKLOADS


def _serials(cert_dir: Path) -> dict[str, int]:
    return {
        name: x509.load_pem_x509_certificates((cert_dir / f"{name}.crt").read_bytes())[
            0
        ].serial_number
        for name in WORKLOADS
    }


def test_force_renews_every_certificate_now(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    assert main(["certs", "--data-dir", str(tmp_path)]) == 0
    first = _serials(tmp_path / "certs")
    assert main(["certs", "--data-dir", str(tmp_path)]) == 0
    assert _serials(tmp_path / "certs") == first
    assert "all valid" in capsys.readouterr().out

    assert main(["certs", "--force", "--data-dir", str(tmp_path)]) == 0

    renewed = _serials(tmp_path / "certs")
    assert all(renewed[name] != first[name] for name in WORKLOADS), (first, renewed)
    assert f"issued {', '.join(WORKLOADS)}" in capsys.readouterr().out
