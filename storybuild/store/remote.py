"""A shared artifact cache beyond one machine: an S3-compatible bucket or a shared folder.

Layout, after Bazel's remote cache: an *action* record per cache key, ``ac/<key>.json``, naming
each file of the entry by its content digest, and the bytes once per digest, ``cas/<digest>``.
Blobs are uploaded first, the record last, both create-only (S3 ``If-None-Match: *``; a link that
fails if the name exists on a shared folder). So two machines making the same artifact never
overwrite each other: the first record wins, and its blobs are already there, whatever bytes the
second machine made. Everything downloaded is checked against its digest and size before use; a
record whose blobs do not match is a miss, never a file in the build.

boto3 is the client: it is AWS's own, reads the standard variables and config files
(``AWS_ENDPOINT_URL``, ``AWS_ACCESS_KEY_ID``, ``~/.aws/config``...) and sends ``IfNoneMatch``
(minio-py cannot; obstore needs ``AWS_ALLOW_HTTP`` for plain-http endpoints such as MinIO on a LAN).
"""

from __future__ import annotations

import json
import os
import shutil
import socket
import threading
import time
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

from ..errors import CacheError, ConfigError
from .atomic import temp_path
from .hashing import file_digest

__all__ = ["FolderRemote", "RemoteUnavailable", "S3Remote", "SharedCache", "open_remote"]

#: Bump when the record format changes; older records are then misses, never misread.
RECORD_VERSION = 1


class RemoteUnavailable(CacheError):
    """The remote cache did not answer: the build goes on with the local cache alone."""


class Remote:
    """The operations every remote cache offers, over ``_get``/``_put_new``/``_exists``/``_keys``."""

    url: str

    def fetch(self, key: str, staging: Path) -> bool:
        """Download ``key``'s files into the empty folder ``staging``; False if the remote lacks it.

        A record whose blobs are missing or differ from their digests is a miss (CacheError names
        it, for a warning), and nothing it named is left in ``staging``.
        """
        raw = self._get(f"ac/{key}.json")
        if raw is None:
            return False
        try:
            record = json.loads(raw)
            files = record["files"] if record.get("v") == RECORD_VERSION else None
        except (ValueError, KeyError, TypeError) as exc:
            raise CacheError(f"{self.url}: unreadable record for {key[:12]}") from exc
        if files is None:
            return False
        for name, meta in files.items():
            target = staging / _safe_name(name)
            if not self._download(f"cas/{meta['digest']}", target) or target.stat().st_size != meta["size"]:
                _clear(staging)
                raise CacheError(f"{self.url}: entry {key[:12]} lacks the bytes of {name}")
            if file_digest(target) != meta["digest"]:
                _clear(staging)
                raise CacheError(f"{self.url}: entry {key[:12]}: {name} does not match its digest")
        return True

    def push(self, key: str, files: dict[str, Path], about: dict[str, Any] | None = None) -> bool:
        """Upload ``files`` (name -> path) as ``key``; False if the remote already had it."""
        if self._exists(f"ac/{key}.json"):
            return False
        entries = {}
        for name, path in sorted(files.items()):
            blob = file_digest(path)
            size = Path(path).stat().st_size
            if not self._exists(f"cas/{blob}"):
                self._upload_new(f"cas/{blob}", Path(path))
            entries[_safe_name(name)] = {"digest": blob, "size": size}
        record = {
            "v": RECORD_VERSION, "key": key, "files": entries,
            "made": {"host": socket.gethostname(), "at": round(time.time())}, **(about or {}),
        }
        return self._put_new(f"ac/{key}.json", json.dumps(record, sort_keys=True).encode("utf-8"))

    def has(self, key: str) -> bool:
        """Whether the remote holds a record for ``key``."""
        return self._exists(f"ac/{key}.json")

    def keys(self) -> set[str]:
        """Every key the remote holds a record for."""
        return {name[: -len(".json")] for name in self._keys("ac/") if name.endswith(".json")}

    # what each store implements ---------------------------------------------------------------
    def _get(self, name: str) -> bytes | None:
        raise NotImplementedError

    def _download(self, name: str, dest: Path) -> bool:
        raise NotImplementedError

    def _upload_new(self, name: str, source: Path) -> bool:
        raise NotImplementedError

    def _put_new(self, name: str, data: bytes) -> bool:
        raise NotImplementedError

    def _exists(self, name: str) -> bool:
        raise NotImplementedError

    def _keys(self, prefix: str) -> list[str]:
        raise NotImplementedError


