"""The HTTP server on a real socket (uvicorn bound to 127.0.0.1 on a free port) with the shipped kobert-mini-nsmc
classifier and tiny token classifier and question answerer trained here: answers equal FineTunedModel.predict's,
predict_entities' and predict_answer_spans', batching, refusals, and a clean stop on SIGTERM."""
import copy
import json
import os
import random
import re
import shutil
import signal
import subprocess
import sys
import threading
import time
from pathlib import Path

import numpy as np
import pytest

pytest.importorskip('fastapi')
pytest.importorskip('uvicorn')
httpx = pytest.importorskip('httpx')

from kobert_gluon.tasks.finetuning import FineTunedModel  # noqa: E402

from .tiny_task_models import QUESTION, tiny_ner_model, tiny_qa_model  # noqa: E402

MODEL = 'kobert-mini-nsmc'
TEXTS = ['정말 재밌어요', '최악의 영화', '배우들 연기가 좋았다', '시간 아까움', '그냥 그래요']
REPO = Path(__file__).resolve().parent.parent


@pytest.fixture(scope='module')
def model():
    return FineTunedModel.load(MODEL)


class Running:
    """An app served by uvicorn on a thread, on a socket bound to a free loopback port."""

    def __init__(self, app):
        import uvicorn
        from kobert_gluon.serving.server import bind
        self.app = app
        self.sock = bind('127.0.0.1', 0)
        self.url = 'http://127.0.0.1:{}'.format(self.sock.getsockname()[1])
        self.server = uvicorn.Server(uvicorn.Config(app, log_level='error', lifespan='on'))
        self.thread = threading.Thread(target=self.server.run, kwargs={'sockets': [self.sock]}, daemon=True)
        self.thread.start()
        deadline = time.monotonic() + 30
        while not self.server.started:
            assert time.monotonic() < deadline, 'the server did not start'
            time.sleep(0.02)

    def stop(self):
        self.server.should_exit = True
        self.thread.join(30)
        self.sock.close()


@pytest.fixture(scope='module')
def server(model):
    from kobert_gluon.serving import ServeSettings, create_app
    # a longer delay than the default so that concurrent requests surely meet in a batch
    running = Running(create_app(model, settings=ServeSettings(max_batch_delay_ms=50, max_body_bytes=4096)))
    yield running
    running.stop()


def post(server, path, body, **options):
    return httpx.post(server.url + path, json=body, timeout=30, **options)


def scores_of(answer, labels):
    """One /predict answer as probabilities in the model's class order."""
    assert [item['score'] for item in answer] == sorted((item['score'] for item in answer), reverse=True)
    by_label = {item['label']: item['score'] for item in answer}
    return [by_label[label] for label in labels]


def test_predict_equals_the_model(server, model):
    expected = model.predict(TEXTS)
    response = post(server, '/predict', {'inputs': TEXTS})
    assert response.status_code == 200, response.text
    got = [scores_of(answer, model.label_names) for answer in response.json()]
    np.testing.assert_allclose(got, expected, atol=1e-5)
    # one string: one answer (the README's curl example), not a list of them
    single = post(server, '/predict', {'inputs': '정말 재밌어요'}).json()
    assert single[0]['label'] == 'positive'
    np.testing.assert_allclose(scores_of(single, model.label_names), expected[0], atol=1e-5)


def test_long_input_is_cut_as_predict_cuts_it_or_refused(server, model):
    long_text = '정말 재밌어요 ' * 200
    expected = model.predict([long_text])[0]
    answer = post(server, '/predict', {'inputs': [long_text]}).json()[0]
    np.testing.assert_allclose(scores_of(answer, model.label_names), expected, atol=1e-5)
    refused = post(server, '/predict', {'inputs': ['짧다', long_text], 'truncate': False})
    assert refused.status_code == 422
    assert refused.json()['error'].startswith('inputs[1]: ') and 'truncate' in refused.json()['error']


