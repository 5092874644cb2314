"""``cradle eval``: run a suite of tasks as isolated episodes and say which ones got done.

Each task runs in its own worker process (:mod:`cradle.eval.worker`) with its own home and
temp folders and D-Bus session, on the virtual display of its worker slot; the checker's
verdict, not the model's word, decides. :mod:`cradle.eval.harness` runs a suite with a
scheduler (:mod:`cradle.eval.scheduler` on this machine, :mod:`cradle.eval.cluster` on Ray) and
writes ``results.jsonl``, ``summary.json`` and ``report.html``.

Nothing is imported here: the worker starts with ``python -m cradle.eval.worker``.
"""
