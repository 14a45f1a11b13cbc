"""BERT pretraining instances from tokenized documents: sentence pairs for NSP and masked-LM targets.

This follows the semantics of BERT's reference ``create_pretraining_data.py``: per document a target length
(shorter with ``short_seq_prob``), chunks of whole segments up to that length, A = a random prefix of the
chunk, B = the rest (label 0) or, half of the time, text from a random other document (label 1) with the
chunk's unused segments put back; ``truncate_seq_pair`` trims the longer side at a random end; masking picks
``round(len * masked_lm_prob)`` (at most ``max_predictions_per_seq``) positions, optionally whole words, and
replaces 80 % with [MASK], 10 % with a random token and leaves 10 %. Python's ``random.Random`` draws the
numbers, in the reference's order.

Deliberate differences, each because the reference's behaviour hurts here:

* Random replacement tokens are drawn from the vocabulary without its special tokens (the reference can
  insert [PAD], [CLS] or [MASK] as "random words").
* Whole words are the tokenizer's words (SentencePiece: a piece starting with ``▁`` starts one; WordPiece: a piece
  without ``##``). A word never spans [SEP]
  (the reference's ``##`` rule could join B's first piece to A's last).
* When a random B leaves exactly one unused segment at the end of a document, that segment is not put
  back. Put back, it would form a one-segment chunk that can only become another random-next pair; on
  short documents (reviews) that makes about two thirds of the labels "random" instead of half.
  Its tokens still appear in the other ``dupe_factor`` passes.
"""
import random
from dataclasses import asdict, dataclass
from typing import List, NamedTuple, Sequence, Tuple

from ..core.errors import InputError

__all__ = ['InstanceOptions', 'VocabIds', 'TrainingInstance', 'create_instances_from_document',
           'create_masked_lm_predictions', 'truncate_seq_pair']

WORD_START = '▁'  # SentencePiece marks the first piece of every whitespace-separated word

Segment = List[int]
Document = List[Segment]


@dataclass(frozen=True)
class InstanceOptions:
    """Settings of instance creation (names and defaults as in BERT's ``create_pretraining_data.py``)."""
    max_seq_length: int = 128
    masked_lm_prob: float = 0.15
    max_predictions_per_seq: int = 20
    short_seq_prob: float = 0.1
    dupe_factor: int = 10
    do_whole_word_mask: bool = False

    def __post_init__(self):
        if self.max_seq_length < 5:
            raise InputError('max_seq_length must be >= 5 ([CLS] A [SEP] B [SEP]), got {}'
                             .format(self.max_seq_length))
        if not 0.0 < self.masked_lm_prob < 1.0:
            raise InputError('masked_lm_prob must be in (0, 1), got {}'.format(self.masked_lm_prob))
        if self.max_predictions_per_seq < 1:
            raise InputError('max_predictions_per_seq must be >= 1, got {}'.format(self.max_predictions_per_seq))
        if not 0.0 <= self.short_seq_prob <= 1.0:
            raise InputError('short_seq_prob must be in [0, 1], got {}'.format(self.short_seq_prob))
        if self.dupe_factor < 1:
            raise InputError('dupe_factor must be >= 1, got {}'.format(self.dupe_factor))

    def to_dict(self) -> dict:
        return asdict(self)


class VocabIds:
    """What instance creation needs to know about a BERTVocab, by id."""

    def __init__(self, vocab, starts_word=None):
        """``starts_word(piece)``: the tokenizer kind's rule (default: SentencePiece's "▁")."""
        self.size = len(vocab)
        self.cls_id = vocab[vocab.cls_token]
        self.sep_id = vocab[vocab.sep_token]
        self.mask_id = vocab[vocab.mask_token]
        self.pad_id = vocab[vocab.padding_token]
        special = {vocab[token] for token in [vocab.unknown_token, vocab.padding_token] + list(vocab.reserved_tokens)
                   if token is not None}
        self.replacement_ids = [i for i in range(self.size) if i not in special]
        unknown_id = vocab[vocab.unknown_token]
        # [UNK] stands for characters the model cannot spell; treat it as a word of its own.
        starts_word = starts_word or (lambda token: token.startswith(WORD_START))
        self.starts_word = [starts_word(token) or i == unknown_id for i, token in enumerate(vocab.idx_to_token)]


class TrainingInstance(NamedTuple):
    input_ids: List[int]            # [CLS] A [SEP] B [SEP], with the masked positions replaced
    num_segment_a_tokens: int       # len([CLS] A [SEP]): positions before it have segment id 0, after 1
    masked_lm_positions: List[int]  # ascending
    masked_lm_ids: List[int]        # the original ids at those positions
    is_random_next: bool            # True: B was taken from another document


