"""Running the app: the socket bound first (a port in use is one line, before the model is loaded), then uvicorn on
it. SIGTERM and Ctrl-C stop accepting, let every accepted request be answered (the batcher drains its queue), and
return normally, so the command exits 0: a stop asked for is not a failure."""
import errno
import ipaddress
import logging
import socket

import uvicorn

from ..core.errors import InputError

__all__ = ['bind', 'serve', 'is_loopback']

log = logging.getLogger(__name__)


def is_loopback(host: str) -> bool:
    if host == 'localhost':
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def bind(host: str, port: int) -> socket.socket:
    """A listening socket on ``host:port`` (port 0: a free one; read it from ``getsockname()``)."""
    try:
        family, kind, proto, _name, address = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)[0]
    except socket.gaierror as err:
        raise InputError('--host {}: {}'.format(host, err.strerror)) from None
    sock = socket.socket(family, kind, proto)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)  # a restart right after a stop must not wait
    try:
        sock.bind(address)
    except OSError as err:
        sock.close()
        if err.errno == errno.EADDRINUSE:
            raise InputError('port {} on {} is in use; choose another with --port'.format(port, host)) from None
        if err.errno in (errno.EACCES, errno.EADDRNOTAVAIL):
            raise InputError('cannot listen on {}:{}: {}'.format(host, port, err.strerror.lower())) from None
        raise
    sock.listen(2048)
    sock.set_inheritable(True)
    return sock


class _Server(uvicorn.Server):
    def handle_exit(self, sig, frame):
        super().handle_exit(sig, frame)
        # uvicorn raises a caught signal again once it has stopped (the process would die of it, status 143 or 130);
        # a stop asked for is how a server ends, so it ends normally
        self._captured_signals.clear()


def serve(app, sock: socket.socket, log_level: str = 'warning') -> None:
    """Serve ``app`` on ``sock`` until SIGTERM or Ctrl-C, answering every accepted request before returning."""
    config = uvicorn.Config(app, log_level=log_level, timeout_graceful_shutdown=None, access_log=False,
                            lifespan='on')
    _Server(config).run(sockets=[sock])
