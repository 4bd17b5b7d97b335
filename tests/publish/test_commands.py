"""storybuild publish --dry-run and youtube login, run as a user runs them."""

from __future__ import annotations

import json
import os
import stat
import threading
import urllib.parse
import urllib.request


def test_dry_run_prints_what_would_be_sent_and_its_quota_and_sends_nothing(site) -> None:
    site.settings({"upload_quota": "units"})
    result = site.command("publish", "--dry-run")
    assert result.returncode == 0, result.stderr
    out = result.stdout
    assert "videos.insert" in out and "1600 units" in out and "thumbnails.set" in out and "captions.insert" in out
    assert '"selfDeclaredMadeForKids": false' in out and '"privacyStatus": "private"' in out
    assert "quota: 2052 units and 1 upload(s)" in out and "resets at" in out  # 1 + 1 + 1600 + 50 + 400
    assert sum(site.fake.calls.values()) == 0
    site.doit("publish")
    result = site.command("publish", "--dry-run", "--story", "tiny")
    assert "tiny: up to date on YouTube" in result.stdout and "quota: 0 units" in result.stdout


def test_login_runs_the_installed_app_flow_and_keeps_the_token_private(site, tmp_path) -> None:
    """The browser's part is played by a thread that follows the consent redirect to the local server."""
    secrets = tmp_path / "client.json"
    secrets.write_text(json.dumps({"installed": {
        "client_id": "fake-client.apps.googleusercontent.com", "client_secret": "fake-client-secret",
        "auth_uri": f"{site.fake.url}/auth", "token_uri": f"{site.fake.url}/token",
        "redirect_uris": ["http://localhost"]}}))
    site.token.unlink()
    from storybuild.publish import auth

    class Browser:
        """Consents at once: follows the authorization URL's redirect back to the local server."""

        def open(self, url: str, *args, **kwargs) -> bool:
            query = urllib.parse.parse_qs(urllib.parse.urlparse(url).query)
            assert set(query["scope"][0].split()) == set(auth.SCOPES) and query["access_type"] == ["offline"]
            redirect = query["redirect_uri"][0] + "?" + urllib.parse.urlencode(
                {"code": "fake-code", "state": query["state"][0], "scope": " ".join(auth.SCOPES)})
            threading.Thread(target=urllib.request.urlopen, args=(redirect,), daemon=True).start()
            return True

    import webbrowser

    old_env = {k: os.environ.get(k) for k in ("XDG_CONFIG_HOME", "REQUESTS_CA_BUNDLE")}
    os.environ.update(XDG_CONFIG_HOME=str(site.home), REQUESTS_CA_BUNDLE=str(site.fake.ca_file))
    saved_get, webbrowser.get = webbrowser.get, lambda *a: Browser()
    try:
        path = auth.login("default", secrets)
    finally:
        webbrowser.get = saved_get
        for key, value in old_env.items():
            os.environ.pop(key, None) if value is None else os.environ.__setitem__(key, value)
    assert path == site.token and stat.S_IMODE(os.stat(path).st_mode) == 0o600
    assert json.loads(path.read_text())["refresh_token"]
    site.doit("publish")
    assert len(site.fake.videos) == 1
