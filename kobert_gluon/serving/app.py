"""The HTTP application: FastAPI routes over a :class:`~.service.ModelService` and a :class:`~.batching.Batcher`.

FastAPI (on Starlette) for the OpenAPI description at ``/docs`` without writing one; bodies are read as plain JSON
and checked by :mod:`.service`, so a bad body is one line naming the field (422) rather than pydantic's report.
"""
import asyncio
import json
import logging
import time
from dataclasses import dataclass
from typing import Optional

from fastapi import FastAPI, Request
from fastapi.responses import HTMLResponse, JSONResponse, Response
import prometheus_client as prometheus

from ..core import checks
from .batching import Batcher, QueueFull
from .page import page_html
from .service import ModelService, RequestError, check_body, check_input_count, checked_text

__all__ = ['ServeSettings', 'create_app']

log = logging.getLogger(__name__)


@dataclass(frozen=True)
class ServeSettings:
    """How the server batches and what it accepts (the ``serve`` command's options)."""
    max_batch_size: int = 32
    max_batch_delay_ms: float = 5.0
    max_queue: int = 1024
    max_body_bytes: int = 1 << 20
    max_client_batch_size: int = 128
    retry_after_s: int = 1

    def __post_init__(self):
        checks.whole('max_batch_size', self.max_batch_size, 1)
        checks.number('max_batch_delay_ms', self.max_batch_delay_ms, 0.0)
        checks.whole('max_queue', self.max_queue, 1)
        checks.whole('max_body_bytes', self.max_body_bytes, 1)
        checks.whole('max_client_batch_size', self.max_client_batch_size, 1)
        checks.whole('retry_after_s', self.retry_after_s, 0)


class _Metrics:
    """Prometheus metrics in a registry of the app's own (two apps in one process keep apart)."""

    def __init__(self, depth):
        self.registry = prometheus.CollectorRegistry()
        self.requests = prometheus.Counter('kobert_gluon_requests', 'HTTP requests by route and status',
                                           ('route', 'status'), registry=self.registry)
        self.latency = prometheus.Histogram('kobert_gluon_request_seconds', 'time to answer a request, by route',
                                            ('route',), registry=self.registry)
        self.batch_size = prometheus.Histogram('kobert_gluon_batch_size', 'rows per batch the model computed',
                                               ('kind',), registry=self.registry,
                                               buckets=(1, 2, 4, 8, 16, 32, 64, 128, 256))
        self.tokens = prometheus.Counter('kobert_gluon_tokens', 'tokens the model computed (after cutting)',
                                         ('kind',), registry=self.registry)
        self.in_progress = prometheus.Gauge('kobert_gluon_requests_in_progress', 'requests being answered, by route',
                                            ('route',), registry=self.registry)
        self.queue_depth = prometheus.Gauge('kobert_gluon_queue_depth', 'requests waiting for a batch',
                                            registry=self.registry)
        self.queue_depth.set_function(depth)

    def on_batch(self, kind: str, rows: int, tokens: int) -> None:
        self.batch_size.labels(kind).observe(rows)
        self.tokens.labels(kind).inc(tokens)


def _route_label(path: str) -> str:
    """A fixed set of labels: a model name or a random path in the URL must not make new time series."""
    if path.startswith('/v2/models/'):
        return '/v2/models/{name}' + ('/infer' if path.endswith('/infer') else
                                      '/ready' if path.endswith('/ready') else '')
    known = ('/', '/predict', '/ner', '/qa', '/embed', '/tokenize', '/metrics', '/v2/health/live',
             '/v2/health/ready', '/docs', '/openapi.json')
    return path if path in known else 'other'


