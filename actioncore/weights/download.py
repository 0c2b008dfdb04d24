"""Getting a zoo entry's source file into the cache: streamed, resumable, verified, atomic.

The file is written to ``<file>.part`` beside its cache path while it arrives (under
:func:`~actioncore.weights.cache.file_lock`, so two processes never download it twice: the
second waits and then finds it). A ``.part`` left by a dropped connection is continued with an
HTTP ``Range`` request. Only a file whose sha256 (or the hash prefix its name carries) and size
match the entry is renamed into place (``os.replace``, atomic); a mismatch deletes it.

Verification is recorded in ``<file>.sha256.json`` (the file's sha256, size and mtime), so a
cached file is hashed once, not on every use; a file dropped into the cache by hand (what the
offline error tells a user to do), or replaced later, has no matching record and is hashed on its
next use.
"""
from __future__ import annotations

import hashlib
import json
import logging
import os
import sys
import urllib.error
import urllib.request
from http.client import HTTPException
from pathlib import Path
from typing import Any, BinaryIO

from ..errors import CheckpointError
from .cache import OFFLINE_VARIABLE, cached_file, file_lock, offline
from .zoo import WeightsEntry

CHUNK = 1 << 16
TIMEOUT_S = 30.0
"""Seconds a connection may stay silent before the download counts as dropped."""
RESUMES = 2
"""Dropped connections continued automatically (each with a warning line) before giving up."""
RECORD_SUFFIX = ".sha256.json"

log = logging.getLogger("actioncore.weights")


class _Dropped(Exception):
    """The connection ended before the whole file arrived; ``.part`` holds what did."""


def fetch(entry: WeightsEntry, *, progress: bool = True) -> Path:
    """The verified local source file of ``entry``, downloaded into the cache when missing.

    :param progress: show a progress bar (bytes) on stderr while downloading.
    :raises CheckpointError: offline with no cached file (naming the URL and where to put it), a
        download that fails, or a file whose hash differs from the entry's (both hashes named).
    """
    path = cached_file(entry)
    if _recorded(entry, path):
        return path
    local = entry.url.startswith("file://")
    if offline() and not local and not path.is_file():
        raise CheckpointError(f"weights '{entry.name}' are not in the cache and {OFFLINE_VARIABLE} is set: "
                              f"download {entry.url} and put it at {path}")
    with file_lock(path):
        if _recorded(entry, path):  # another process finished it while this one waited
            return path
        if path.is_file():  # put there by hand, or its record lost: hash it once
            digest = file_sha256(path)
            _check(entry, path, digest, path.stat().st_size, source=str(path))
        else:
            digest = _download(entry, path, progress=progress)
        _record(path, digest)
    return path


def _download(entry: WeightsEntry, path: Path, *, progress: bool) -> str:
    """Download ``entry.url`` to ``path`` (verified, atomically); its sha256."""
    part = path.with_name(path.name + ".part")
    for attempt in range(RESUMES + 1):
        try:
            digest = _transfer(entry, part, progress=progress)
            break
        except _Dropped as exc:
            received = part.stat().st_size if part.exists() else 0
            if attempt == RESUMES:
                raise CheckpointError(
                    f"weights '{entry.name}': the download of {entry.url} broke off ({exc}) after {received:,} "
                    f"bytes, {RESUMES} resumes included; they are kept in {part}: run again to resume") from None
            log.warning("weights '%s': the download of %s broke off (%s) after %s bytes; resuming (%d of %d)",
                        entry.name, entry.url, exc, f"{received:,}", attempt + 1, RESUMES)
    _check(entry, part, digest, part.stat().st_size, source=entry.url)
    os.replace(part, path)
    return digest


