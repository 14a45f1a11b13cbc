"""HTTP serving under load: `kobert-gluon serve` with dynamic batching against one request at a time, and against a
FastAPI endpoint calling a transformers pipeline on the same model.

    python benchmarks/bench_serve.py                  # 3 interleaved rounds, 300 requests per load, 1/8/32 clients
    python benchmarks/bench_serve.py --quick          # 1 round, 24 requests, 1 and 8 clients: checks that it runs
    python benchmarks/bench_serve.py --quick --concurrency 2 --requests 8                  # an even smaller check
    python benchmarks/bench_serve.py --model runs/nsmc --threads 2 --requests 500 --json serve.json

Servers, each a subprocess on a free 127.0.0.1 port, all given the same thread count (``--threads``: MXNet through
``OMP_NUM_THREADS``, OpenVINO through ``--threads``, PyTorch through ``torch.set_num_threads``):

* ``mxnet batched``: ``kobert-gluon serve --model M`` (dynamic batching: up to 32 rows, 5 ms delay);
* ``mxnet int8 batched``: the same with ``--precision int8 --calibration`` the first 300 NSMC training reviews
  (MXNet's oneDNN int8 graph; where ../shared/data is present);
* ``openvino int8 batched``: the same with ``--runtime openvino --precision int8`` (when openvino is installed);
  every (batch, length) shape is compiled before the server is ready;
* ``mxnet batch 1``: ``--max-batch-size 1`` (every request computed alone);
* ``transformers pipeline``: ``M`` exported with ``kobert-gluon export-hf``, loaded with
  ``AutoModelForSequenceClassification`` and served by a FastAPI ``POST /predict`` (a plain ``def`` endpoint:
  FastAPI's thread pool) calling ``pipeline('text-classification')`` on PyTorch. transformers' ``AutoTokenizer``
  cannot read an export of the Gluon SentencePiece convention (KoBERT's and kobert-mini's), so the pipeline is given
  the package's own tokenizer on the exported ``tokenizer.model`` and ``vocab.txt`` as a transformers tokenizer
  (the same ids; what this costs is then the same on both sides). Where even that fails, the output says why and
  the other servers are measured. Before the load, its probabilities are compared with the Gluon server's.

Load: ``--requests`` requests of one NSMC test review each (``../shared/data/nsmc/ratings_test.txt``; generated
review-like text where it is absent), sent by ``--concurrency`` clients that each send the next one as soon as
theirs is answered (a closed loop), each load bounded by ``--time-limit`` seconds (requests not sent by then are
counted as not sent). Each server gets a warm-up of 2 x clients requests first. Rounds are interleaved (every
server at every concurrency, then the next round); the table gives medians over rounds of throughput (answered
requests per second), latency percentiles (p50, p95, p99 in ms) and failed requests (an error status or no
answer). Run it on a quiet machine: nothing else running.
"""
import argparse
import asyncio
import collections
import json
import math
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

REPO = Path(__file__).resolve().parents[1]
NSMC_TEST = REPO.parent / 'shared' / 'data' / 'nsmc' / 'ratings_test.txt'


