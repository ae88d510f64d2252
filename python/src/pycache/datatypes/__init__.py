"""The seed's datatypes: wrap a value in the type it is stored as.

``String``, ``Numeric``, ``List``, ``Map``, ``Set``, ``Queue`` (and their base
``Datatype``), as in the seed library; ``session.get`` returns the plain
value: str, int/float, list, dict, set, collections.deque.
"""

from .Datatype import Datatype
from .List import List
from .Map import Map
from .Numeric import Numeric
from .Queue import Queue
from .Set import Set
from .String import String

__all__ = ["Datatype", "List", "Map", "Numeric", "Queue", "Set", "String"]
