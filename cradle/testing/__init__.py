"""Helpers only the tests and benchmarks use: nothing in a run or an eval imports them.

:mod:`cradle.testing.chroma_server` starts a local Chroma server to point ``--memory-url`` at;
:mod:`cradle.testing.paraphrases` is the retrieval check that says whether an embedder finds
skills by meaning. They ship in the wheel because ``cradle bench`` uses them.
"""
