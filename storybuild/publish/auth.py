"""YouTube OAuth: the installed-app login and the token file it leaves, kept out of every project.

The token lives under the user's config folder (``$XDG_CONFIG_HOME/storybuild/youtube/<channel>.json``,
or the file ``STORYBUILD_YOUTUBE_TOKEN`` names), mode 0600 from its first byte, never in a
project that may be committed. Its values are never printed: errors say what to do, not what the
token was. google-auth refreshes the access token; a refresh token that was revoked, or expired
(a consent screen left in "Testing" expires them after 7 days), fails with the way out.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path
from typing import Any

from ..errors import BackendUnavailable, ConfigError, TransientError
from ..store.atomic import temp_path

__all__ = ["SCOPES", "TOKEN_ENV", "SECRETS_ENV", "access_token", "client_secrets", "load_credentials", "login",
           "token_path"]

SCOPES = [
    "https://www.googleapis.com/auth/youtube.upload",
    "https://www.googleapis.com/auth/youtube.readonly",
    "https://www.googleapis.com/auth/youtube.force-ssl",
]
TOKEN_ENV = "STORYBUILD_YOUTUBE_TOKEN"
SECRETS_ENV = "STORYBUILD_YOUTUBE_CLIENT_SECRETS"
_LOGIN = "run `storybuild youtube login{channel}`"


def _login_hint(channel: str) -> str:
    return _LOGIN.format(channel="" if channel == "default" else f" --channel {channel}")


def token_path(channel: str = "default") -> Path:
    """Where ``channel``'s token is kept: STORYBUILD_YOUTUBE_TOKEN, else the user's config folder."""
    if not re.fullmatch(r"[A-Za-z0-9_.-]+", channel) or channel.startswith("."):
        raise ConfigError(f"youtube.channel = {channel!r}: use letters, digits, '_', '-' and '.'")
    named = os.environ.get(TOKEN_ENV, "").strip()
    if named:
        return Path(named).expanduser()
    base = os.environ.get("XDG_CONFIG_HOME", "").strip() or os.path.join(os.path.expanduser("~"), ".config")
    return Path(base) / "storybuild" / "youtube" / f"{channel}.json"


def client_secrets(setting: Path | None) -> Path:
    """The OAuth client file: the ``youtube.client_secrets`` setting, else STORYBUILD_YOUTUBE_CLIENT_SECRETS."""
    chosen = setting or (Path(os.environ[SECRETS_ENV]) if os.environ.get(SECRETS_ENV, "").strip() else None)
    if chosen is None:
        raise ConfigError(
            f"no OAuth client file: download one (Google Cloud console, OAuth client of type Desktop app) and "
            f"set youtube.client_secrets or {SECRETS_ENV}"
        )
    if not chosen.is_file():
        raise ConfigError(f"the OAuth client file {chosen} does not exist", file=chosen)
    return chosen


def save_token(path: Path, data: dict[str, Any]) -> None:
    """Write the token atomically, readable by its owner alone from the moment it exists."""
    path.parent.mkdir(parents=True, exist_ok=True, mode=0o700)
    tmp = temp_path(path)
    try:
        fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        with os.fdopen(fd, "w", encoding="utf-8") as handle:
            json.dump(data, handle)
        os.chmod(tmp, 0o600)
        os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)


def _google() -> Any:
    try:
        import google.auth.transport.requests as transport
        import google.oauth2.credentials as credentials
    except ImportError as exc:
        raise BackendUnavailable(
            "publishing to YouTube needs google-auth: pip install 'storybuild[youtube]'"
        ) from exc
    return credentials, transport


def load_credentials(channel: str = "default") -> Any:
    """``channel``'s credentials, refreshed when needed; the refreshed token is saved back (0600)."""
    credentials, transport = _google()
    path = token_path(channel)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise ConfigError(f"not logged in to YouTube (no token at {path}): {_login_hint(channel)}") from exc
    except (OSError, ValueError) as exc:
        raise ConfigError(f"the YouTube token at {path} is unreadable: {_login_hint(channel)}", file=path) from exc
    if path.stat().st_mode & 0o077:
        os.chmod(path, 0o600)
    try:
        creds = credentials.Credentials.from_authorized_user_info(data, data.get("scopes") or SCOPES)
        if data.get("token_uri"):
            # from_authorized_user_info always uses Google's endpoint; the file names the one that issued it.
            # The copy forgets the expiry (google-auth 2.63), which would make an expired token look valid.
            expiry, creds = creds.expiry, creds.with_token_uri(data["token_uri"])
            creds.expiry = expiry
    except ValueError as exc:
        raise ConfigError(f"the YouTube token at {path} is incomplete ({_reason(exc)}): {_login_hint(channel)}") from exc
    if not creds.valid:
        refresh(creds, channel)
    return creds


def refresh(creds: Any, channel: str) -> None:
    """Get a new access token; a dead refresh token says why and how to log in again."""
    import google.auth.exceptions as auth_errors

    _, transport = _google()
    try:
        creds.refresh(transport.Request())
    except auth_errors.RefreshError as exc:
        raise ConfigError(
            f"YouTube refused to refresh the login ({_reason(exc)}): it was revoked, or it expired (an OAuth "
            f"consent screen left in \"Testing\" expires logins after 7 days); {_login_hint(channel)}"
        ) from exc
    except auth_errors.TransportError as exc:
        raise TransientError(f"could not reach Google's token endpoint: {_reason(exc)}") from exc
    save_token(token_path(channel), json.loads(creds.to_json()))


def _reason(exc: Exception) -> str:
    """The error's kind in words, without anything a token could hide in (first line, no values)."""
    args = getattr(exc, "args", ())
    text = str(args[0]) if args else type(exc).__name__
    match = re.search(r"invalid_grant|invalid_client|unauthorized_client|access_denied|expired|revoked", text)
    if match:
        return match.group(0).replace("_", " ")
    return type(exc).__name__


def access_token(creds: Any, channel: str) -> str:
    """A valid access token from ``creds``, refreshed first when it has expired."""
    if not creds.valid:
        refresh(creds, channel)
    return creds.token


def login(channel: str = "default", secrets: Path | None = None, port: int = 0) -> Path:
    """The installed-app flow in the browser; the token is saved for ``channel``; returns where."""
    try:
        from google_auth_oauthlib.flow import InstalledAppFlow
    except ImportError as exc:
        raise BackendUnavailable("logging in needs google-auth-oauthlib: pip install 'storybuild[youtube]'") from exc
    import webbrowser

    try:
        webbrowser.get()
        browser = True
    except webbrowser.Error:
        browser = False  # a machine without one: the flow prints the address to open elsewhere
    flow = InstalledAppFlow.from_client_secrets_file(str(client_secrets(secrets)), SCOPES)
    creds = flow.run_local_server(port=port, access_type="offline", prompt="consent", open_browser=browser)
    path = token_path(channel)
    save_token(path, json.loads(creds.to_json()))
    return path
