# syntax=docker/dockerfile:1
# One image for every Python process of the mesh (docs/adr/0010-compose.md):
#   python -m services.auth | services.user | services.user migrate   (ENTRYPOINT python -m)
#   agora certs --data-dir /data                                        (entrypoint: agora)
#   python /opt/agora/edge_config.py /data/envoy/envoy.yaml             (edge-config job)
#   python /opt/agora/grpc_health.py 127.0.0.1:50051 --server auth      (healthchecks)

# Dependencies come from requirements/runtime.lock (exact versions, sha256 hashes, pip and the
# build backend included); the project itself is built with that locked backend, offline.
FROM python:3.11-slim AS build
ENV PIP_NO_CACHE_DIR=1 PIP_DISABLE_PIP_VERSION_CHECK=1
RUN python -m venv /opt/venv
WORKDIR /src
COPY requirements/runtime.lock ./requirements/
RUN /opt/venv/bin/python -m pip install --require-hashes -r requirements/runtime.lock
COPY pyproject.toml README.md ./
COPY gen ./gen
COPY pkg ./pkg
COPY services ./services
RUN /opt/venv/bin/python -m pip install --no-deps --no-build-isolation . \
 && /opt/venv/bin/python -c "import agora, pkg.edge, pkg.pki, pkg.cli.main, services.auth, services.user"

FROM python:3.11-slim
ENV PATH=/opt/venv/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    PYTHONDONTWRITEBYTECODE=1
# uid/gid 10001 is fixed: the edge (Envoy image) runs as the same uid to read edge.key (0600).
# The mount points exist here, owned by agora, so empty named volumes start owned by agora
# (/data/certs/<name>: one certificate volume per identity, written by the certs jobs).
RUN groupadd --system --gid 10001 agora \
 && useradd --system --uid 10001 --gid agora --create-home --home-dir /home/agora \
      --shell /usr/sbin/nologin agora \
 && install -d -o agora -g agora -m 0755 /data /data/envoy \
 && install -d -o agora -g agora -m 0700 /data/pki /data/certs /data/certs/auth /data/certs/user /data/certs/edge /data/certs/cli /data/auth-keys /data/user
COPY --from=build /opt/venv /opt/venv
COPY deploy/compose/grpc_health.py deploy/compose/edge_config.py /opt/agora/
USER agora:agora
WORKDIR /home/agora
ENTRYPOINT ["python", "-m"]
CMD ["services.auth"]
