"""cradle: agents that use a computer the way a person does.

Importing this package does nothing but define names: no display connection, no network,
no model loading. Everything heavy is imported where it is used.
"""

__version__ = "0.1.0"

__all__ = ["__version__"]
