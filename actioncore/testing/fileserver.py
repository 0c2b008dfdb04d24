"""A loopback HTTP server for download tests: serves a folder, honours ``Range``, injects faults.

Zoo entries may use ``http://`` on the loopback, so a test registers an entry whose ``url`` is
:meth:`FileServer.url` and exercises the real download service without the internet::

    def test_download(weights_server, tmp_path):
        (weights_server.root / "m.pth").write_bytes(data)
        weights_server.drop_after("m.pth", 1000)      # the next request breaks off after 1000 bytes
        ...  # fetch an entry with url=weights_server.url("m.pth")
        assert weights_server.ranges("m.pth") == [None, "bytes=1000-"]

The ``weights_server`` fixture (actioncore's pytest plugin) gives one serving a fresh temporary
folder for each test and stops it afterwards.
"""
from __future__ import annotations

import re
import threading
import time
from collections.abc import Iterator
from http import HTTPStatus
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

import attrs

_RANGE = re.compile(r"^bytes=(\d+)-(\d*)$")


@attrs.frozen
class Request:
    """One GET the server answered: the file's path, its ``Range`` header (None if none), the status."""

    path: str
    range: str | None
    status: int


@attrs.define
class _Fault:
    drop_after: int | None = None
    """Close the connection after this many body bytes."""
    times: int = 1
    """Requests the fault still applies to."""
    corrupt: bool = False
    """Serve the file with its bytes flipped (same length)."""


class FileServer:
    """Serves ``root``'s files on ``127.0.0.1`` from a thread (a random free port) until
    :meth:`close`; a context manager. Thread-safe counters say what clients asked for."""

    def __init__(self, root: str | Path, *, chunk: int = 16384) -> None:
        self.root = Path(root)
        self.chunk = chunk
        self.delay_s = 0.0
        """Seconds to wait after each chunk (makes a download last, for tests of concurrent clients
        and of timeouts)."""
        self.honour_ranges = True
        """False: answer ``Range`` requests with the whole file (200), as some servers do."""
        self._requests: list[Request] = []
        self._faults: dict[str, _Fault] = {}
        self._lock = threading.Lock()
        self._httpd = _QuietServer(("127.0.0.1", 0), _handler(self))
        self._httpd.daemon_threads = True
        self._thread = threading.Thread(target=self._httpd.serve_forever, kwargs={"poll_interval": 0.05},
                                        name="actioncore-fileserver", daemon=True)
        self._thread.start()

    @property
    def port(self) -> int:
        return self._httpd.server_address[1]

    def url(self, name: str) -> str:
        """``http://127.0.0.1:PORT/NAME`` for a file under ``root``."""
        return f"http://127.0.0.1:{self.port}/{name.lstrip('/')}"

    def drop_after(self, name: str, nbytes: int, *, times: int = 1) -> None:
        """Close the connection after ``nbytes`` body bytes of ``name`` (headers announce the whole
        length), for the next ``times`` requests of it."""
        with self._lock:
            self._faults[name] = _Fault(drop_after=nbytes, times=times)

    def serve_wrong_bytes(self, name: str, *, times: int = 1) -> None:
        """Serve ``name`` with every byte inverted (same length) for the next ``times`` requests."""
        with self._lock:
            self._faults[name] = _Fault(corrupt=True, times=times)

    @property
    def requests(self) -> list[Request]:
        """Every GET answered so far, in order."""
        with self._lock:
            return list(self._requests)

    def count(self, name: str) -> int:
        """GETs of ``name`` answered so far."""
        return sum(r.path == name for r in self.requests)

    def ranges(self, name: str) -> list[str | None]:
        """The ``Range`` header of each GET of ``name`` (None where there was none)."""
        return [r.range for r in self.requests if r.path == name]

    def close(self) -> None:
        self._httpd.shutdown()
        self._httpd.server_close()
        self._thread.join(timeout=5)

    def __enter__(self) -> FileServer:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    # -- used by the handler ---------------------------------------------------------------

    def _take_fault(self, name: str) -> _Fault | None:
        with self._lock:
            fault = self._faults.get(name)
            if fault is None:
                return None
            fault.times -= 1
            if fault.times <= 0:
                del self._faults[name]
            return fault

    def _log(self, request: Request) -> None:
        with self._lock:
            self._requests.append(request)


class _QuietServer(ThreadingHTTPServer):
    """No traceback on stderr when a client hangs up mid-answer (what timeout tests make it do)."""

    def handle_error(self, request: Any, client_address: Any) -> None:
        import sys

        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _handler(server: FileServer) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"

        def do_GET(self) -> None:  # noqa: N802 (http.server's name)
            name = self.path.split("?", 1)[0].lstrip("/")
            path = (server.root / name).resolve()
            header = self.headers.get("Range")
            if server.root.resolve() not in path.parents or not path.is_file():
                return self._answer(name, header, HTTPStatus.NOT_FOUND)
            data = path.read_bytes()
            start, end = 0, len(data)
            status = HTTPStatus.OK
            if header is not None and server.honour_ranges:
                match = _RANGE.match(header.strip())
                if match is None or int(match[1]) >= len(data):
                    return self._answer(name, header, HTTPStatus.REQUESTED_RANGE_NOT_SATISFIABLE,
                                        {"Content-Range": f"bytes */{len(data)}"})
                start = int(match[1])
                end = min(int(match[2]) + 1, len(data)) if match[2] else len(data)
                status = HTTPStatus.PARTIAL_CONTENT
            fault = server._take_fault(name)
            body = data[start:end]
            if fault is not None and fault.corrupt:
                body = bytes(255 - b for b in body)
            headers = {"Content-Length": str(len(body)), "Content-Type": "application/octet-stream",
                       "Accept-Ranges": "bytes"}
            if status == HTTPStatus.PARTIAL_CONTENT:
                headers["Content-Range"] = f"bytes {start}-{end - 1}/{len(data)}"
            server._log(Request(name, header, int(status)))
            self.send_response(status)
            for key, value in headers.items():
                self.send_header(key, value)
            self.end_headers()
            limit = len(body) if fault is None or fault.drop_after is None else min(fault.drop_after, len(body))
            for chunk in _chunks(body[:limit], server.chunk):
                self.wfile.write(chunk)
                if server.delay_s:
                    time.sleep(server.delay_s)
            if limit < len(body):
                self.wfile.flush()
                self.close_connection = True

        def _answer(self, name: str, header: str | None, status: HTTPStatus, headers: dict[str, str] | None = None):
            server._log(Request(name, header, int(status)))
            self.send_response(status)
            for key, value in {"Content-Length": "0", **(headers or {})}.items():
                self.send_header(key, value)
            self.end_headers()

        def log_message(self, format: str, *args: Any) -> None:  # quiet: tests read .requests
            pass

    return Handler


def _chunks(data: bytes, size: int) -> Iterator[bytes]:
    for i in range(0, len(data), size):
        yield data[i:i + size]


__all__ = ["FileServer", "Request"]
