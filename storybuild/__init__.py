"""storybuild: plain-text stories to narrated videos, built as a doit graph."""
