"""The real Redis URL of a running mesh, for operator commands (``agora events``, status).

``mesh.json`` records the URL with its password masked; the password itself is kept
where the mesh keeps it: in ``secrets/redis.password`` for the embedded Redis, and, for
a server named by ``REDIS_URL``, only in the services' environment in
``supervisord.conf`` (``program_environment``).
"""

from __future__ import annotations

from pathlib import Path

from pkg.runtime._mesh import MeshError, MeshLayout, read_mesh_state, service_spec
from pkg.runtime._secrets import with_password
from pkg.runtime._supervisor import program_environment


def mesh_redis_url(data_dir: Path) -> str:
    """The URL (with the password) of the Redis the mesh of ``data_dir`` uses.

    Raises ``FileNotFoundError`` when no mesh was started there (no ``mesh.json``), and
    ``MeshError`` when the password cannot be read or no service of the mesh uses the
    external Redis (pass its URL instead).
    """
    state = read_mesh_state(data_dir)
    layout = MeshLayout.at(data_dir)
    if state.get("redis_embedded"):
        try:
            password = layout.redis_password.read_text(encoding="utf-8").strip()
        except OSError as error:
            raise MeshError(
                f"cannot read the Redis password {layout.redis_password}: {error.strerror or error}"
            ) from error
        return with_password(str(state["redis_url"]), "default", password)
    for name in state.get("services", []):
        try:
            spec = service_spec(name)
        except KeyError:
            continue
        if not spec.redis:
            continue
        try:
            url = program_environment(layout.data_dir, name).get(f"{spec.prefix}REDIS_URL")
        except LookupError:
            continue
        if url:
            return url
    raise MeshError(
        f"the mesh in {layout.data_dir} uses an external Redis whose URL no "
        "running service records; pass it with --redis-url"
    )
