"""pycache for Python: a client of the store that every process of the host
shares, with zero-copy reads.

* ``pycache.Client(dir)``: the plain client (every type, TTLs, batches,
  transactions, blocking pops, zero-copy reads with ``client.read()``);
* ``pycache.errors``: the exceptions.
"""

from . import errors
from ._pycache import KEY_MAX, LIBRARY_VERSION, Read
from .client import Batch, Client, Transaction
from .errors import *  # noqa: F401,F403  (the exception classes)

__version__ = "0.1.0"

__all__ = [
    "Client", "Read", "Batch", "Transaction", "errors", "KEY_MAX", "LIBRARY_VERSION",
    "__version__",
] + errors.__all__