def _transfer(entry: WeightsEntry, part: Path, *, progress: bool) -> str:
    """One request: continue ``part`` from where it stops (``Range``) or start it over; the sha256
    of the whole part once the server has sent all it announced."""
    offset = part.stat().st_size if part.exists() and not entry.url.startswith("file://") else 0
    if offset and entry.file_size is not None and offset >= entry.file_size:
        offset = 0  # nothing left to ask for: a part this long is wrong, fetch it afresh
    request = urllib.request.Request(entry.url, headers={"Range": f"bytes={offset}-"} if offset else {})
    try:
        response = urllib.request.urlopen(request, timeout=TIMEOUT_S)
    except urllib.error.HTTPError as exc:
        if exc.code == 416 and offset:  # the server has no bytes past our part: start over
            part.unlink()
            return _transfer(entry, part, progress=progress)
        raise CheckpointError(f"weights '{entry.name}': {entry.url} answered HTTP {exc.code} {exc.reason}") from None
    except (urllib.error.URLError, OSError, HTTPException) as exc:
        reason = getattr(exc, "reason", exc)
        if isinstance(reason, TimeoutError):
            raise _Dropped(f"no answer in {TIMEOUT_S:g} s") from None
        raise CheckpointError(f"weights '{entry.name}': cannot download {entry.url}: {reason}") from None
    with response:
        if offset and getattr(response, "status", None) == 206 and _range_start(response) == offset:
            mode, digest = "ab", file_hasher(part)
        else:  # a plain 200 (the server ignored the range): the whole file follows
            mode, digest, offset = "wb", hashlib.sha256(), 0
        length = response.headers.get("Content-Length")
        expected = offset + int(length) if length and length.isdigit() else entry.file_size
        with open(part, mode) as out, _bar(progress, entry, total=expected, initial=offset) as bar:
            received = _stream(response, out, digest, bar)
    if expected is not None and offset + received < expected:
        raise _Dropped(f"{offset + received:,} of {expected:,} bytes")
    return digest.hexdigest()


def _stream(response: Any, out: BinaryIO, digest: Any, bar: Any) -> int:
    """Copy the body into ``out`` (flushed as it goes, so a kill keeps what arrived); bytes copied."""
    received = 0
    try:
        while chunk := response.read1(CHUNK):  # what has arrived (read() would wait for a whole CHUNK)
            out.write(chunk)
            digest.update(chunk)
            bar.update(len(chunk))
            received += len(chunk)
    except (OSError, HTTPException) as exc:  # reset, timeout, IncompleteRead
        out.flush()
        raise _Dropped(f"{type(exc).__name__}: {exc}") from None
    return received


def _range_start(response: Any) -> int | None:
    """Where the bytes of a 206 answer start (``Content-Range: bytes N-M/T``)."""
    value = response.headers.get("Content-Range", "")
    try:
        return int(value.split()[1].split("-")[0])
    except (IndexError, ValueError):
        return None


def _bar(progress: bool, entry: WeightsEntry, *, total: int | None, initial: int) -> Any:
    from tqdm import tqdm

    return tqdm(total=total, initial=initial, unit="B", unit_scale=True, unit_divisor=1024, file=sys.stderr,
                desc=entry.name, disable=not progress, leave=True, dynamic_ncols=True)


def _check(entry: WeightsEntry, path: Path, digest: str, size: int, *, source: str) -> None:
    """Delete ``path`` and raise when its hash or size is not the entry's."""
    expected_hash = entry.sha256 or entry.hash_prefix
    problem = None
    if not digest.startswith(expected_hash):
        what = "sha256" if entry.sha256 else "sha256 starting with"
        problem = f"has sha256 {digest}, expected {what} {expected_hash}"
    elif entry.file_size is not None and size != entry.file_size:
        problem = f"has {size:,} bytes, expected {entry.file_size:,}"
    if problem:
        path.unlink(missing_ok=True)
        raise CheckpointError(f"weights '{entry.name}': the file from {source} {problem}; deleted it "
                              f"(run again to download it afresh, or check the entry's url and hash)")


def file_hasher(path: Path) -> Any:
    """A ``hashlib.sha256`` object fed with the file's bytes (continued as a download appends)."""
    digest = hashlib.sha256()
    with open(path, "rb") as f:
        while chunk := f.read(1 << 20):
            digest.update(chunk)
    return digest


def file_sha256(path: Path) -> str:
    """The file's sha256 in hex."""
    return file_hasher(path).hexdigest()


def _record_path(path: Path) -> Path:
    return path.with_name(path.name + RECORD_SUFFIX)


def _record(path: Path, digest: str) -> None:
    """Write the verification record atomically (a reader sees none or the whole)."""
    stat = path.stat()
    record = _record_path(path)
    tmp = record.with_name(f".{record.name}.{os.getpid()}.tmp")
    tmp.write_text(json.dumps({"sha256": digest, "size": stat.st_size, "mtime_ns": stat.st_mtime_ns}))
    os.replace(tmp, record)


def _recorded(entry: WeightsEntry, path: Path) -> bool:
    """Whether ``path`` was verified for ``entry`` and has not changed since (no hashing)."""
    try:
        record = json.loads(_record_path(path).read_text())
        stat = path.stat()
    except (OSError, ValueError):
        return False
    return (isinstance(record, dict) and str(record.get("sha256", "")).startswith(entry.sha256 or entry.hash_prefix)
            and record.get("size") == stat.st_size == (entry.file_size or stat.st_size)
            and record.get("mtime_ns") == stat.st_mtime_ns)


__all__ = ["RESUMES", "TIMEOUT_S", "fetch", "file_hasher", "file_sha256"]
