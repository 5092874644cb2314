"""The embedder kinds a user can choose, importable without numpy (for the CLI's help)."""

EMBEDDER_KINDS = ("auto", "minilm", "openai", "hashing")
