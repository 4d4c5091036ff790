"""gRPC credentials and channels for mutual TLS inside the mesh, reloaded on renewal.

Every workload presents ``<cert_dir>/<name>.crt`` (leaf + intermediate) with ``<name>.key``
and trusts only ``<cert_dir>/intermediate_ca.crt`` (the current intermediate, not the root:
``agora certs --rotate-intermediate`` thereby revokes every older leaf, docs/adr/0021);
servers require client certificates.  A client names the service it expects, and the
channel checks the server certificate's DNS SAN against that name
(``grpc.ssl_target_name_override``), so a channel to ``user`` talks only to a certificate
issued for ``user``.  Targets may list several addresses
(``ipv4:127.0.0.1:50052,127.0.0.1:50062``); calls are balanced ``round_robin`` over the
addresses whose gRPC health is SERVING (client-side health checking), and carry the running
request's id, trace context and remaining deadline (``propagate``).

Leaves live 24 h and ``agora certs`` renews them on disk; nothing here needs a restart:

- ``server_credentials`` are dynamic: before a new connection's handshake gRPC asks for the
  current certificate, and the files are re-read when their ``stat`` changed (checked at
  most every ``check_interval`` seconds) and only switched to once key and certificate match.
- ``client`` builds such a channel with a generated stub on it and hands the channel's
  ``close`` to the caller's ``AsyncExitStack``: services build no channels or stubs inline.
- ``forwarded_authorization`` is the metadata an adapter adds to a call it makes on the
  caller's behalf: the running request's verified access token, never added implicitly.
- ``secure_channel`` returns a ``ReloadingChannel``, a drop-in ``grpc.aio.Channel`` that
  builds a new channel when its identity's files change and closes the old one once its
  in-flight calls are done.  Stubs built on it once stay valid.

See docs/adr/0011-certificate-reload.md.
"""

from pkg.mtls._channel import ReloadingChannel, channel_credentials, secure_channel
from pkg.mtls._client import Client, client
from pkg.mtls._files import CHECK_INTERVAL
from pkg.mtls._forwarding import forwarded_authorization
from pkg.mtls._propagation import propagate
from pkg.mtls._server import server_credentials

__all__ = [
    "CHECK_INTERVAL",
    "Client",
    "ReloadingChannel",
    "channel_credentials",
    "client",
    "forwarded_authorization",
    "propagate",
    "secure_channel",
    "server_credentials",
]
