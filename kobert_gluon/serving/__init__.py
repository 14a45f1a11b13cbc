"""Serving a fine-tuned model over HTTP (the ``serve`` command): ``create_app(model)`` is the ASGI app.

``batching`` (the queue and the batcher thread: plain Python), ``service`` (what a model answers, request bodies
read and checked: no web framework), ``app`` (FastAPI routes, the Open Inference Protocol, Prometheus metrics),
``page`` (``GET /``), ``server`` (uvicorn on a socket bound first, stopping cleanly on SIGTERM/Ctrl-C).

FastAPI, uvicorn and prometheus-client come with the ``[serve]`` extra; nothing here is imported by
``import kobert_gluon``, and this package's names load them on first use.
"""
from ..core.errors import InputError

__all__ = ['create_app', 'ServeSettings', 'serve', 'require_serving_packages']

SERVING_PACKAGES = ('fastapi', 'uvicorn', 'prometheus_client')


def require_serving_packages() -> None:
    """One line naming the extra when a package of it is missing."""
    import importlib.util
    missing = [name for name in SERVING_PACKAGES if importlib.util.find_spec(name) is None]
    if missing:
        raise InputError('serving needs {} (not installed): pip install "kobert-gluon[serve]"'
                         .format(', '.join(name.replace('_', '-') for name in missing)))


def __getattr__(name):
    if name in ('create_app', 'ServeSettings'):
        require_serving_packages()
        from . import app
        return getattr(app, name)
    if name == 'serve':
        require_serving_packages()
        from .server import serve
        return serve
    raise AttributeError(name)