class _Measured:
    """Every request counted by route and status and timed; a body declared larger than the limit refused (413)
    before it is read. A plain ASGI middleware: Starlette's ``BaseHTTPMiddleware`` (``@app.middleware``) runs each
    request through memory streams and a task group, a quarter of the event loop's time under load (py-spy, 32
    clients)."""

    def __init__(self, app, metrics: _Metrics, max_body_bytes: int):
        self.app = app
        self.metrics = metrics
        self.max_body_bytes = max_body_bytes

    async def __call__(self, scope, receive, send):
        if scope['type'] != 'http':
            await self.app(scope, receive, send)
            return
        started = time.perf_counter()
        route = _route_label(scope['path'])
        status = [500]  # what an exception that escapes the app becomes

        async def send_and_note(message):
            if message['type'] == 'http.response.start':
                status[0] = message['status']
            await send(message)

        declared = next((value for name, value in scope['headers'] if name == b'content-length'), None)
        in_progress = self.metrics.in_progress.labels(route)
        in_progress.inc()
        try:
            if declared is not None and declared.isdigit() and int(declared) > self.max_body_bytes:
                await _error('body: {} bytes, more than the {} this server accepts'.format(
                    declared.decode(), self.max_body_bytes), 413, 'payload_too_large')(scope, receive, send_and_note)
            else:
                await self.app(scope, receive, send_and_note)
        finally:
            in_progress.dec()
            self.metrics.requests.labels(route, str(status[0])).inc()
            self.metrics.latency.labels(route).observe(time.perf_counter() - started)


def _error(message: str, status: int, kind: str = 'validation', headers=None) -> JSONResponse:
    # text-embeddings-inference's error body
    return JSONResponse({'error': message, 'error_type': kind}, status_code=status, headers=headers)


_INPUTS_BODY = {'requestBody': {'required': True, 'content': {'application/json': {'schema': {
    'type': 'object', 'required': ['inputs'],
    'properties': {'inputs': {'oneOf': [{'type': 'string'}, {'type': 'array', 'items': {'type': 'string'}},
                                        {'type': 'array', 'items': {'type': 'array', 'items': {'type': 'string'}}}]},
                   'truncate': {'type': 'boolean', 'default': True}}},
    'example': {'inputs': '정말 재밌어요'}}}}}
_QA_BODY = {'requestBody': {'required': True, 'content': {'application/json': {'schema': {
    'type': 'object', 'required': ['question', 'context'],
    'properties': {'question': {'type': 'string'}, 'context': {'type': 'string'}}}}}}}
_INFER_BODY = {'requestBody': {'required': True, 'content': {'application/json': {'example': {
    'inputs': [{'name': 'text', 'shape': [1], 'datatype': 'BYTES', 'data': ['정말 재밌어요']}]}}}}}


