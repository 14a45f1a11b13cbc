"""Pretraining data on disk: documents -> shuffled shards of BERT instances, and reading the shards back.

A data folder holds ``manifest.json`` and shards ``part-CCCCC-KK.npz`` (chunk ``C``, part ``K``). Each
shard is a numpy ``.npz`` (deflate-compressed, so padding costs almost nothing; plain ``np.load`` reads it)
with N instances::

    input_ids             (N, L) uint16 (int32 for vocabularies over 65,536)  masked, [PAD]-padded
    segment_ids           (N, L) uint8    0 for [CLS] A [SEP], 1 for B [SEP], 0 for padding
    valid_lengths         (N,)   uint16   tokens before the padding
    masked_lm_positions   (N, P) uint16   ascending, 0-padded
    masked_lm_ids         (N, P) like input_ids   original ids at those positions, 0-padded
    masked_lm_weights     (N, P) uint8    1 for a real prediction, 0 for padding
    next_sentence_labels  (N,)   uint8    1: B is from a random document; 0: B follows A

with ``L = max_seq_length`` and ``P = max_predictions_per_seq``. :class:`PretrainingShardDataset` reads a
shard as a Gluon ``Dataset`` in training dtypes (int32, float32 weights).

Bounded memory: documents are streamed and cut into chunks of ``chunk_documents``; a chunk is tokenized,
turned into ``dupe_factor`` passes of instances, shuffled and written as shards of at most
``instances_per_shard``. BERT's reference holds every document of a file in memory so that a random-next B
can come from anywhere in it; here it comes from another document of the same chunk (thousands of documents,
which is as good a source of unrelated text) and instances are shuffled within a chunk (the training loop
shuffles shards and batches on top). At most ``2 * workers`` chunks are in flight.

Determinism: chunk ``c`` uses a seed derived from ``(random_seed, c)`` only, so the same input and seed
give byte-identical shards with any number of ``workers``.
"""
import hashlib
import json
import multiprocessing
import random
import zipfile
from concurrent.futures import FIRST_COMPLETED, ProcessPoolExecutor, wait
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Dict, Iterable, Iterator, List, Optional, Sequence, Tuple

import numpy as np

from ..core.documents import read_document, write_json
from ..core.errors import InputError
from ..core.corpus_text import TextSource
from ..core.mxnet_stack import mx
from ..core.owned_folders import (FolderKind, check_replaceable, register_folder_kind, verify_folder,
                                  write_folder_atomically)
from .documents import read_documents
from .instances import InstanceOptions, TrainingInstance, VocabIds, create_instances_from_document

__all__ = ['MANIFEST_FILE', 'SHARD_FIELDS', 'create_pretraining_data', 'PretrainingData', 'PretrainingShardDataset',
           'vocab_fingerprint']

MANIFEST_FILE = 'manifest.json'
DATA_KIND = register_folder_kind(FolderKind(
    'pretraining-data', 'pretraining data', (MANIFEST_FILE, '*.npz'),
    legacy=lambda folder: (folder / MANIFEST_FILE).is_file())).name
MANIFEST_FORMAT = 'kobert-gluon-pretraining-data'
MANIFEST_VERSION = 1
SHARD_FIELDS = ('input_ids', 'segment_ids', 'valid_lengths', 'masked_lm_positions', 'masked_lm_ids',
                'masked_lm_weights', 'next_sentence_labels')
# What the training loop gets back for each field (the embedding and loss ops want int32 / float32).
TRAINING_DTYPES = dict(zip(SHARD_FIELDS, (np.int32, np.int32, np.int32, np.int32, np.int32, np.float32, np.int32)))


def vocab_fingerprint(vocab) -> str:
    """sha256 of a vocabulary's tokens in id order: the data only fits a model with exactly these ids."""
    return hashlib.sha256(json.dumps(vocab.idx_to_token, ensure_ascii=False).encode('utf-8')).hexdigest()


