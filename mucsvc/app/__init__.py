"""The application layer: one method per use case (`MucApplication`).

Edges (XMPP handlers, the HTTP endpoints, ad-hoc commands, the hats
service) parse their input and call one operation here; the operation
checks, calls the domain (`mucsvc.rooms`), writes the store once, all or
nothing, and then emits events (`mucsvc.app.events`) to its listeners:
the XMPP broadcaster renders and sends stanzas, metrics count them.
"""

from mucsvc.app.application import MucApplication
from mucsvc.app.errors import StoreFailed

__all__ = ["MucApplication", "StoreFailed"]