def test_v2_infer_equals_predict(server, model):
    body = {'id': 'r1', 'inputs': [{'name': 'text', 'shape': [len(TEXTS)], 'datatype': 'BYTES', 'data': TEXTS}]}
    response = post(server, '/v2/models/{}/infer'.format(MODEL), body)
    assert response.status_code == 200, response.text
    answer = response.json()
    assert answer['id'] == 'r1'
    outputs = {output['name']: output for output in answer['outputs']}
    predicted = post(server, '/predict', {'inputs': TEXTS}).json()
    assert outputs['label']['data'] == [rows[0]['label'] for rows in predicted]
    probabilities = np.array(outputs['probabilities']['data']).reshape(outputs['probabilities']['shape'])
    np.testing.assert_allclose(probabilities, [scores_of(rows, model.label_names) for rows in predicted], atol=1e-6)
    assert httpx.get(server.url + '/v2/health/live').status_code == 200
    assert httpx.get(server.url + '/v2/health/ready').json() == {'ready': True}
    assert httpx.get(server.url + '/v2/models/{}/ready'.format(MODEL)).status_code == 200
    metadata = httpx.get(server.url + '/v2/models/{}'.format(MODEL)).json()
    assert metadata['parameters']['labels'] == list(model.label_names)
    unknown = httpx.get(server.url + '/v2/models/other')
    assert unknown.status_code == 404 and MODEL in unknown.json()['error']
    wrong = post(server, '/v2/models/{}/infer'.format(MODEL),
                 {'inputs': [{'name': 'text', 'shape': [2], 'datatype': 'BYTES', 'data': ['a']}]})
    assert wrong.status_code == 422 and wrong.json()['error'].startswith('inputs[0].data')


def batch_histogram(server, kind='predict'):
    text = httpx.get(server.url + '/metrics').text
    buckets = {float(le): float(count) for le, count in re.findall(
        r'kobert_gluon_batch_size_bucket\{kind="%s",le="([0-9.]+)"\} ([0-9.e+]+)' % kind, text)}
    return buckets, text