@dataclass(frozen=True)
class _ChunkSettings:
    options: InstanceOptions
    random_seed: int
    instances_per_shard: int
    id_dtype: str
    out_dir: str


class _ChunkWorker:
    """Tokenizes a chunk of documents and writes its shards; one per process."""

    def __init__(self, tokenizer):
        # any tokenizer kind; in a pool it arrives pickled (both kinds pickle: SentencePiece's processor is made
        # lazily), and unpickling imports the package, which applies its fixes in the fresh worker process
        self.tokenizer = tokenizer
        self.vocab_ids = VocabIds(tokenizer.vocab, tokenizer.starts_word)

    def tokenize(self, documents: Sequence[Sequence[str]]) -> List[List[List[int]]]:
        tokenized = []
        for document in documents:
            segments = [self.tokenizer.convert_tokens_to_ids(self.tokenizer(sentence)) for sentence in document]
            segments = [segment for segment in segments if segment]
            if segments:
                tokenized.append(segments)
        return tokenized

    def process(self, chunk_index: int, documents: Sequence[Sequence[str]], settings: _ChunkSettings) -> dict:
        options = settings.options
        rng = random.Random(_chunk_seed(settings.random_seed, chunk_index))
        tokenized = self.tokenize(documents)
        packed = []
        for _ in range(options.dupe_factor):
            for index in range(len(tokenized)):
                for instance in create_instances_from_document(tokenized, index, options, self.vocab_ids, rng):
                    packed.append(_pack(instance, settings.id_dtype))
        rng.shuffle(packed)
        shards = []
        for part, start in enumerate(range(0, len(packed), settings.instances_per_shard)):
            name = 'part-{:05d}-{:02d}.npz'.format(chunk_index, part)
            batch = packed[start:start + settings.instances_per_shard]
            _write_shard(Path(settings.out_dir) / name, batch, options, settings.id_dtype, self.vocab_ids.pad_id)
            shards.append({'file': name, 'instances': len(batch)})
        return {'chunk': chunk_index, 'documents': len(tokenized), 'shards': shards,
                'instances': len(packed), 'tokens': int(sum(len(p[0]) for p in packed)),
                'masked_tokens': int(sum(len(p[2]) for p in packed)),
                'random_next': int(sum(1 for p in packed if p[4]))}


def _chunk_seed(random_seed: int, chunk_index: int) -> int:
    return int(np.random.SeedSequence([random_seed, chunk_index]).generate_state(2, np.uint64)[0])


def _pack(instance: TrainingInstance, id_dtype: str) -> tuple:
    """Numpy arrays instead of lists of Python ints: a chunk's instances stay a few hundred bytes each."""
    return (np.asarray(instance.input_ids, dtype=id_dtype), instance.num_segment_a_tokens,
            np.asarray(instance.masked_lm_positions, dtype=np.uint16),
            np.asarray(instance.masked_lm_ids, dtype=id_dtype), instance.is_random_next)


def _write_shard(path: Path, packed: Sequence[tuple], options: InstanceOptions, id_dtype: str, pad_id: int):
    n, length, predictions = len(packed), options.max_seq_length, options.max_predictions_per_seq
    arrays = {
        'input_ids': np.full((n, length), pad_id, dtype=id_dtype),
        'segment_ids': np.zeros((n, length), dtype=np.uint8),
        'valid_lengths': np.zeros(n, dtype=np.uint16),
        'masked_lm_positions': np.zeros((n, predictions), dtype=np.uint16),
        'masked_lm_ids': np.zeros((n, predictions), dtype=id_dtype),
        'masked_lm_weights': np.zeros((n, predictions), dtype=np.uint8),
        'next_sentence_labels': np.zeros(n, dtype=np.uint8),
    }
    for row, (ids, num_a, positions, labels, is_random_next) in enumerate(packed):
        arrays['input_ids'][row, :len(ids)] = ids
        arrays['segment_ids'][row, num_a:len(ids)] = 1
        arrays['valid_lengths'][row] = len(ids)
        arrays['masked_lm_positions'][row, :len(positions)] = positions
        arrays['masked_lm_ids'][row, :len(labels)] = labels
        arrays['masked_lm_weights'][row, :len(labels)] = 1
        arrays['next_sentence_labels'][row] = is_random_next
    _save_npz(path, arrays)


