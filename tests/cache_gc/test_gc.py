"""The cache stays in bounds: gc evicts least recently used entries, never one a build file links to."""

from __future__ import annotations

import os
import time

import pytest

from storybuild.store import journal
from storybuild.store.cache import ArtifactCache
from storybuild.store.gc import collect, entries, parse_age, parse_size


def _made(tmp_path, cache, name: str, size: int = 1000, link: bool = False):
    source = tmp_path / "out" / name
    source.parent.mkdir(exist_ok=True)
    source.write_bytes(os.urandom(size))
    key = name * 8
    cache.store(key, {"f.bin": source})
    if not link:
        source.unlink()
    return key


def _age(cache, key: str, seconds: float) -> None:
    then = time.time() - seconds
    os.utime(cache.entry(key), (then, then))


def test_gc_evicts_least_recently_used_and_never_a_linked_entry(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    old, linked, recent = (_made(tmp_path, cache, n, link=n == "b") for n in "abc")
    _age(cache, old, 300)
    _age(cache, linked, 600)  # the oldest, but a build file links to it
    done = collect(cache, max_size=sum(e.size for e in entries(cache.root)) - 1)
    assert [e.key for e in done.evicted] == [old]
    assert not cache.entry(old).exists() and cache.entry(linked).is_dir() and cache.entry(recent).is_dir()
    assert collect(cache, max_size=0).evicted[0].key == recent
    assert [e.key for e in entries(cache.root)] == [linked]


def test_gc_by_age_and_a_fetch_counts_as_use(tmp_path):
    cache = ArtifactCache(tmp_path / "cache")
    old, fetched = _made(tmp_path, cache, "a"), _made(tmp_path, cache, "b")
    for key in (old, fetched):
        _age(cache, key, 40 * 86400)
    assert cache.fetch(fetched, {"f.bin": tmp_path / "again.bin"})
    (tmp_path / "again.bin").unlink()
    assert [e.key for e in collect(cache, older_than=parse_age("30d"), dry_run=True).evicted] == [old]
    assert cache.entry(old).is_dir()  # a dry run removes nothing
    assert [e.key for e in collect(cache, older_than=30 * 86400).evicted] == [old]


def test_a_size_cap_keeps_every_store_within_it(tmp_path):
    probe = ArtifactCache(tmp_path / "probe")
    _made(tmp_path, probe, "z")
    cap = 3 * entries(probe.root)[0].size + 10
    cache = ArtifactCache(tmp_path / "cache", max_size=cap)
    keys = []
    for name in "abcdefg":
        keys.append(_made(tmp_path, cache, name))
        os.utime(cache.entry(keys[-1]), (time.time() + len(keys), time.time() + len(keys)))
        assert sum(e.size for e in entries(cache.root)) <= cap
    assert [e.key for e in entries(cache.root)] == keys[-3:]


def test_sizes_and_ages_parse():
    assert parse_size("20GB") == 20 * 10**9 and parse_size("512MiB") == 512 << 20 and parse_size(7) == 7
    assert parse_age("12h") == 43200 and parse_age("2") == 172800


def test_the_journal_rotates_and_keeps_recent_history(tmp_path, monkeypatch):
    monkeypatch.setattr(journal, "MAX_BYTES", 2000)
    log = tmp_path / "log.jsonl"
    for i in range(100):
        journal.append(log, {"i": i})
    records = journal.read(log)
    assert log.stat().st_size <= 2000 + 200 and journal.rotated(log).stat().st_size <= 2000 + 200
    assert records[-1]["i"] == 99 and [r["i"] for r in records] == list(range(records[0]["i"], 100))
    assert len(records) >= 20


@pytest.fixture
def built(project):
    project.add_story("tiny")
    project.doit("final_wav")
    return project


def test_a_build_after_gc_regenerates_exactly_what_was_evicted_and_is_needed(built):
    story = built.story("tiny")
    original = story.read_text(encoding="utf-8")
    story.write_text(original.replace("Not me.", "Not me at all."), encoding="utf-8")
    built.doit("final_wav")
    info = built.storybuild("cache", "info")
    assert "hit rate" in info.stdout and "generated" in info.stdout, info.stdout
    result = built.storybuild("cache", "gc", "--max-size", "0")
    assert result.returncode == 0 and "evicted" in result.stdout, result.stderr
    mark = built.mark()
    assert "nothing to do" in built.doit("final_wav").stdout  # nothing a target links to went
    story.write_text(original, encoding="utf-8")
    built.doit("final_wav")
    assert built.generated("tts", mark) == ["tiny/0003"]  # the old take was evicted: made again
    assert built.reused("tts", mark) == []
