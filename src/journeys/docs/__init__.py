"""The documentation in ``docs/``, generated from the registry, the command line and the models.

Each analysis' page combines its hand-written prose (``docs/src/<command>.md``: what it
answers, its exact definitions, the commands of its examples) with what the code
says: its options as the command line spells them, their types and defaults, the
fields and tables of its result, and the real output of its examples. The shared pages
(reading options, the spec's keys, every command) and the index are made the same way.

``python -m journeys.docs`` (or ``make docs``) rewrites the pages; ``--check`` only
says which are out of date. ``tests/test_docs.py`` fails when a page is stale or when
an analysis, an option or a spec key is undocumented.
"""

from journeys.docs.build import generate, stale, write

__all__ = ["generate", "stale", "write"]