def _save_npz(path: Path, arrays: Dict[str, np.ndarray]) -> None:
    """``np.savez_compressed`` with fixed member timestamps, so that the same data gives the same bytes."""
    with zipfile.ZipFile(path, 'w', compression=zipfile.ZIP_DEFLATED) as archive:
        for name, array in arrays.items():
            member = zipfile.ZipInfo(name + '.npy', date_time=(1980, 1, 1, 0, 0, 0))
            member.compress_type = zipfile.ZIP_DEFLATED
            with archive.open(member, 'w', force_zip64=True) as handle:
                np.lib.format.write_array(handle, np.ascontiguousarray(array), allow_pickle=False)


# The worker of a pool process (set by its initializer); the main process uses its own instance.
_POOL_WORKER: Optional[_ChunkWorker] = None


def _init_pool_worker(tokenizer) -> None:
    global _POOL_WORKER
    _POOL_WORKER = _ChunkWorker(tokenizer)


def _process_in_pool(chunk_index, documents, settings):
    return _POOL_WORKER.process(chunk_index, documents, settings)


def _chunks(documents: Iterable[List[str]], size: int) -> Iterator[Tuple[int, List[List[str]]]]:
    chunk: List[List[str]] = []
    index = 0
    for document in documents:
        chunk.append(document)
        if len(chunk) == size:
            yield index, chunk
            chunk, index = [], index + 1
    if chunk:
        yield index, chunk


def _run_chunks(chunks, worker_args: Tuple[Any], settings: _ChunkSettings, workers: int,
                on_result: Callable[[dict], None]) -> None:
    if workers == 1:
        worker = _ChunkWorker(*worker_args)
        for index, documents in chunks:
            on_result(worker.process(index, documents, settings))
        return
    # spawn, not fork: forking a process that has started MXNet's engine threads is not safe.
    context = multiprocessing.get_context('spawn')
    with ProcessPoolExecutor(workers, mp_context=context, initializer=_init_pool_worker,
                             initargs=worker_args) as pool:
        pending = set()
        for index, documents in chunks:
            pending.add(pool.submit(_process_in_pool, index, documents, settings))
            if len(pending) >= 2 * workers:  # back-pressure: do not read the corpus faster than it is processed
                done, pending = wait(pending, return_when=FIRST_COMPLETED)
                for future in done:
                    on_result(future.result())
        for future in pending:
            on_result(future.result())


