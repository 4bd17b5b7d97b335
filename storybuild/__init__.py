"""storybuild: plain-text stories to narrated videos, built as a doit graph.

Start at ``storybuild.graph`` (the stages, importable by any dodo.py); docs/architecture.md maps
the rest.
"""

import time

#: When the package was first imported: the progress summary counts from here, so the time it
#: prints includes loading the stories, not only running the tasks.
STARTED = time.monotonic()

__version__ = "0.1.0"
