"""The weights of a Keras ``tf_model.h5`` (what transformers' TensorFlow models save), read in a child process.

HDF5 follows the addresses a file holds without checking them: a damaged ``tf_model.h5`` (a flipped byte in a
variable-length string's heap address, say) makes the C library read wild memory and crashes the whole process,
which no ``except`` can catch. So :func:`read_keras_weights` runs this file as a script in a child Python
(``python -I``: no package import, no script folder on the path; the parent's ``sys.path``) and takes the arrays
back from an ``.npz`` that the child writes; a child that fails or dies is one error naming the file.

The child checks what the Keras layout promises before trusting it: ``layer_names`` and each layer's
``weight_names`` are lists of names, every weight is a dataset of floats whose stored size is its shape's. The
format has no checksums, so a flipped byte inside a weight's values reads as another value (the importer refuses
non-finite ones). This module imports nothing from the package, so that the child loads only numpy and h5py.
"""
import json
import subprocess
import sys
import tempfile
from pathlib import Path
from typing import List, Tuple

__all__ = ['read_keras_weights']

_FAILED = 3  # the child's exit status for a file it could read but not accept (its stderr says why)


def read_keras_weights(path, error) -> List[Tuple[str, 'np.ndarray']]:
    """``(Keras weight name, float array)`` of every weight of ``path``, in the file's layer order; ``error``: the
    exception type a damaged or unreadable file raises (with one line naming the file)."""
    import numpy as np
    path = Path(path)
    with tempfile.TemporaryDirectory(prefix='kobert-gluon-h5-') as folder:
        out = Path(folder) / 'weights.npz'
        # the child finds numpy and h5py where this process found them: it gets this process's sys.path
        done = subprocess.run([sys.executable, '-I', str(Path(__file__).resolve()), str(path), str(out),
                               json.dumps(sys.path)], stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)
        if done.returncode != 0:
            lines = done.stderr.decode('utf-8', 'replace').strip().splitlines()
            detail = (lines[-1][:160] if done.returncode == _FAILED and lines else
                      'the HDF5 reader crashed (exit status {})'.format(done.returncode))
            raise error('{} cannot be read as Keras weights ({}); the file is damaged or incomplete: download or '
                        'save it again'.format(path, detail))
        with np.load(str(out), allow_pickle=False) as arrays:
            names = json.loads(str(arrays['names']))
            return [(name, arrays['w{}'.format(i)]) for i, name in enumerate(names)]


def _names(node, key: str) -> List[str]:
    """A Keras list of names (``layer_names``, ``weight_names``): a one-dimensional attribute of strings; its type
    and size checked before h5py reads it."""
    if key not in node.attrs:
        raise ValueError('{} has no {}: not a Keras weights file'.format(node.name, key))
    attribute = node.attrs.get_id(key)
    if len(attribute.shape) != 1:
        raise ValueError('{} of {} is not a list'.format(key, node.name))
    if attribute.shape[0] == 0:  # Keras writes a layer without weights as an empty array of any type
        return []
    if attribute.dtype.kind not in 'SO':
        raise ValueError('{} of {} holds {} values, not names'.format(key, node.name, attribute.dtype))
    names = []
    for name in node.attrs[key]:
        name = name.decode('utf-8') if isinstance(name, bytes) else name
        if not isinstance(name, str) or not name or '\0' in name:
            raise ValueError('{} of {} holds {!r}, not a name'.format(key, node.name, name))
        names.append(name)
    return names


def _weights(src: str):
    """``(name, array)`` of each weight of the Keras file ``src``, checked (run in the child)."""
    import h5py
    import numpy as np
    with h5py.File(src, 'r') as weights:
        for layer in _names(weights, 'layer_names'):
            group = weights.get(layer)
            if not isinstance(group, h5py.Group):
                raise ValueError('layer {} of layer_names is not in the file'.format(layer))
            for name in _names(group, 'weight_names'):
                dataset = group.get(name)
                if not isinstance(dataset, h5py.Dataset) or dataset.dtype.kind != 'f':
                    raise ValueError('weight {} is not an array of floats'.format(name))
                if dataset.id.get_storage_size() != dataset.size * dataset.dtype.itemsize:
                    raise ValueError('weight {} of shape {} stores {} bytes'.format(
                        name, dataset.shape, dataset.id.get_storage_size()))
                yield name, np.asarray(dataset[()], dtype=np.float32)


def _main(src: str, out: str) -> int:
    import numpy as np
    try:
        found = list(_weights(src))
    except Exception as err:  # noqa: BLE001 -- h5py raises many types for a damaged file; the parent names it
        # the child's one message to the parent, which names the file
        sys.stderr.write('{}: {}\n'.format(type(err).__name__, str(err).strip().splitlines()[0] if str(err).strip()
                                           else ''))
        return _FAILED
    arrays = {'w{}'.format(i): array for i, (_, array) in enumerate(found)}
    np.savez(out, names=np.array(json.dumps([name for name, _ in found])), **arrays)
    return 0


if __name__ == '__main__':
    sys.path[:] = json.loads(sys.argv[3])
    sys.exit(_main(sys.argv[1], sys.argv[2]))