def create_app(model, name: Optional[str] = None, settings: Optional[ServeSettings] = None, **load_options):
    """The ASGI app serving ``model``: a loaded :class:`~kobert_gluon.tasks.finetuning.FineTunedModel`, or what
    :func:`~kobert_gluon.deploy.predictor.load_predictor` takes (a fine-tuned folder, a run folder, a shipped name;
    ``load_options``: its ``runtime``, ``precision``, ``threads``, ``device``, ``calibration``). ``name``: the model's
    name in ``/v2/models/{name}`` (default: the folder's name). Ready once the batcher runs and the model is warm."""
    settings = settings or ServeSettings()
    if not hasattr(model, 'predict'):
        from ..deploy.predictor import load_predictor
        model = load_predictor(model, **load_options)
    elif load_options:
        raise RequestError('{} apply to a model given by name or folder; this one is loaded already'
                           .format(', '.join(sorted(load_options))))
    service = ModelService(model, name or model.folder.name)
    metrics = _Metrics(lambda: batcher.depth)
    batcher = Batcher(service.runners(), max_batch_size=settings.max_batch_size,
                      max_delay_s=settings.max_batch_delay_ms / 1000.0, max_queue=settings.max_queue,
                      on_batch=metrics.on_batch)
    state = {'ready': False}

    async def lifespan(_app):
        service.warm_up(batcher)  # before the socket accepts: the first request pays nothing extra
        batcher.start()
        state['ready'] = True
        log.info('serving %s (%s): /%s', service.name, model.graph, ', /'.join(service.routes))
        yield
        # uvicorn has stopped accepting and answered every accepted request before this runs
        state['ready'] = False
        await asyncio.get_running_loop().run_in_executor(None, batcher.stop)

    app = FastAPI(title='kobert-gluon: {}'.format(service.name), lifespan=lifespan)
    app.state.service = service
    app.state.batcher = batcher
    app.state.metrics = metrics

    app.add_middleware(_Measured, metrics=metrics, max_body_bytes=settings.max_body_bytes)

    @app.exception_handler(RequestError)
    async def refused(_request, err: RequestError):
        return _error(str(err), err.status, 'validation' if err.status == 422 else 'not_found')

    async def read_json(request: Request):
        data = b''
        async for chunk in request.stream():  # a body without Content-Length is counted as it arrives
            data += chunk
            if len(data) > settings.max_body_bytes:
                raise _TooLarge()
        try:
            return json.loads(data.decode('utf-8'))
        except UnicodeDecodeError:
            raise RequestError('body: not UTF-8') from None
        except ValueError as err:
            raise RequestError('body: not JSON ({})'.format(err)) from None
        except RecursionError:  # json's decoder recurses once per level: [[[[...]]]] exhausts the stack
            raise RequestError('body: nested too deeply') from None

    class _TooLarge(Exception):
        pass

    @app.exception_handler(_TooLarge)
    async def too_large(_request, _err):
        return _error('body: more than the {} bytes this server accepts'.format(settings.max_body_bytes), 413,
                      'payload_too_large')

    async def compute(route: str, rows, lengths):
        if not state['ready']:
            raise _NotReady()
        try:
            future = batcher.submit(route, rows, lengths)
        except QueueFull:
            raise _Busy() from None
        return await asyncio.wrap_future(future)

    class _Busy(Exception):
        pass

    class _NotReady(Exception):
        pass

    @app.exception_handler(_Busy)
    async def busy(_request, _err):
        return _error('the queue holds {} requests already; retry later'.format(settings.max_queue), 503,
                      'overloaded', headers={'Retry-After': str(settings.retry_after_s)})

    @app.exception_handler(_NotReady)
    async def not_ready(_request, _err):
        return _error('not ready (starting or stopping)', 503, 'unavailable')

    async def texts_route(request: Request, route: str, pairs_allowed: bool):
        service.require(route)
        rows, single, truncate = service.texts_of(await read_json(request), pairs_allowed,
                                                  settings.max_client_batch_size)
        lengths = service.lengths(rows, truncate)
        results = await compute(route, rows, lengths)
        return rows, single, results

    @app.post('/predict', openapi_extra=_INPUTS_BODY)
    async def predict(request: Request):
        """Every class with its probability, most likely first (a regressor: its score), per input."""
        _rows, single, results = await texts_route(request, 'predict', pairs_allowed=True)
        answers = [service.predict_answer(prediction) for prediction in results]
        # plain JSON types already: JSONResponse directly skips FastAPI's jsonable_encoder walk over every answer
        return JSONResponse(answers[0] if single else answers)

    def list_route(route: str, summary: str):
        """``POST /route``: a text or a list of texts in, one result per text out (one text: the result alone)."""
        async def answer(request: Request):
            _rows, single, results = await texts_route(request, route, pairs_allowed=False)
            return results[0] if single else results
        app.add_api_route('/' + route, answer, methods=['POST'], name=route, description=summary,
                          openapi_extra=_INPUTS_BODY)

    list_route('ner', 'The entities of each input: type, character offsets and text.')
    list_route('embed', 'One sentence vector per input (the model\'s backbone, as kobert_gluon.encode pools it).')
    list_route('tokenize', 'The pieces of each input (without [CLS]/[SEP]), their ids and character offsets.')

    @app.post('/qa', openapi_extra=_QA_BODY)
    async def qa(request: Request):
        """The answer span of the question in the context, with its character offsets."""
        service.require('qa')
        body = check_body(await read_json(request), ('question', 'context'))
        row = []
        for field in ('question', 'context'):
            if not isinstance(body.get(field), str) or not body[field].strip():
                raise RequestError('{}: must be a non-empty string'.format(field))
            row.append(checked_text(field, body[field]))  # and characters only
        # windows over a long context are the QA pipeline's own: nothing is cut, the length only orders batches
        results = await compute('qa', [tuple(row)], [min(service.length(tuple(row)), service.max_seq_length)])
        return results[0]

    # ----- Open Inference Protocol (KServe v2) ------------------------------------------------------------
    def check_name(model_name: str):
        if model_name != service.name:
            raise RequestError('no model {!r} here; this server serves {!r}'.format(model_name, service.name), 404)

    @app.get('/v2/health/live')
    async def live():
        return {'live': True}

    @app.get('/v2/health/ready')
    async def ready():
        return JSONResponse({'ready': state['ready']}, status_code=200 if state['ready'] else 503)

    @app.get('/v2')
    async def server_metadata():
        from ..core.version import __version__
        return {'name': 'kobert-gluon', 'version': __version__, 'extensions': []}

    @app.get('/v2/models/{model_name}')
    async def model_metadata(model_name: str):
        check_name(model_name)
        width = [-1, 2] if model.pair else [-1]
        outputs = model.pipeline.output_declarations(model) if 'predict' in service.routes else []
        return {'name': service.name, 'versions': [], 'platform': 'kobert-gluon',
                'inputs': [{'name': 'text', 'datatype': 'BYTES', 'shape': width}],
                'outputs': outputs,
                'parameters': {'labels': service.label_names, 'task': model.spec.kind, 'routes': list(service.routes)}}

    @app.get('/v2/models/{model_name}/ready')
    async def model_ready(model_name: str):
        check_name(model_name)
        return JSONResponse({'name': service.name, 'ready': state['ready']},
                            status_code=200 if state['ready'] else 503)

    @app.post('/v2/models/{model_name}/infer', openapi_extra=_INFER_BODY)
    async def infer(model_name: str, request: Request):
        """The v2 inference protocol over /predict's computation: a BYTES tensor ``text`` of shape [n] (a pair model:
        [n, 2]) in; ``label`` and ``probabilities`` (columns in the labels' order) out."""
        check_name(model_name)
        service.require('predict')
        body = check_body(await read_json(request), ('id', 'inputs', 'outputs', 'parameters'))
        tensors = body.get('inputs')
        if not isinstance(tensors, list) or len(tensors) != 1 or not isinstance(tensors[0], dict):
            raise RequestError('inputs: must be a list of one tensor {"name": "text", "shape": [n], '
                               '"datatype": "BYTES", "data": [...]}')
        tensor = tensors[0]
        if tensor.get('name') != 'text':
            raise RequestError('inputs[0].name: must be "text", got {!r}'.format(tensor.get('name')))
        if tensor.get('datatype') != 'BYTES':
            raise RequestError('inputs[0].datatype: must be "BYTES", got {!r}'.format(tensor.get('datatype')))
        shape, data = tensor.get('shape'), tensor.get('data')
        width = 2 if model.pair else 1
        expected = '[n, 2]' if model.pair else '[n]'
        if (not isinstance(shape, list) or not all(isinstance(d, int) and not isinstance(d, bool) and d > 0
                                                   for d in shape)
                or (len(shape) != (2 if model.pair else 1) and shape[1:] != [1]) or (model.pair and shape[1] != 2)):
            raise RequestError('inputs[0].shape: must be {}, got {!r}'.format(expected, shape))
        flat = [item for row in data for item in (row if isinstance(row, list) else [row])] \
            if isinstance(data, list) else None
        if flat is None or not all(isinstance(item, str) for item in flat):
            raise RequestError('inputs[0].data: must be a list of strings')
        flat = [checked_text('inputs[0].data[{}]'.format(i), item) for i, item in enumerate(flat)]
        check_input_count(shape[0], settings.max_client_batch_size, 'inputs[0].shape')
        if len(flat) != shape[0] * width:
            raise RequestError('inputs[0].data: {} strings for shape {}'.format(len(flat), shape))
        rows = [tuple(flat[i:i + 2]) for i in range(0, len(flat), 2)] if model.pair else flat
        parameters = body.get('parameters') or {}
        truncate = parameters.get('truncate', True) if isinstance(parameters, dict) else True
        if not isinstance(truncate, bool):
            raise RequestError('parameters.truncate: must be true or false')
        results = await compute('predict', rows, service.lengths(rows, truncate, field='inputs[0].data'))
        outputs = model.pipeline.output_tensors(model, results)  # as the task structure declares them
        answer = {'model_name': service.name, 'outputs': outputs}
        if 'id' in body:
            answer['id'] = body['id']
        return JSONResponse(answer)

    # ----- the rest ---------------------------------------------------------------------------------------
    @app.get('/metrics')
    async def prometheus_metrics():
        return Response(prometheus.generate_latest(metrics.registry), media_type=prometheus.CONTENT_TYPE_LATEST)

    @app.get('/', response_class=HTMLResponse)
    async def page():
        return page_html(service.name, service.routes)

    return app