def create_pretraining_data(input_files, out_dir, tokenizer, *, column=None, header: Optional[bool] = None,
                            input_format: str = 'documents', options: InstanceOptions = InstanceOptions(),
                            random_seed: int = 12345, workers: int = 1, chunk_documents: int = 5000,
                            instances_per_shard: int = 50000, halve_single_sentences: bool = True,
                            overwrite: bool = False, progress: Optional[Callable[[int, int], None]] = None,
                            encoding: str = 'utf-8', tokenizer_source=None) -> 'PretrainingData':
    """Write BERT pretraining shards for a corpus to ``out_dir``; returns the written :class:`PretrainingData`.

    ``input_files`` are text files (or a :class:`TextSource`; ``column``/``header`` select a TSV column) in
    ``input_format`` ``'documents'`` (blank-line separated, one sentence per line) or ``'lines'`` (one short
    document per line, e.g. NSMC reviews; see :mod:`kobert_gluon.pretraining.documents`). ``tokenizer`` is a
    tokenizer of any kind (:func:`kobert_gluon.load_tokenizer`: SentencePiece, WordPiece): its pieces and vocab
    make the ids; ``tokenizer_source``: where it was loaded from (a vocabulary or model folder, a file), which
    ``out_dir`` may not be, hold or lie inside. ``progress(documents_done, instances_done)`` is called after every
    chunk.
    """
    source = (input_files if isinstance(input_files, TextSource)
              else TextSource(input_files, column, header, encoding=encoding))
    if not all(hasattr(tokenizer, name) for name in ('vocab', 'starts_word', 'convert_tokens_to_ids')):
        raise TypeError('tokenizer must be one of the package\'s tokenizers (kobert_gluon.load_tokenizer), got {}'
                        .format(type(tokenizer).__name__))
    if not isinstance(options, InstanceOptions):
        raise TypeError('options must be an InstanceOptions, got {}'.format(type(options).__name__))
    for name, value in (('workers', workers), ('chunk_documents', chunk_documents),
                        ('instances_per_shard', instances_per_shard)):
        if not isinstance(value, int) or value < 1:
            raise InputError('{} must be a positive integer, got {!r}'.format(name, value))
    if options.max_seq_length > np.iinfo(np.uint16).max:
        raise InputError('max_seq_length must fit uint16 positions, got {}'.format(options.max_seq_length))
    out_dir = Path(out_dir)
    inputs = list(source.paths) + [tokenizer_source]  # the output may be, hold or lie inside none of them
    check_replaceable(out_dir, DATA_KIND, overwrite, inputs=inputs)  # before the long part
    vocab = tokenizer.vocab
    id_dtype = 'uint16' if len(vocab) <= 65536 else 'int32'
    worker_args = (tokenizer,)

    def write(tmp: Path):
        settings = _ChunkSettings(options, random_seed, instances_per_shard, id_dtype, str(tmp))
        results: List[dict] = []
        totals = {'documents': 0, 'instances': 0}

        def on_result(result):
            results.append(result)
            totals['documents'] += result['documents']
            totals['instances'] += result['instances']
            if progress is not None:
                progress(totals['documents'], totals['instances'])

        passed_over: Dict[str, int] = {}
        documents = read_documents(source, input_format, halve_single_sentences, skipped=passed_over)
        _run_chunks(_chunks(documents, chunk_documents), worker_args, settings, workers, on_result)
        if not totals['instances']:
            raise InputError('no pretraining instances: {} holds no text'
                             .format(', '.join(str(p) for p in source.paths)))
        results.sort(key=lambda r: r['chunk'])
        stats = {key: sum(r[key] for r in results) for key in ('tokens', 'masked_tokens', 'random_next')}
        manifest = {
            'format': MANIFEST_FORMAT,
            'format_version': MANIFEST_VERSION,
            'input': dict(source.describe(), format=input_format,
                          halve_single_sentences=halve_single_sentences if input_format == 'lines' else None),
            'options': options.to_dict(),
            'random_seed': random_seed,
            'chunk_documents': chunk_documents,
            'instances_per_shard': instances_per_shard,
            'vocab': {'size': len(vocab), 'sha256': vocab_fingerprint(vocab), 'id_dtype': id_dtype,
                      'padding_id': vocab[vocab.padding_token]},
            'next_sentence_labels': '1: B is from a random document, 0: B is the text that follows A',
            'num_documents': totals['documents'],
            'blank_lines_skipped': passed_over.get('blank_lines', 0),
            'num_instances': totals['instances'],
            'stats': stats,
            'shards': [shard for result in results for shard in result['shards']],
        }
        write_json(tmp / MANIFEST_FILE, manifest)

    return PretrainingData(write_folder_atomically(out_dir, DATA_KIND, write, overwrite=overwrite, inputs=inputs))