def _safe_name(name: str) -> str:
    if not name or "/" in name or "\\" in name or name in (".", ".."):
        raise CacheError(f"refusing a cached file name {name!r}")
    return name


def _clear(folder: Path) -> None:
    for path in folder.iterdir():
        path.unlink(missing_ok=True)


class FolderRemote(Remote):
    """A remote cache in a folder every machine mounts (``file:///mnt/shared/cache``)."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.url = root.as_uri()
        if not root.is_dir():
            raise RemoteUnavailable(f"{self.url}: no such folder (is the share mounted?)")

    def _get(self, name: str) -> bytes | None:
        try:
            return (self.root / name).read_bytes()
        except FileNotFoundError:
            return None
        except OSError as exc:
            raise RemoteUnavailable(f"{self.url}: cannot read {name}: {exc.strerror}") from exc

    def _download(self, name: str, dest: Path) -> bool:
        try:
            shutil.copyfile(self.root / name, dest)
            return True
        except FileNotFoundError:
            return False
        except OSError as exc:
            raise RemoteUnavailable(f"{self.url}: cannot read {name}: {exc.strerror}") from exc

    def _upload_new(self, name: str, source: Path) -> bool:
        return self._create(name, lambda tmp: shutil.copyfile(source, tmp))

    def _put_new(self, name: str, data: bytes) -> bool:
        return self._create(name, lambda tmp: tmp.write_bytes(data))

    def _create(self, name: str, write) -> bool:
        target = self.root / name
        target.parent.mkdir(parents=True, exist_ok=True)
        tmp = temp_path(target)
        try:
            write(tmp)
            os.link(tmp, target)  # fails if the name exists: create-only, like If-None-Match
            return True
        except FileExistsError:
            return False
        except OSError as exc:
            raise RemoteUnavailable(f"{self.url}: cannot write {name}: {exc.strerror}") from exc
        finally:
            tmp.unlink(missing_ok=True)

    def _exists(self, name: str) -> bool:
        return (self.root / name).is_file()

    def _keys(self, prefix: str) -> list[str]:
        folder = self.root / prefix
        return [entry.name for entry in folder.iterdir()] if folder.is_dir() else []


class S3Remote(Remote):
    """A remote cache in an S3-compatible bucket (AWS S3, MinIO, Cloudflare R2, Backblaze B2)."""

    def __init__(self, bucket: str, prefix: str, *, endpoint: str | None = None, region: str | None = None) -> None:
        try:
            import boto3
            from botocore.config import Config
        except ImportError as exc:
            raise ConfigError("cache.remote is an s3:// URL but boto3 is not installed: pip install 'storybuild[s3]'") from exc
        self.bucket, self.prefix = bucket, prefix.strip("/")
        self.url = f"s3://{bucket}/{self.prefix}".rstrip("/")
        config = Config(connect_timeout=5, read_timeout=60, retries={"max_attempts": 3, "mode": "standard"})
        self.client = boto3.client("s3", endpoint_url=endpoint, region_name=region, config=config)

    def _name(self, name: str) -> str:
        return f"{self.prefix}/{name}" if self.prefix else name

    def _call(self, what: str, function, **kwargs):
        from botocore.exceptions import BotoCoreError, ClientError

        try:
            return function(Bucket=self.bucket, **kwargs)
        except ClientError:
            raise
        except BotoCoreError as exc:
            raise RemoteUnavailable(f"{self.url}: {what}: {exc}") from exc

    def _get(self, name: str) -> bytes | None:
        from botocore.exceptions import ClientError

        try:
            return self._call("get", self.client.get_object, Key=self._name(name))["Body"].read()
        except ClientError as exc:
            if _status(exc) == 404:
                return None
            raise RemoteUnavailable(f"{self.url}: get {name}: {exc}") from exc

    def _download(self, name: str, dest: Path) -> bool:
        from botocore.exceptions import ClientError

        try:
            body = self._call("get", self.client.get_object, Key=self._name(name))["Body"]
            with open(dest, "wb") as handle:
                for chunk in body.iter_chunks(1 << 20):
                    handle.write(chunk)
            return True
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise RemoteUnavailable(f"{self.url}: get {name}: {exc}") from exc

    def _upload_new(self, name: str, source: Path) -> bool:
        with open(source, "rb") as handle:
            return self._put_new(name, handle)

    def _put_new(self, name: str, data) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call("put", self.client.put_object, Key=self._name(name), Body=data, IfNoneMatch="*")
            return True
        except ClientError as exc:
            if _status(exc) in (409, 412):  # someone else created it first: theirs stands
                return False
            raise RemoteUnavailable(f"{self.url}: put {name}: {exc}") from exc

    def _exists(self, name: str) -> bool:
        from botocore.exceptions import ClientError

        try:
            self._call("head", self.client.head_object, Key=self._name(name))
            return True
        except ClientError as exc:
            if _status(exc) == 404:
                return False
            raise RemoteUnavailable(f"{self.url}: head {name}: {exc}") from exc

    def _keys(self, prefix: str) -> list[str]:
        from botocore.exceptions import ClientError

        names, start = [], self._name(prefix)
        try:
            pages = self.client.get_paginator("list_objects_v2").paginate(Bucket=self.bucket, Prefix=start)
            for page in pages:
                names.extend(item["Key"][len(start):] for item in page.get("Contents", []))
        except ClientError as exc:
            raise RemoteUnavailable(f"{self.url}: list: {exc}") from exc
        return names


def _status(exc: Any) -> int:
    return int(exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode", 0))


def open_remote(url: str, *, endpoint: str | None = None, region: str | None = None) -> Remote:
    """The remote cache at ``url``: ``s3://bucket/prefix`` or ``file:///path``."""
    parsed = urlparse(url)
    if parsed.scheme == "s3" and parsed.netloc:
        return S3Remote(parsed.netloc, parsed.path, endpoint=endpoint, region=region)
    if parsed.scheme == "file":
        return FolderRemote(Path(parsed.path))
    raise ConfigError(f"cache.remote: {url!r} is neither s3://bucket/prefix nor file:///path")