def test_concurrent_clients_get_their_own_rows_in_shared_batches(server, model):
    texts = ['리뷰 {}번: {}'.format(i, TEXTS[i % len(TEXTS)] * (1 + i % 3)) for i in range(16)]
    expected = model.predict(texts)
    before, _ = batch_histogram(server)
    answers = [None] * len(texts)
    start = threading.Barrier(len(texts))

    def client(i):
        start.wait()
        answers[i] = post(server, '/predict', {'inputs': texts[i]})

    threads = [threading.Thread(target=client, args=(i,)) for i in range(len(texts))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    for i, response in enumerate(answers):
        assert response.status_code == 200, response.text
        np.testing.assert_allclose(scores_of(response.json(), model.label_names), expected[i], atol=1e-5)
    after, text = batch_histogram(server)
    count = after[max(after)] - before.get(max(after), 0)
    of_one = after[1.0] - before.get(1.0, 0)
    assert count > of_one, 'no batch held more than one request:\n' + text  # some batch had > 1 row
    assert 'kobert_gluon_queue_depth' in text and 'kobert_gluon_tokens_total{kind="predict"}' in text
    assert re.search(r'kobert_gluon_requests_total\{route="/predict",status="200"\} [1-9]', text)


def test_bad_bodies_are_refused_in_one_line_and_the_server_goes_on(server, model):
    too_big = post(server, '/predict', {'inputs': ['가' * 5000]})
    assert too_big.status_code == 413
    chunked = httpx.post(server.url + '/predict', content=iter([b'{"inputs": "', b'x' * 5000, b'"}']), timeout=30)
    assert chunked.status_code == 413  # no Content-Length: counted as it arrives
    cases = [(b'{"inputs": ', 'body: not JSON'), (b'[1, 2]', 'body: must be a JSON object'),
             (b'{"inputs": 3}', 'inputs: must be a string or a list'), (b'{}', 'inputs: missing'),
             (b'{"inputs": []}', 'inputs: empty list'), (b'{"inputs": ["a", 7]}', 'inputs[1]: must be a string'),
             (b'{"inputs": "a", "truncate": "no"}', 'truncate: must be true or false'),
             (b'{"inputs": "a", "top_k": 1}', 'top_k: unknown field'),
             (json.dumps({'inputs': ['a'] * 200}).encode(), 'inputs: 200 inputs, more than the 128'),
             (b'[' * 2000 + b']' * 2000, 'body: nested too deeply'),
             (b'{"inputs": ["a", "  "]}', 'inputs[1]: empty text'),
             (b'{"inputs": "\\ud800x"}', 'inputs holds a lone surrogate (U+D800 at character 0)')]
    for body, start in cases:
        response = httpx.post(server.url + '/predict', content=body, timeout=30)
        assert response.status_code == 422, body
        error = response.json()['error']
        assert error.startswith(start) and '\n' not in error, (body, error)
    for route in ('/ner', '/qa'):
        response = post(server, route, {'inputs': 'a'})
        assert response.status_code == 404
        assert '/predict, /embed, /tokenize' in response.json()['error']
    still = post(server, '/predict', {'inputs': TEXTS[:1]})
    np.testing.assert_allclose(scores_of(still.json()[0], model.label_names), model.predict(TEXTS[:1])[0],
                               atol=1e-5)


def _hostile_bodies(seed: int, count: int):
    """Bodies a careless or hostile client sends: random bytes, cut and bit-flipped valid bodies, deep nesting,
    JSON of every type where strings belong, too many inputs."""
    rng = random.Random(seed)
    valid = [json.dumps({'inputs': TEXTS}).encode(), json.dumps({'inputs': TEXTS[0], 'truncate': False}).encode(),
             json.dumps({'inputs': [{'name': 'text', 'shape': [2], 'datatype': 'BYTES', 'data': TEXTS[:2]}]}).encode()]
    values = [None, True, 0, -1, 1e308, 'x', [], {}, [None], [[]], [['a', 'b', 'c']], {'inputs': 'a'}, [1.5]]
    yield b'[' * 100000 + b']' * 100000  # nesting deeper than any parser's recursion
    yield b'{"inputs": ' + b'[' * 50000 + b'"a"' + b']' * 50000 + b'}'
    yield json.dumps({'inputs': ['a'] * 100000}).encode()  # many inputs, well inside the size limit
    yield b'\xff\xfe{\x00"\x00'  # UTF-16 with a byte order mark
    yield b'{"inputs": NaN}'
    yield b'{"inputs": ["\\udfff"], "truncate": false}'  # a lone surrogate: no tokenizer reads it
    yield b'{"question": "\\ud800", "context": "a"}'
    for _ in range(count):
        kind = rng.randrange(4)
        if kind == 0:
            yield bytes(rng.randrange(256) for _ in range(rng.randrange(1, 64)))
        elif kind == 1:
            body = bytearray(rng.choice(valid))
            for _ in range(rng.randrange(1, 4)):
                body[rng.randrange(len(body))] ^= 1 << rng.randrange(8)
            yield bytes(body)
        elif kind == 2:
            body = rng.choice(valid)
            yield body[:rng.randrange(len(body))]
        else:
            body = {'inputs': rng.choice(values)}
            if rng.random() < 0.5:
                body['truncate'] = rng.choice(values)
            yield json.dumps(body).encode()


def test_hostile_bodies_get_one_line_4xx_and_the_server_goes_on(model):
    from kobert_gluon.serving import create_app
    server = Running(create_app(model))  # the default body limit (1 MiB): room for deep nesting and many inputs
    routes = ['/predict', '/tokenize', '/embed', '/v2/models/{}/infer'.format(server.app.state.service.name), '/qa']
    try:
        _send_hostile_bodies(server, routes, model)
    finally:
        server.stop()


def _send_hostile_bodies(server, routes, model):
    for number, body in enumerate(_hostile_bodies(seed=7, count=120)):
        route = routes[number % len(routes)]
        response = httpx.post(server.url + route, content=body, timeout=60)
        assert response.status_code < 500, (route, body[:80], response.status_code, response.text[:200])
        if response.status_code >= 400:
            error = response.json()['error']
            assert error and '\n' not in error and len(error) < 300, (route, body[:80], error)
    still = post(server, '/predict', {'inputs': TEXTS[:2]})
    for answer, expected in zip(still.json(), model.predict(TEXTS[:2])):
        np.testing.assert_allclose(scores_of(answer, model.label_names), expected, atol=1e-5)


def test_tokenize_embed_and_page(server, model):
    from kobert_gluon import encode
    pieces = post(server, '/tokenize', {'inputs': '정말 재밌어요'}).json()
    assert pieces['pieces'] == model.tokenizer('정말 재밌어요')
    assert [model.tokenizer.vocab[p] for p in pieces['pieces']] == pieces['ids']
    assert ['정말 재밌어요'[start:end] for start, end in pieces['offsets']] == ['정말', '재밌어요']
    vectors = post(server, '/embed', {'inputs': TEXTS[:2]}).json()
    np.testing.assert_allclose(vectors, encode(TEXTS[:2], model=str(model.folder)), atol=1e-5)
    page = httpx.get(server.url + '/')
    assert page.status_code == 200 and "fetch(route" in page.text and '"predict"' in page.text
    assert not re.search(r'(src|href)="https?:', page.text)  # self-contained
    assert httpx.get(server.url + '/openapi.json').json()['paths']['/predict']


@pytest.fixture(scope='module')
def ner_model(tmp_path_factory):
    return tiny_ner_model(tmp_path_factory.mktemp('serve-ner') / 'model')


@pytest.fixture(scope='module')
def ner_server(ner_model):
    from kobert_gluon.serving import ServeSettings, create_app
    running = Running(create_app(ner_model, name='ner', settings=ServeSettings(max_batch_delay_ms=50)))
    yield running
    running.stop()


NER_TEXTS = ['김민수씨는 서울에 갔다.', '어제 박지성씨는 제주에 왔다.', '이영희씨는 부산에 살았다.',
             '정수진씨는 대전에 일했다. 그리고 강하늘씨는 울산에 갔다.', '날씨가 맑다.']


def test_ner_equals_predict_entities_at_the_same_characters(ner_server, ner_model):
    expected, _ = ner_model.predict_entities(NER_TEXTS)
    response = post(ner_server, '/ner', {'inputs': NER_TEXTS})
    assert response.status_code == 200, response.text
    got = response.json()
    assert [[(e['entity'], e['start'], e['end']) for e in entities] for entities in got] == \
        [[(e.label, e.start, e.end) for e in entities] for entities in expected]
    for text, entities in zip(NER_TEXTS, got):
        assert all(e['text'] == text[e['start']:e['end']] for e in entities)
    # the model learned its sentences: the name and the place, at their characters
    assert [(e['entity'], e['text']) for e in got[0]] == [('PS', '김민수'), ('LC', '서울')]
    assert got[1][0] == {'entity': 'PS', 'start': 3, 'end': 6, 'text': '박지성'}
    # one string: one answer; requests of several clients at once share batches and get their own entities
    assert post(ner_server, '/ner', {'inputs': NER_TEXTS[1]}).json() == got[1]
    answers = [None] * len(NER_TEXTS)
    threads = [threading.Thread(target=lambda i=i: answers.__setitem__(
        i, post(ner_server, '/ner', {'inputs': [NER_TEXTS[i]]}).json()[0])) for i in range(len(NER_TEXTS))]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(60)
    assert answers == got
    refused = post(ner_server, '/predict', {'inputs': 'a'})
    assert refused.status_code == 404 and refused.json()['error'] == \
        'ner is a token classification model: it answers /ner, /embed, /tokenize, not /predict'
    assert '"ner"' in httpx.get(ner_server.url + '/').text  # the page calls /ner


@pytest.fixture(scope='module')
def qa_model(tmp_path_factory):
    return tiny_qa_model(tmp_path_factory.mktemp('serve-qa') / 'model')


def test_qa_answers_where_the_model_found_the_answer(qa_model):
    from kobert_gluon.serving import create_app
    from kobert_gluon.tasks.extractive_qa import QAData, QAExample
    # the answer's number occurs earlier too (the bus): its first occurrence is not where the model found it
    contexts = ['123번 버스가 왔다. 오늘은 날씨가 맑다. 비밀 번호는 123번이다. 바람이 조금 분다.',
                '456번 버스가 왔다. 비밀 번호는 456번이다.',
                '가게 문이 열렸다. 789번 버스가 왔다. 강물이 천천히 흐른다. 비밀 번호는 789번이다. 바람이 조금 분다.']
    data = QAData([QAExample(qid=str(i), question=QUESTION, context=c, answers=[]) for i, c in enumerate(contexts)],
                  path='here')
    expected = qa_model.predict_answer_spans(data)
    assert {qid: span.text for qid, span in expected.items()} == qa_model.predict_answers(data)
    running = Running(create_app(qa_model, name='qa'))
    try:
        for i, context in enumerate(contexts):
            response = post(running, '/qa', {'question': QUESTION, 'context': context})
            assert response.status_code == 200, response.text
            answer = response.json()
            assert answer == {'answer': expected[str(i)].text, 'start': expected[str(i)].start,
                              'end': expected[str(i)].end}
            assert context[answer['start']:answer['end']] == answer['answer']
            # the model learned where the number is: after 번호는, not the bus's
            assert answer['start'] == context.index('번호는 ') + len('번호는 '), (context, answer)
            assert answer['start'] > context.index(answer['answer'])
        for body, error in (({'question': QUESTION}, 'context: must be a non-empty string'),
                            ({'question': ' ', 'context': 'x'}, 'question: must be a non-empty string'),
                            ({'question': 'q', 'context': 'c', 'top_k': 2}, 'top_k: unknown field')):
            refused = post(running, '/qa', body)
            assert refused.status_code == 422 and refused.json()['error'].startswith(error), refused.text
        assert post(running, '/predict', {'inputs': 'a'}).status_code == 404
    finally:
        running.stop()


def chromium():
    """Debian's headless chromium through its chromedriver (no download: both are the apt packages)."""
    browser, driver = shutil.which('chromium'), shutil.which('chromedriver')
    if browser is None or driver is None:
        pytest.skip('the page test needs chromium and chromedriver (apt-get install chromium chromium-driver); '
                    'not installed')
    webdriver = pytest.importorskip('selenium.webdriver')
    options = webdriver.ChromeOptions()
    options.binary_location = browser
    # --no-sandbox: CI runs as root, where chromium's sandbox refuses to start
    for argument in ('--headless=new', '--no-sandbox', '--disable-gpu', '--disable-dev-shm-usage',
                     '--window-size=900,700', '--lang=ko'):
        options.add_argument(argument)
    return webdriver.Chrome(options=options, service=webdriver.ChromeService(executable_path=driver))


# the marks of the NER answer as the reader sees them: their characters' offsets in the text shown (the label after
# each entity is not part of the text)
_MARKS_JS = """
const out = document.getElementById('out'); let text = ''; const marks = [];
for (const node of out.childNodes) {
  if (node.nodeType === Node.TEXT_NODE) { text += node.textContent; continue; }
  const words = node.firstChild.textContent;
  marks.push([text.length, text.length + words.length, node.querySelector('small').textContent]);
  text += words;
}
return {text: text, marks: marks};
"""


def test_page_in_a_browser_shows_classes_and_entities(server, model, ner_server, ner_model):
    from selenium.webdriver.common.by import By
    from selenium.webdriver.common.keys import Keys
    from selenium.webdriver.support.ui import WebDriverWait
    review = '배우들 연기가 정말 좋았고 이야기도 재밌어요'
    expected = dict(zip(model.label_names, model.predict([review])[0]))
    browser = chromium()
    try:
        browser.get(server.url + '/')
        box = browser.find_element(By.ID, 'text')
        box.clear()
        box.send_keys(review)
        browser.find_element(By.ID, 'go').click()
        rows = WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#out .class'))
        shown = [(row.find_element(By.CLASS_NAME, 'label').text, float(row.find_element(By.CLASS_NAME, 'score').text),
                  row.find_element(By.CSS_SELECTOR, '.bar span').size['width'] /
                  row.find_element(By.CLASS_NAME, 'bar').size['width']) for row in rows]
        assert [label for label, _, _ in shown] == sorted(expected, key=lambda label: -expected[label])
        for label, score, bar in shown:
            assert abs(score - expected[label]) < 1e-4 and abs(bar - expected[label]) < 0.01, (label, score, bar)

        text = NER_TEXTS[3]
        entities, _ = ner_model.predict_entities([text])
        browser.get(ner_server.url + '/')
        box = browser.find_element(By.ID, 'text')
        box.clear()
        box.send_keys(text)
        box.send_keys(Keys.CONTROL, Keys.ENTER)  # the other way to send
        WebDriverWait(browser, 30).until(lambda b: b.find_elements(By.CSS_SELECTOR, '#out mark'))
        page = browser.execute_script(_MARKS_JS)
        assert page['text'] == text
        assert page['marks'] == [[e.start, e.end, e.label] for e in entities[0]] and len(entities[0]) == 4
    finally:
        browser.quit()


def test_full_queue_answers_503_with_retry_after(model):
    from kobert_gluon.serving import ServeSettings, create_app
    gate, entered = threading.Event(), threading.Event()
    gate.set()  # open for the warm-up
    slow = copy.copy(model)

    def gated_predict(texts, batch_size=64):
        entered.set()
        assert gate.wait(30)
        return model.predict(texts, batch_size)

    slow.predict = gated_predict
    running = Running(create_app(slow, name='slow', settings=ServeSettings(max_queue=1, max_batch_delay_ms=0)))
    try:
        gate.clear()
        entered.clear()
        answers = {}

        def client(key):
            answers[key] = post(running, '/predict', {'inputs': key})

        first = threading.Thread(target=client, args=('첫째',))
        first.start()
        assert entered.wait(30)  # the first request's batch is computing (and held)
        second = threading.Thread(target=client, args=('둘째',))
        second.start()
        deadline = time.monotonic() + 30
        while running.app.state.batcher.depth < 1:  # the second waits in the queue, which is now full
            assert time.monotonic() < deadline
            time.sleep(0.01)
        third = post(running, '/predict', {'inputs': '셋째'})
        assert third.status_code == 503 and third.headers['Retry-After'] == '1'
        assert 'queue' in third.json()['error']
        gate.set()
        first.join(30)
        second.join(30)
        assert answers['첫째'].status_code == 200 and answers['둘째'].status_code == 200
        assert post(running, '/predict', {'inputs': '넷째'}).status_code == 200
    finally:
        gate.set()
        running.stop()


def test_one_failing_request_does_not_fail_its_batch():
    from kobert_gluon.serving.batching import Batcher

    def runner(rows):
        if 'bad' in rows:
            raise ValueError('bad row')
        return [row.upper() for row in rows]

    batches = []
    batcher = Batcher({'echo': runner}, max_batch_size=8, max_delay_s=0.2,
                      on_batch=lambda kind, rows, tokens: batches.append(rows))
    futures = [batcher.submit('echo', rows, [len(r) for r in rows])
               for rows in (['a', 'b'], ['bad', 'c'], ['d'])]
    batcher.start()  # everything is queued already, so the three requests meet in one batch, which fails
    try:
        assert futures[0].result(10) == ['A', 'B'] and futures[2].result(10) == ['D']
        with pytest.raises(ValueError, match='bad row'):
            futures[1].result(10)
    finally:
        batcher.stop()
    assert sorted(batches) == [1, 2]  # the failed batch of 5 rows was run again request by request


def test_the_batch_delay_is_waited_only_while_requests_overlap():
    """A lone request is computed at once, not after the delay; requests that arrive while a batch is computed
    wait for company and meet in one batch."""
    from kobert_gluon.serving.batching import Batcher
    gate, batches = threading.Event(), []

    def runner(rows):
        gate.wait(10)
        return [row.upper() for row in rows]

    # a delay far longer than any wait below: a request that waited for it would miss its result(5)
    # (seven rows fill a batch: the overlapping requests need not wait the minute for an eighth)
    batcher = Batcher({'echo': runner}, max_batch_size=7, max_delay_s=60.0,
                      on_batch=lambda kind, rows, tokens: batches.append(rows))
    batcher.start()
    try:
        gate.set()
        assert batcher.submit('echo', ['a'], [1]).result(5) == ['A']  # alone: computed at once
        assert batcher.submit('echo', ['b'], [1]).result(5) == ['B']  # still alone
        gate.clear()
        first = batcher.submit('echo', ['c'], [1])  # computed at once, held in the runner by the gate...
        deadline = time.monotonic() + 5
        while batcher.depth and time.monotonic() < deadline:
            time.sleep(0.01)
        later = [batcher.submit('echo', [row], [1]) for row in 'defghij']  # ...while seven more arrive
        gate.set()
        assert first.result(5) == ['C'] and [f.result(5) for f in later] == [[r.upper()] for r in 'defghij']
    finally:
        gate.set()
        batcher.stop()
    assert batches == [1, 1, 1, 7]  # the seven that overlapped the third batch were computed as one


def test_sigterm_under_load_answers_every_accepted_request():
    env = dict(os.environ, PYTHONPATH=str(REPO) + os.pathsep + os.environ.get('PYTHONPATH', ''))
    process = subprocess.Popen([sys.executable, '-m', 'kobert_gluon', 'serve', '--model', MODEL, '--port', '0',
                                '--max-batch-size', '4'], stderr=subprocess.PIPE, text=True, env=env)
    try:
        line = process.stderr.readline()
        found = re.search(r'http://127\.0\.0\.1:(\d+)', line)
        assert found, line
        url = 'http://127.0.0.1:{}'.format(found.group(1))
        deadline = time.monotonic() + 60
        while True:
            try:
                if httpx.get(url + '/v2/health/ready', timeout=5).status_code == 200:
                    break
            except httpx.TransportError:
                pass
            assert time.monotonic() < deadline, 'not ready'
            time.sleep(0.1)
        texts = [['{} {}'.format(t, i) for t in TEXTS * 8] for i in range(8)]  # 40 rows each: 10 batches of 4
        answers = [None] * len(texts)

        def client(i):
            try:
                answers[i] = httpx.post(url + '/predict', json={'inputs': texts[i]}, timeout=60)
            except httpx.TransportError as err:  # pragma: no cover -- what the test is there to catch
                answers[i] = err

        threads = [threading.Thread(target=client, args=(i,)) for i in range(len(texts))]
        for thread in threads:
            thread.start()
        while True:  # wait until the server has accepted all of them
            _, text = batch_histogram(type('S', (), {'url': url}))
            if 'kobert_gluon_requests_in_progress{{route="/predict"}} {}.0'.format(len(texts)) in text:
                break
            assert time.monotonic() < deadline
            time.sleep(0.01)
        process.send_signal(signal.SIGTERM)
        for thread in threads:
            thread.join(60)
        assert process.wait(60) == 0, process.stderr.read()
        for i, response in enumerate(answers):
            assert isinstance(response, httpx.Response), response
            assert response.status_code == 200 and len(response.json()) == len(texts[i])
        with pytest.raises(httpx.ConnectError):
            httpx.get(url + '/v2/health/live', timeout=5)
    finally:
        if process.poll() is None:
            process.kill()
            process.wait()


def test_cli_defaults_are_the_settings_defaults():
    import dataclasses
    from kobert_gluon.cli.serve import DEFAULTS
    from kobert_gluon.serving import ServeSettings
    fields = {f.name: f.default for f in dataclasses.fields(ServeSettings)}
    assert {name: fields[name] for name in DEFAULTS} == DEFAULTS


def test_port_in_use_is_one_line():
    from kobert_gluon.core.errors import InputError
    from kobert_gluon.serving.server import bind
    taken = bind('127.0.0.1', 0)
    try:
        with pytest.raises(InputError, match=r'^port \d+ on 127.0.0.1 is in use; choose another with --port$'):
            bind('127.0.0.1', taken.getsockname()[1])
    finally:
        taken.close()
