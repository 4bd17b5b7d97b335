"""storybuild's own build: every story in stories/ to build/<story>/. See README.md."""

from storybuild.graph import *  # noqa: F401,F403  (the stages are doit task creators)
from storybuild.graph import doit_config

DOIT_CONFIG = doit_config()
