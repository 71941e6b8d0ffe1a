"""The Python half of the browser worker's protocol; only `web/worker.js` imports it.

    session = nnpy.web.Session()
    session.dispatch("predict", {"model": handle, "inputs": {...}})   # {"ok": ...} | {"error": ...}

`session` holds the namespace, models, tasks and jobs and dispatches the page's requests;
`inputs` is the one path from page pixels and arrays to model inputs; `operations` (any model)
and `projects` (the image-classifier task) add the page operations beyond the core ones.
"""

from . import operations, projects  # noqa: F401 - importing them registers their operations
from .session import Job, Session, operation

__all__ = ["Job", "Session", "operation"]
