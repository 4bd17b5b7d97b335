"""``python -m storybuild.serve [--root R] [--host H] [--port P]``."""

import sys

from .commands import main

sys.exit(main())