def truncate_seq_pair(tokens_a: list, tokens_b: list, max_num_tokens: int, rng: random.Random) -> None:
    """Trim the longer of the two lists, one token at a time from a random end, until both fit."""
    while len(tokens_a) + len(tokens_b) > max_num_tokens:
        longer = tokens_a if len(tokens_a) > len(tokens_b) else tokens_b
        # Random ends add noise (the reference's reasoning) instead of always dropping the same text.
        if rng.random() < 0.5:
            del longer[0]
        else:
            longer.pop()


def create_masked_lm_predictions(tokens: Sequence[int], options: InstanceOptions, vocab_ids: VocabIds,
                                 rng: random.Random) -> Tuple[List[int], List[int], List[int]]:
    """``(masked tokens, positions, original ids)`` for one ``[CLS] A [SEP] B [SEP]`` sequence."""
    candidates: List[List[int]] = []
    after_special = True
    for index, token in enumerate(tokens):
        if token == vocab_ids.cls_id or token == vocab_ids.sep_id:
            after_special = True
            continue
        if options.do_whole_word_mask and not after_special and not vocab_ids.starts_word[token]:
            candidates[-1].append(index)
        else:
            candidates.append([index])
        after_special = False
    rng.shuffle(candidates)

    num_to_predict = min(options.max_predictions_per_seq,
                         max(1, int(round(len(tokens) * options.masked_lm_prob))))
    output = list(tokens)
    masked: List[Tuple[int, int]] = []
    for word in candidates:
        if len(masked) >= num_to_predict:
            break
        if len(masked) + len(word) > num_to_predict:
            continue  # a whole word that does not fit is skipped, never cut
        for index in word:
            if rng.random() < 0.8:
                replacement = vocab_ids.mask_id
            elif rng.random() < 0.5:
                replacement = tokens[index]
            else:
                replacement = vocab_ids.replacement_ids[rng.randint(0, len(vocab_ids.replacement_ids) - 1)]
            output[index] = replacement
            masked.append((index, tokens[index]))
    masked.sort()
    return output, [index for index, _ in masked], [label for _, label in masked]


def _random_segments(documents: Sequence[Document], document_index: int, target_length: int,
                     rng: random.Random) -> List[int]:
    """Tokens of a random other document, from a random segment on, until ``target_length`` is reached."""
    for _ in range(10):  # as the reference: a few tries to avoid the current document
        random_index = rng.randint(0, len(documents) - 1)
        if random_index != document_index:
            break
    random_document = documents[random_index]
    start = rng.randint(0, len(random_document) - 1)
    tokens: List[int] = []
    for segment in random_document[start:]:
        tokens.extend(segment)
        if len(tokens) >= target_length:
            break
    return tokens


def create_instances_from_document(documents: Sequence[Document], document_index: int, options: InstanceOptions,
                                   vocab_ids: VocabIds, rng: random.Random) -> List[TrainingInstance]:
    """All instances of one document; random B segments come from ``documents`` (the document's chunk)."""
    document = documents[document_index]
    max_num_tokens = options.max_seq_length - 3  # room for [CLS], [SEP], [SEP]
    # Mostly full-length sequences; a few short ones so that fine-tuning on short inputs is not out of
    # distribution. As in the reference, the target is drawn once per document.
    target_seq_length = max_num_tokens
    if rng.random() < options.short_seq_prob:
        target_seq_length = rng.randint(2, max_num_tokens)

    instances: List[TrainingInstance] = []
    chunk: List[Segment] = []
    chunk_length = 0
    i = 0
    while i < len(document):
        chunk.append(document[i])
        chunk_length += len(document[i])
        at_end = i == len(document) - 1
        if at_end or chunk_length >= target_seq_length:
            a_end = rng.randint(1, len(chunk) - 1) if len(chunk) >= 2 else 1
            tokens_a = [token for segment in chunk[:a_end] for token in segment]
            if len(chunk) == 1 or rng.random() < 0.5:
                is_random_next = True
                tokens_b = _random_segments(documents, document_index, target_seq_length - len(tokens_a), rng)
                unused = len(chunk) - a_end
                if not (at_end and unused == 1):  # see the module docstring
                    i -= unused
            else:
                is_random_next = False
                tokens_b = [token for segment in chunk[a_end:] for token in segment]
            truncate_seq_pair(tokens_a, tokens_b, max_num_tokens, rng)
            tokens = [vocab_ids.cls_id] + tokens_a + [vocab_ids.sep_id] + tokens_b + [vocab_ids.sep_id]
            masked_tokens, positions, labels = create_masked_lm_predictions(tokens, options, vocab_ids, rng)
            instances.append(TrainingInstance(masked_tokens, len(tokens_a) + 2, positions, labels, is_random_next))
            chunk = []
            chunk_length = 0
        i += 1
    return instances

