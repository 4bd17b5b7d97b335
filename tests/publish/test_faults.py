"""Faults on the wire and from Google's side: retried when they may pass, clear when they will not."""

from __future__ import annotations

import json


def _one_video(site) -> None:
    assert site.fake.uploaded() == [(site.build / "final.mp4").read_bytes()]
    assert site.record()["video"]["id"] in site.fake.videos


def test_server_errors_and_a_lost_reply_are_recovered_in_one_run(site) -> None:
    site.fake.fail("upload.chunk", nth=2, status=503, reason="backendError")
    site.fake.fail("upload.chunk", nth=4, status=500, reason="internalError")
    site.fake.fail("upload.chunk", nth=5, action="drop")  # the last chunk lands; its answer never comes
    site.fake.fail("thumbnails.set", status=503, reason="backendError")
    site.doit("publish")
    _one_video(site)
    assert site.fake.calls["videos.insert"] == 1 and site.fake.calls["upload.status"] == 3


def test_a_session_that_expires_mid_upload_is_replaced(site) -> None:
    site.fake.fail("upload.chunk", nth=3, status=404, reason="notFound")
    site.doit("publish")
    _one_video(site)
    assert site.fake.calls["videos.insert"] == 2  # the first session never held a whole file


def test_quota_exceeded_fails_clearly_and_the_next_run_stops_before_uploading(site) -> None:
    site.fake.fail("videos.insert", status=403, reason="quotaExceeded")
    result = site.doit("publish", check=False)
    assert result.returncode != 0 and "quotaExceeded" in result.stdout and not site.fake.videos
    calls = sum(site.fake.calls.values())
    result = site.doit("publish", check=False)
    assert result.returncode != 0 and "resets at" in result.stdout
    assert sum(site.fake.calls.values()) == calls  # stopped before any call


def test_upload_limit_exceeded_is_named(site) -> None:
    site.fake.fail("videos.insert", status=400, reason="uploadLimitExceeded")
    result = site.doit("publish", check=False)
    assert result.returncode != 0 and "upload limit" in result.stdout and not site.fake.videos


def test_a_publish_that_cannot_fit_the_budget_stops_before_uploading(site) -> None:
    site.settings({"upload_quota": "units", "daily_units": 1000})
    result = site.doit("publish", check=False)
    assert result.returncode != 0 and "resets at" in result.stdout and "1000" in result.stdout
    assert site.fake.calls["videos.insert"] == 0 and not site.fake.videos


def test_an_unaudited_project_is_told_plainly(site) -> None:
    site.fake.unaudited = True
    site.settings({"privacy": "public"})
    result = site.doit("publish")
    assert "audited" in result.stdout + result.stderr
    assert "audited" in site.record()["video"]["note"]


def test_an_expired_access_token_is_refreshed_and_a_revoked_login_says_what_to_do(site) -> None:
    site.doit("publish")
    site.fake.access.clear()  # every access token expires at Google's end
    site.settings({"category": 22})
    site.doit("publish")
    assert site.fake.videos[site.record()["video"]["id"]]["snippet"]["categoryId"] == "22"

    saved = json.loads(site.token.read_text())
    site.fake.refresh_tokens[saved["refresh_token"]] = False  # revoked, or 7 days of a "Testing" consent screen
    saved["expiry"] = "2000-01-01T00:00:00Z"
    from storybuild.publish.auth import save_token

    save_token(site.token, saved)
    site.settings({"category": 1})
    result = site.doit("publish", check=False)
    printed = result.stdout + result.stderr
    assert result.returncode != 0 and "storybuild youtube login" in printed and "7 days" in printed
    for secret in (saved["refresh_token"], saved["client_secret"], saved["token"]):
        assert secret not in printed
