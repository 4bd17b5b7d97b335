"""What a test does when a component it needs (a Debian package, an optional pip extra) is missing.

Under CI (CI=true) that is a failure: .ci/run installs every component, so a missing one means a
broken setup, and a skipped test proves nothing. Elsewhere (a developer without Chromium, say) the
test is skipped with the reason and how to install it.
"""

from __future__ import annotations

import os
from typing import NoReturn

import pytest

IN_CI = os.environ.get("CI", "").lower() in ("1", "true", "yes")


def missing(what: str, install: str) -> NoReturn:
    """Fail under CI, skip elsewhere: ``what`` is missing, ``install`` says how to get it."""
    message = f"{what} ({install})"
    if IN_CI:
        pytest.fail(f"CI=true but {message}")
    pytest.skip(message)