class SharedCache:
    """The remote beside the local cache: opened on first use, set aside for the run if it fails.

    A local miss asks the remote (``pull``); an entry the build made is offered to it (``push``,
    in read-write mode). A remote that does not answer costs one warning and the rest of the run
    goes on with the local cache alone; a remote entry whose bytes do not match their digests is a
    miss with a warning, so the artifact is made again.
    """

    def __init__(self, url: str, mode: str = "read-write", *, endpoint: str | None = None,
                 region: str | None = None) -> None:
        self.url, self.mode, self.endpoint, self.region = url, mode, endpoint, region
        self._remote: Remote | None = None
        self._off = False
        self._lock = threading.Lock()

    def _open(self, warn) -> Remote | None:
        with self._lock:
            if self._off:
                return None
            if self._remote is None:
                try:
                    self._remote = open_remote(self.url, endpoint=self.endpoint, region=self.region)
                except RemoteUnavailable as exc:
                    self._set_aside(exc, warn)
            return self._remote

    def _set_aside(self, exc: Exception, warn) -> None:
        if not self._off:
            self._off = True
            warn(f"remote cache {self.url} is not answering ({exc}); building with the local cache only")

    def pull(self, key: str, staging: Path, warn) -> bool:
        """Download ``key`` into the empty folder ``staging``; False on a miss or a bad entry."""
        remote = self._open(warn)
        if remote is None:
            return False
        try:
            return remote.fetch(key, staging)
        except RemoteUnavailable as exc:
            with self._lock:
                self._set_aside(exc, warn)
        except CacheError as exc:
            warn(f"{exc}; the artifact is made again")
        return False

    def push(self, key: str, files: dict[str, Path], about: dict[str, Any] | None, warn) -> bool:
        """Offer an entry the build made; True if it was uploaded (read-only mode never uploads)."""
        if self.mode != "read-write":
            return False
        remote = self._open(warn)
        if remote is None:
            return False
        try:
            return remote.push(key, files, about)
        except RemoteUnavailable as exc:
            with self._lock:
                self._set_aside(exc, warn)
        return False

    def has(self, key: str, warn) -> bool | None:
        """Whether the remote holds ``key``; None when it cannot be asked."""
        remote = self._open(warn)
        if remote is None:
            return None
        try:
            return remote.has(key)
        except RemoteUnavailable as exc:
            with self._lock:
                self._set_aside(exc, warn)
            return None