class PretrainingShardDataset(mx.gluon.data.Dataset):
    """One shard as a Gluon ``Dataset``: item ``i`` is a tuple in :data:`SHARD_FIELDS` order, in training dtypes
    (int32, and float32 weights), ready for ``gluon.data.DataLoader``. ``arrays`` holds the stored arrays."""

    def __init__(self, path):
        self.path = Path(path)
        if not self.path.is_file():
            raise FileNotFoundError('pretraining shard {} does not exist'.format(self.path))
        with np.load(self.path) as data:
            missing = [f for f in SHARD_FIELDS if f not in data.files]
            if missing:
                raise InputError('{} is not a pretraining shard: it lacks {}'.format(self.path, ', '.join(missing)))
            self.arrays: Dict[str, np.ndarray] = {f: data[f] for f in SHARD_FIELDS}
        sizes = {len(a) for a in self.arrays.values()}
        if len(sizes) != 1:
            raise InputError('{} is damaged: its arrays hold different numbers of instances'.format(self.path))

    def __len__(self):
        return len(self.arrays['valid_lengths'])

    def __getitem__(self, index):
        return tuple(self.arrays[f][index].astype(TRAINING_DTYPES[f]) for f in SHARD_FIELDS)

    def __repr__(self):
        return '{}({!r}, instances={})'.format(type(self).__name__, str(self.path), len(self))


class PretrainingData:
    """A folder written by :func:`create_pretraining_data`: its manifest and its shards."""

    def __init__(self, folder):
        self.folder = Path(folder)
        path = self.folder / MANIFEST_FILE
        if not path.is_file():
            raise FileNotFoundError('{} is not a pretraining data folder: it has no {}'.format(self.folder,
                                                                                             MANIFEST_FILE))
        verify_folder(self.folder, DATA_KIND)  # shards changed on disk would train on other data in silence
        self.manifest = manifest = read_document(path, MANIFEST_FORMAT, MANIFEST_VERSION,
                                                 'kobert-gluon pretraining data manifest',
                                                 advice='write the data again with create-pretraining-data')
        self.options = InstanceOptions(**manifest['options'])
        missing = [p.name for p in self.shard_paths if not p.is_file()]
        if missing:
            raise FileNotFoundError('{} is incomplete: {} of its shards are missing (first: {})'
                                    .format(self.folder, len(missing), missing[0]))

    @property
    def shard_paths(self) -> List[Path]:
        return [self.folder / shard['file'] for shard in self.manifest['shards']]

    @property
    def num_instances(self) -> int:
        return self.manifest['num_instances']

    def __len__(self):
        return self.num_instances

    def check_vocab(self, vocab) -> None:
        """Raise ``ValueError`` unless ``vocab`` has exactly the ids this data was made with."""
        expected = self.manifest['vocab']
        if len(vocab) != expected['size'] or vocab_fingerprint(vocab) != expected['sha256']:
            raise InputError('{} was made with another vocabulary ({} tokens, sha256 {}…) than the one given '
                             '({} tokens, sha256 {}…)'.format(self.folder, expected['size'], expected['sha256'][:12],
                                                             len(vocab), vocab_fingerprint(vocab)[:12]))

    def shards(self, shuffle: bool = False, seed: Optional[int] = None, num_parts: int = 1,
               part_index: int = 0) -> Iterator[PretrainingShardDataset]:
        """The shards one at a time (only one is in memory), optionally in a seeded random order; with
        ``num_parts`` > 1 only every ``num_parts``-th shard from ``part_index`` (one part per training worker)."""
        if not 0 <= part_index < num_parts:
            raise InputError('part_index must be in [0, {}), got {}'.format(num_parts, part_index))
        paths = self.shard_paths
        if shuffle:
            random.Random(seed).shuffle(paths)
        for path in paths[part_index::num_parts]:
            yield PretrainingShardDataset(path)

    def __repr__(self):
        return '{}({!r}, instances={}, shards={})'.format(type(self).__name__, str(self.folder),
                                                          self.num_instances, len(self.manifest['shards']))
