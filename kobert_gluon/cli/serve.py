"""``serve``: a fine-tuned model over HTTP (kobert_gluon.serving)."""
import logging
import time

from .run_options import add_runtime_args, load_predictor_from_args

COMMANDS = {'serve': 'answer predictions over HTTP: /predict, /ner, /qa, /embed, KServe v2, /metrics'}

# The defaults, written out so that building the parser imports no web framework (a test checks them against
# serving.app.ServeSettings).
DEFAULTS = {'max_batch_size': 32, 'max_batch_delay_ms': 5.0, 'max_queue': 1024, 'max_body_bytes': 1 << 20,
            'max_client_batch_size': 128}


def register(subparsers):
    serve = subparsers.add_parser(
        'serve', help=COMMANDS['serve'],
        description='Serve a fine-tuned model: POST /predict {"inputs": "..."} (classes), /ner, /qa, /embed, '
                    '/tokenize; the Open Inference Protocol (/v2/...); Prometheus /metrics; a test page at /. '
                    'Needs the [serve] extra. SIGTERM or Ctrl-C answers the accepted requests, then exits 0.')
    serve.add_argument('--model', required=True, help='fine-tuned model folder, run folder or shipped name')
    serve.add_argument('--name', help='the model\'s name in /v2/models/NAME (default: its folder\'s name)')
    serve.add_argument('--host', default='127.0.0.1',
                       help='address to listen on; another than loopback is reachable from other machines '
                            '(default: %(default)s)')
    serve.add_argument('--port', type=int, default=8080, help='default: %(default)s; 0: a free port')
    serve.add_argument('--max-batch-size', type=int, default=DEFAULTS['max_batch_size'], metavar='ROWS',
                       help='inputs per batch the model computes (default: %(default)s)')
    serve.add_argument('--max-batch-delay-ms', type=float, default=DEFAULTS['max_batch_delay_ms'], metavar='MS',
                       help='how long a batch waits for more requests after its first (default: %(default)s)')
    serve.add_argument('--max-queue', type=int, default=DEFAULTS['max_queue'], metavar='N',
                       help='requests waiting at most; more are answered 503 with Retry-After (default: %(default)s)')
    serve.add_argument('--max-body-bytes', type=int, default=DEFAULTS['max_body_bytes'], metavar='N',
                       help='larger request bodies are answered 413 (default: %(default)s)')
    serve.add_argument('--max-client-batch-size', type=int, default=DEFAULTS['max_client_batch_size'], metavar='N',
                       help='inputs one request may send; more are answered 422 (default: %(default)s)')
    add_runtime_args(serve)
    serve.set_defaults(func=run_serve)


def run_serve(args):
    from ..serving import require_serving_packages
    require_serving_packages()  # one line naming the extra, before the model is loaded
    from ..serving.app import ServeSettings, create_app
    from ..serving.server import bind, is_loopback, serve
    from . import UsageError
    from .run_options import stderr_notes
    for option in ('max_batch_size', 'max_queue', 'max_body_bytes', 'max_client_batch_size'):
        if getattr(args, option) < 1:
            raise UsageError('--{} must be at least 1'.format(option.replace('_', '-')))
    if args.max_batch_delay_ms < 0:
        raise UsageError('--max-batch-delay-ms must be 0 or more')
    if not 0 <= args.port <= 65535:
        raise UsageError('--port must be between 0 and 65535')
    settings = ServeSettings(max_batch_size=args.max_batch_size, max_batch_delay_ms=args.max_batch_delay_ms,
                             max_queue=args.max_queue, max_body_bytes=args.max_body_bytes,
                             max_client_batch_size=args.max_client_batch_size)
    out = logging.getLogger('kobert_gluon.cli')
    if not is_loopback(args.host):
        out.warning('--host %s: reachable from other machines, with no authentication', args.host)
    sock = bind(args.host, args.port)  # a port in use is one line before the model is loaded
    try:
        model = load_predictor_from_args(args)
        # a static-shape runtime (OpenVINO) compiles every batch shape before the server is ready: said, not silent
        pending = model.shapes_to_prepare(settings.max_batch_size)
        if pending:
            notes = stderr_notes(args)
            notes('compiling {} input shapes (batches of up to {} rows, up to {} tokens)...'.format(
                pending, settings.max_batch_size, model.max_seq_length))
            started = time.perf_counter()
            model.prepare(settings.max_batch_size)
            notes('compiled in {:.1f} s'.format(time.perf_counter() - started))
        app = create_app(model, name=args.name, settings=settings)
        host, port = sock.getsockname()[:2]
        stderr_notes(args)('kobert-gluon serve: {} on http://{}:{} (Ctrl-C stops)'.format(
            args.model, '[{}]'.format(host) if ':' in host else host, port))
        serve(app, sock, log_level='warning' if not args.debug else 'info')
    finally:
        sock.close()
    return 0
