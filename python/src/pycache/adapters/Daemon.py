"""Daemon: the shared store of a running pycached."""

from __future__ import annotations

from typing import Any, Optional

from ..client import Client
from .Adapter import Adapter


class Daemon(Adapter):
    """The store that a running ``pycached`` serves in directory ``dir``
    (None: the default, ``$XDG_RUNTIME_DIR/pycache`` or ``/run/pycache``
    for root).  Every process of the host that opens the same directory sees
    the same keys.  Keyword options go to :class:`pycache.Client`
    (``timeout``, ``ring_only``, ...)."""

    def __init__(self, dir: Optional[str] = None, **options: Any) -> None:
        super().__init__(dir)
        self._dir = dir
        self._options = options

    def _open(self) -> Client:
        return Client(self._dir, **self._options)

    @property
    def dir(self) -> Optional[str]:
        """The store directory."""
        return self._dir