def parse_args(argv=None):
    parser = argparse.ArgumentParser(description=__doc__.split('\n\n')[0])
    parser.add_argument('--model', default='kobert-mini-nsmc', help='a fine-tuned classifier (default: %(default)s)')
    parser.add_argument('--rounds', type=int, help='default 3 (--quick: 1)')
    parser.add_argument('--requests', type=int, help='requests per load run (default 300; --quick: 24)')
    parser.add_argument('--concurrency', type=int, nargs='+', help='clients (default 1 8 32; --quick: 1 8)')
    parser.add_argument('--time-limit', type=float, help='seconds per load run at most (default 120; --quick: 60)')
    parser.add_argument('--threads', type=int, default=os.cpu_count() or 1, help='compute threads per server')
    parser.add_argument('--json', metavar='FILE', help='also write the results as JSON')
    parser.add_argument('--quick', action='store_true', help='1 round, 24 requests, 1 and 8 clients (options given '
                        'still apply)')
    # internal: run the transformers pipeline server (this script starts it as a subprocess)
    parser.add_argument('--pipeline-server', metavar='HF_FOLDER', help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    # --quick changes the defaults only: an option given on the command line still applies
    defaults = dict(rounds=1, requests=24, concurrency=[1, 8], time_limit=60.0) if args.quick else \
        dict(rounds=3, requests=300, concurrency=[1, 8, 32], time_limit=120.0)
    for name, value in defaults.items():
        if getattr(args, name) is None:
            setattr(args, name, value)
    if args.time_limit <= 0:
        parser.error('--time-limit: must be more than 0')
    for name in ('rounds', 'requests', 'threads'):
        if getattr(args, name) < 1:
            parser.error('--{}: must be at least 1'.format(name))
    if min(args.concurrency) < 1:
        parser.error('--concurrency: every value must be at least 1')
    return args


def reviews(count: int):
    """The first ``count`` reviews of NSMC's test file, or review-like text where it is absent."""
    if NSMC_TEST.is_file():
        with open(NSMC_TEST, encoding='utf-8') as source:
            next(source)  # the header
            texts = [line.rstrip('\n').split('\t')[1] for line, _ in zip(source, range(count))]
        return [text if text.strip() else '.' for text in texts], 'NSMC test reviews'
    words = ['정말', '재미있는', '영화', '지루한', '최고의', '별로인', '배우', '연기', '스토리가', '아쉽다']
    return [' '.join(words[(i * k) % len(words)] for k in range(1, 3 + i % 9)) for i in range(count)], \
        'generated reviews (no {})'.format(NSMC_TEST)


# ----- the transformers pipeline server (a subprocess) ---------------------------------------------------------------
def pipeline_tokenizer(hf_folder: Path, max_length: int):
    """The package's tokenizer of the exported files, as a transformers tokenizer (same pieces and ids)."""
    from transformers import PreTrainedTokenizer
    from kobert_gluon.tokenizers.sentencepiece import KoBERTTokenizer, TransformersKoBERTTokenizer
    from kobert_gluon.tokenizers.wordpiece import vocab_from_vocab_txt
    settings = json.loads((hf_folder / 'tokenizer_config.json').read_text(encoding='utf-8'))
    # export-hf records which SentencePiece convention the model was trained with
    kind = KoBERTTokenizer if settings.get('kobert_gluon_tokenizer_kind') == KoBERTTokenizer.kind \
        else TransformersKoBERTTokenizer
    inner = kind(str(hf_folder / 'tokenizer.model'), vocab_from_vocab_txt(hf_folder / 'vocab.txt'))

    class PackageTokenizer(PreTrainedTokenizer):
        model_input_names = ['input_ids', 'token_type_ids', 'attention_mask']

        def __init__(self, **kwargs):
            self.inner = inner
            super().__init__(unk_token='[UNK]', sep_token='[SEP]', pad_token='[PAD]', cls_token='[CLS]',
                             mask_token='[MASK]', **kwargs)

        @property
        def vocab_size(self):
            return len(inner.vocab)

        def get_vocab(self):
            return dict(inner.vocab.token_to_idx)

        def _tokenize(self, text, **kwargs):
            return inner.tokenize(text)

        def _convert_token_to_id(self, token):
            return inner.vocab[token]

        def _convert_id_to_token(self, index):
            return inner.vocab.idx_to_token[index]

        def build_inputs_with_special_tokens(self, first, second=None):
            return [self.cls_token_id] + first + [self.sep_token_id] + \
                ([] if second is None else second + [self.sep_token_id])

        def create_token_type_ids_from_sequences(self, first, second=None):
            return [0] * (len(first) + 2) + ([] if second is None else [1] * (len(second) + 1))

    return PackageTokenizer(model_max_length=max_length)


def run_pipeline_server(hf_folder: Path, threads: int) -> None:
    import torch
    from fastapi import FastAPI
    from transformers import AutoModelForSequenceClassification, AutoTokenizer, pipeline
    from kobert_gluon.serving.server import bind, serve
    torch.set_num_threads(threads)
    max_length = json.loads((hf_folder / 'tokenizer_config.json').read_text(encoding='utf-8'))['model_max_length']
    try:
        tokenizer = AutoTokenizer.from_pretrained(str(hf_folder))
        how = 'AutoTokenizer ({})'.format(type(tokenizer).__name__)
    except Exception as err:  # noqa: BLE001 -- reported, then the package's tokenizer stands in
        tokenizer = pipeline_tokenizer(hf_folder, max_length)
        how = 'the package\'s tokenizer as a transformers tokenizer (AutoTokenizer failed: {}: {})'.format(
            type(err).__name__, str(err).splitlines()[0][:120])
    model = AutoModelForSequenceClassification.from_pretrained(str(hf_folder)).eval()
    classify = pipeline('text-classification', model=model, tokenizer=tokenizer, device=-1, top_k=None)
    app = FastAPI()

    @app.post('/predict')
    def predict(body: dict):  # a plain def: FastAPI runs it on its thread pool
        inputs = body['inputs']
        answers = classify(inputs if isinstance(inputs, list) else [inputs], truncation=True, max_length=max_length)
        return answers if isinstance(inputs, list) else answers[0]

    @app.get('/v2/health/ready')
    def ready():
        return {'ready': True}

    sock = bind('127.0.0.1', 0)
    print('http://127.0.0.1:{} tokenizer: {}'.format(sock.getsockname()[1], how), file=sys.stderr, flush=True)
    serve(app, sock)


# ----- servers ---------------------------------------------------------------------------------------------------
class Server:
    def __init__(self, name: str, command, threads: int):
        self.name = name
        env = dict(os.environ, OMP_NUM_THREADS=str(threads),
                   PYTHONPATH=str(REPO) + os.pathsep + os.environ.get('PYTHONPATH', ''))
        self.process = subprocess.Popen(command, stderr=subprocess.PIPE, stdout=subprocess.DEVNULL, text=True,
                                        env=env)
        self.url, self.note, self.error = None, '', None

    def wait_ready(self, timeout: float = 300.0) -> bool:
        """Reads stderr up to the URL the server prints, then waits for /v2/health/ready; False (and ``error``) if
        not. The rest of stderr is read on a thread: a full pipe would stop the server."""
        import httpx
        lines = []
        for line in self.process.stderr:
            found = re.search(r'http://127\.0\.0\.1:(\d+)', line)
            if found:
                break
            lines.append(line.strip())
        else:
            self.process.wait()
            self.error = 'exited with status {}: {}'.format(self.process.returncode,
                                                            ([l for l in lines if l] or ['(no output)'])[-1])
            return False
        self.url = 'http://127.0.0.1:{}'.format(found.group(1))
        self.note = line[found.end():].strip()
        if self.note.startswith('(') and self.note.endswith(')'):
            self.note = self.note[1:-1]  # printed in parentheses below
        tail = collections.deque(maxlen=20)
        threading.Thread(target=lambda: tail.extend(self.process.stderr), daemon=True).start()
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if self.process.poll() is not None:
                time.sleep(0.5)  # the reader thread takes the last lines
                self.error = 'exited with status {}: {}'.format(
                    self.process.returncode, ([l.strip() for l in tail if l.strip()] or ['(no output)'])[-1])
                return False
            try:
                if httpx.get(self.url + '/v2/health/ready', timeout=5).status_code == 200:
                    return True
            except httpx.TransportError:
                pass
            time.sleep(0.2)
        self.error = 'not ready after {:.0f} s'.format(timeout)
        return False

    def stop(self) -> None:
        if self.process.poll() is None:
            self.process.send_signal(signal.SIGTERM)
            try:
                self.process.wait(60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def serve_command(model: str, threads: int, *options):
    return [sys.executable, '-m', 'kobert_gluon', 'serve', '--model', model, '--port', '0', *options] + \
        (['--threads', str(threads)] if '--runtime' in options else [])


# ----- load ------------------------------------------------------------------------------------------------------
async def load(url: str, texts, concurrency: int, time_limit: float):
    """Closed-loop load: ``concurrency`` clients, each on its own keep-alive connection, sending the next text once
    its last is answered.

    HTTP/1.1 written and read with asyncio streams rather than an HTTP client library: the load generator shares
    the machine with the servers, and httpx's AsyncClient spent about a millisecond of CPU per request that the
    servers then lacked (at 32 clients, the faster the server the more a heavy client holds it back)."""
    host, port = url.split('//', 1)[1].rsplit(':', 1)
    latencies, failed = [], 0
    queue = iter(texts)
    deadline = time.monotonic() + time_limit

    async def client():
        nonlocal failed
        connection = None
        for text in queue:
            if time.monotonic() > deadline:
                break
            body = json.dumps({'inputs': text}).encode('utf-8')
            request = ('POST /predict HTTP/1.1\r\nHost: {}:{}\r\nContent-Type: application/json\r\n'
                       'Content-Length: {}\r\n\r\n'.format(host, port, len(body))).encode('ascii') + body
            started = time.perf_counter()
            try:
                if connection is None:
                    connection = await asyncio.open_connection(host, int(port))
                reader, writer = connection
                writer.write(request)
                head = await asyncio.wait_for(reader.readuntil(b'\r\n\r\n'), max(deadline - time.monotonic(), 1))
                status = int(head.split(b' ', 2)[1])
                lengths = [line.split(b':', 1)[1] for line in head.split(b'\r\n')
                           if line.lower().startswith(b'content-length:')]
                await reader.readexactly(int(lengths[0]) if lengths else 0)
                ok = status == 200
                if head.lower().find(b'connection: close') >= 0:
                    writer.close()
                    connection = None
            except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, asyncio.TimeoutError,
                    ValueError, IndexError):
                ok = False
                if connection is not None:
                    connection[1].close()
                connection = None
            if ok:
                latencies.append(time.perf_counter() - started)
            else:
                failed += 1
        if connection is not None:
            connection[1].close()

    started = time.perf_counter()
    await asyncio.gather(*(client() for _ in range(concurrency)))
    wall = time.perf_counter() - started
    return {'answered': len(latencies), 'failed': failed, 'not_sent': len(texts) - len(latencies) - failed,
            'wall_s': wall, 'latencies': latencies}


def percentile(values, q: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float('nan')
    return ordered[max(0, math.ceil(q / 100.0 * len(ordered)) - 1)]  # nearest rank


def summary(run) -> dict:
    ms = [1000.0 * x for x in run['latencies']]
    return {'rps': run['answered'] / run['wall_s'] if run['wall_s'] > 0 else 0.0,
            'p50': percentile(ms, 50), 'p95': percentile(ms, 95), 'p99': percentile(ms, 99),
            'failed': run['failed'], 'not_sent': run['not_sent']}


def compare(gluon_url: str, pipeline_url: str, texts) -> float:
    """Largest difference of a class probability between the Gluon server and the pipeline on ``texts``."""
    import httpx
    ours = httpx.post(gluon_url + '/predict', json={'inputs': texts}, timeout=120).json()
    theirs = httpx.post(pipeline_url + '/predict', json={'inputs': texts}, timeout=120).json()
    worst = 0.0
    for a, b in zip(ours, theirs):
        scores = {item['label']: item['score'] for item in b}
        worst = max(worst, max(abs(item['score'] - scores[item['label']]) for item in a))
    return worst


def main(argv=None) -> int:
    args = parse_args(argv)
    if args.pipeline_server:
        run_pipeline_server(Path(args.pipeline_server), args.threads)
        return 0
    import importlib.util
    texts, source = reviews(args.requests)
    print('{} requests per load ({}), clients {}, {} round(s), {} thread(s) per server, at most {:.0f} s per load'
          .format(args.requests, source, ', '.join(map(str, args.concurrency)), args.rounds, args.threads,
                  args.time_limit))
    work = Path(tempfile.mkdtemp(prefix='bench-serve-'))
    servers = [Server('mxnet batched', serve_command(args.model, args.threads), args.threads)]
    nsmc_train = NSMC_TEST.with_name('ratings_train.txt')
    if nsmc_train.is_file():
        calibration = work / 'calibration.tsv'
        with open(nsmc_train, encoding='utf-8') as train_file:
            calibration.write_text(''.join(line for line, _ in zip(train_file, range(301))), encoding='utf-8')
        servers.append(Server('mxnet int8 batched', serve_command(
            args.model, args.threads, '--precision', 'int8', '--calibration', str(calibration)), args.threads))
    else:
        print('mxnet int8: not measured (its calibration reviews come from {})'.format(nsmc_train))
    if importlib.util.find_spec('openvino') is not None:
        servers.append(Server('openvino int8 batched', serve_command(
            args.model, args.threads, '--runtime', 'openvino', '--precision', 'int8'), args.threads))
    else:
        print('openvino int8: not measured (openvino is not installed: pip install "kobert-gluon[openvino]")')
    servers.append(Server('mxnet batch 1', serve_command(args.model, args.threads, '--max-batch-size', '1'),
                          args.threads))
    if all(importlib.util.find_spec(name) for name in ('torch', 'transformers')):
        hf = work / 'hf'
        exported = subprocess.run([sys.executable, '-m', 'kobert_gluon', 'export-hf', args.model, '--out', str(hf)],
                                  capture_output=True, text=True,
                                  env=dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep +
                                           os.environ.get('PYTHONPATH', '')))
        if exported.returncode == 0:
            servers.append(Server('transformers pipeline', [sys.executable, str(Path(__file__).resolve()),
                                                            '--pipeline-server', str(hf),
                                                            '--threads', str(args.threads)], args.threads))
        else:
            print('transformers pipeline: not measured (export-hf failed: {})'.format(
                (exported.stderr.strip().splitlines() or ['?'])[-1]))
    else:
        print('transformers pipeline: not measured (needs torch and transformers: pip install "kobert-gluon[pytorch]")')
    results = {}
    try:
        ready = []
        for server in servers:
            if server.wait_ready():
                ready.append(server)
                print('{}: {}{}'.format(server.name, server.url, ' ({})'.format(server.note) if server.note else ''))
            else:
                print('{}: not measured ({})'.format(server.name, server.error))
        pipeline_server = next((s for s in ready if s.name == 'transformers pipeline'), None)
        if pipeline_server is not None and ready[0].name == 'mxnet batched':
            print('transformers pipeline vs mxnet server: largest probability difference {:.2e} on {} reviews'
                  .format(compare(ready[0].url, pipeline_server.url, texts[:16]), min(16, len(texts))))
        for server in ready:  # warm-up: graphs of the batch sizes, connection pools, thread pools
            asyncio.run(load(server.url, texts[:2 * max(args.concurrency)], max(args.concurrency), args.time_limit))
        for round_index in range(args.rounds):
            for concurrency in args.concurrency:
                for server in ready:
                    run = summary(asyncio.run(load(server.url, texts, concurrency, args.time_limit)))
                    results.setdefault((server.name, concurrency), []).append(run)
                    print('  round {} {} x{}: {:.1f} req/s, p50 {:.1f} ms, failed {}'.format(
                        round_index + 1, server.name, concurrency, run['rps'], run['p50'], run['failed']),
                        flush=True)
    finally:
        for server in servers:
            server.stop()
        shutil.rmtree(work, ignore_errors=True)  # the export
    rows = []
    print('\n{:<24} {:>7} {:>9} {:>9} {:>9} {:>9} {:>7} {:>9}'.format(
        'server', 'clients', 'req/s', 'p50 ms', 'p95 ms', 'p99 ms', 'failed', 'not sent'))
    for (name, concurrency), runs in results.items():
        row = {'server': name, 'clients': concurrency, 'rounds': len(runs)}
        row.update({key: statistics.median(run[key] for run in runs)
                    for key in ('rps', 'p50', 'p95', 'p99', 'failed', 'not_sent')})
        rows.append(row)
        print('{:<24} {:>7} {:>9.1f} {:>9.1f} {:>9.1f} {:>9.1f} {:>7g} {:>9g}'.format(
            name, concurrency, row['rps'], row['p50'], row['p95'], row['p99'], row['failed'], row['not_sent']))
    if args.json:
        Path(args.json).write_text(json.dumps({'requests': args.requests, 'source': source, 'threads': args.threads,
                                               'rounds': args.rounds, 'results': rows}, indent=1) + '\n')
    return 0


if __name__ == '__main__':
    sys.exit(main())
