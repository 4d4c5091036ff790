"""Vendor the third-party ``.proto`` sources Agora's contracts import into ``api/third_party``.

No remote registry (BSR) is reachable, so the sources come from PyPI, at the versions
``requirements/test.lock`` pins:

* ``google/api``, ``google/rpc``, ``google/type``: the ``.proto`` files that
  googleapis-common-protos installs beside its generated modules (the installed version must
  be the locked one).
* ``buf/validate/validate.proto``: protovalidate's source distribution ships it
  (``upstream/proto/buf/validate/validate.proto``, the ``buf export`` of the protovalidate
  module that release was generated from). The sdist of the locked version is downloaded
  with pip, checked against the lock's sha256 hashes, and the file copied unchanged.

Run: ``python tools/vendor_protos.py`` (``make vendor-protos``). Raises ``SystemExit`` when
a locked version is not the installed one or the sdist does not hold the file.
"""

from __future__ import annotations

import importlib.metadata
import pathlib
import re
import shutil
import subprocess
import sys
import tarfile
import tempfile

ROOT = pathlib.Path(__file__).resolve().parent.parent
THIRD_PARTY = ROOT / "api" / "third_party"
LOCK = ROOT / "requirements" / "test.lock"
VALIDATE_PROTO = "buf/validate/validate.proto"
SDIST_VALIDATE_PROTO = f"upstream/proto/{VALIDATE_PROTO}"
GOOGLE_PROTOS = [
    "google/api/annotations.proto",
    "google/api/http.proto",
    "google/api/httpbody.proto",
    "google/api/field_behavior.proto",
    "google/api/resource.proto",
    "google/api/client.proto",
    "google/api/launch_stage.proto",
    "google/rpc/status.proto",
    "google/rpc/code.proto",
    "google/rpc/error_details.proto",
    "google/type/money.proto",
]


def locked(name: str) -> tuple[str, list[str]]:
    """``(version, ["sha256:...", ...])`` of ``name`` in ``requirements/test.lock``."""
    text = LOCK.read_text(encoding="utf-8").replace("\\\n", " ")
    match = re.search(rf"^{re.escape(name)}==(\S+)(.*)$", text, re.MULTILINE)
    if match is None:
        raise SystemExit(f"{name} is not in {LOCK.relative_to(ROOT)}: run make lock")
    return match.group(1), re.findall(r"--hash=(sha256:[0-9a-f]+)", match.group(2))


def _installed_is_locked(name: str) -> None:
    version, _ = locked(name)
    if importlib.metadata.version(name) != version:
        raise SystemExit(
            f"{name} {importlib.metadata.version(name)} is installed, the lock "
            f"pins {version}: run make venv"
        )


def _copy_google() -> None:
    _installed_is_locked("googleapis-common-protos")
    import google.api

    site = pathlib.Path(google.api.__path__[0]).parent.parent
    for rel in GOOGLE_PROTOS:
        dest = THIRD_PARTY / rel
        dest.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(site / rel, dest)


def validate_proto_source(version: str, hashes: list[str]) -> bytes:
    """``buf/validate/validate.proto`` as protovalidate ``version``'s sdist ships it.

    The sdist is downloaded with pip and must match one of ``hashes`` (``sha256:<hex>``).
    Raises ``subprocess.CalledProcessError`` when pip fails, ``SystemExit`` when the sdist
    holds no such file.
    """
    with tempfile.TemporaryDirectory() as tmp:
        requirement = pathlib.Path(tmp) / "requirement.txt"
        requirement.write_text(
            f"protovalidate=={version} " + " ".join(f"--hash={h}" for h in hashes) + "\n"
        )
        subprocess.run(
            [
                sys.executable,
                "-m",
                "pip",
                "download",
                "-q",
                "--no-deps",
                "--no-binary",
                ":all:",
                "--require-hashes",
                "-r",
                str(requirement),
                "-d",
                tmp,
            ],
            check=True,
        )
        sdist = next(pathlib.Path(tmp).glob("protovalidate-*.tar.gz"))
        with tarfile.open(sdist) as tar:
            member = next(
                (m for m in tar.getmembers() if m.name.split("/", 1)[-1] == SDIST_VALIDATE_PROTO),
                None,
            )
            source = tar.extractfile(member) if member is not None else None
            if source is None:
                raise SystemExit(f"{sdist.name} holds no {SDIST_VALIDATE_PROTO}")
            return source.read()


def main() -> None:
    """Write the vendored protos into ``api/third_party``."""
    _copy_google()
    version, hashes = locked("protovalidate")
    dest = THIRD_PARTY / VALIDATE_PROTO
    dest.parent.mkdir(parents=True, exist_ok=True)
    dest.write_bytes(validate_proto_source(version, hashes))
    print(
        f"vendored {len(GOOGLE_PROTOS)} google protos and {VALIDATE_PROTO} "
        f"from protovalidate {version}"
    )


if __name__ == "__main__":
    main()
