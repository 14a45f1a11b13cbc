"""The names of the file formats the task structures read, as plain data (no MXNet).

Each reader takes its names from here (``tagging``: the tagged-text formats; ``extractive_qa``: SQuAD JSON;
``datasets``: how predict reads ``--input`` of a table model), and the command line shows the same names as its
choices without importing a reader, so ``--help`` stays free of MXNet.
"""

__all__ = ['TAGGED_FORMATS', 'SQUAD_FORMATS', 'DATA_FORMATS', 'INPUT_FORMATS']

TAGGED_FORMATS = ('klue', 'conll', 'naver')  # tagged text (tasks.tagging); the first is the default
SQUAD_FORMATS = ('squad',)  # SQuAD / KorQuAD JSON (tasks.extractive_qa)
DATA_FORMATS = TAGGED_FORMATS + SQUAD_FORMATS  # every structure that reads files of its own, not tables

# How a prediction input file of a table model is read: one text per line (as standard input is), or a table read
# with a TableSpec (tasks.datasets)
INPUT_FORMATS = ('lines', 'table')
