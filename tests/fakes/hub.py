"""A Hugging Face hub on 127.0.0.1 that speaks what `parley models install` uses.

``GET /api/models/<owner>/<name>/revision/<rev>?blobs=true`` lists files (size, git blob id,
LFS sha256 for ``lfs`` files); ``GET /<owner>/<name>/resolve/<rev>/<path>`` serves them with
``Range``. Tests put files in `repos`, can require a token, cut a file short once (to test
resume) or serve other bytes than listed (to test checksums); every request is recorded.
"""

from __future__ import annotations

import hashlib
import json
import re
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from urllib.parse import unquote, urlsplit


@dataclass
class FakeRepo:
    files: dict[str, bytes]
    lfs: set[str] = field(default_factory=set)
    commit: str = "0123456789abcdef0123456789abcdef01234567"


@dataclass
class FakeHub:
    repos: dict[str, FakeRepo] = field(default_factory=dict)
    token: str = ""
    cut_once: dict[str, int] = field(default_factory=dict)  # path -> bytes sent before the connection drops
    corrupt: set[str] = field(default_factory=set)  # paths served with other bytes than listed
    requests: list[tuple[str, str | None]] = field(default_factory=list)  # (path, Range header)
    url: str = ""

    def listing(self, repo: FakeRepo) -> dict[str, object]:
        siblings = []
        for path, data in sorted(repo.files.items()):
            entry: dict[str, object] = {
                "rfilename": path, "size": len(data),
                "blobId": hashlib.sha1(f"blob {len(data)}\0".encode() + data).hexdigest()}
            if path in repo.lfs:
                entry["lfs"] = {"sha256": hashlib.sha256(data).hexdigest(), "size": len(data), "pointerSize": 134}
            siblings.append(entry)
        return {"id": "", "sha": repo.commit, "siblings": siblings}


def _handler(hub: FakeHub) -> type[BaseHTTPRequestHandler]:
    class Handler(BaseHTTPRequestHandler):
        def log_message(self, format: str, *args: object) -> None:  # quiet
            pass

        def do_GET(self) -> None:
            path = unquote(urlsplit(self.path).path)
            hub.requests.append((path, self.headers.get("Range")))
            if hub.token and self.headers.get("Authorization") != f"Bearer {hub.token}":
                self._send(401, b"unauthorized")
                return
            if m := re.fullmatch(r"/api/models/([^/]+/[^/]+)/revision/([^/]+)", path):
                repo = hub.repos.get(m.group(1))
                if repo is None:
                    self._send(404, b"{}")
                    return
                self._send(200, json.dumps(hub.listing(repo)).encode(), "application/json")
            elif m := re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path):
                repo = hub.repos.get(m.group(1))
                if repo is None or m.group(3) not in repo.files:
                    self._send(404, b"not found")
                    return
                self._file(m.group(3), repo.files[m.group(3)])
            else:
                self._send(404, b"not found")

        def _file(self, name: str, data: bytes) -> None:
            if name in hub.corrupt:
                data = bytes(b ^ 0xFF for b in data)
            start = 0
            if (r := self.headers.get("Range")) and (m := re.fullmatch(r"bytes=(\d+)-", r)):
                start = int(m.group(1))
                if start >= len(data):
                    self._send(416, b"")
                    return
                self.send_response(206)
                self.send_header("Content-Range", f"bytes {start}-{len(data) - 1}/{len(data)}")
            else:
                self.send_response(200)
            body = data[start:]
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Accept-Ranges", "bytes")
            self.end_headers()
            cut = hub.cut_once.pop(name, None)
            if cut is not None:
                self.wfile.write(body[:cut])
                self.wfile.flush()
                self.close_connection = True
                return
            self.wfile.write(body)

        def _send(self, status: int, body: bytes, content_type: str = "text/plain") -> None:
            self.send_response(status)
            self.send_header("Content-Type", content_type)
            self.send_header("Content-Length", str(len(body)))
            self.end_headers()
            self.wfile.write(body)

    return Handler


@contextmanager
def serve(hub: FakeHub) -> Iterator[FakeHub]:
    server = ThreadingHTTPServer(("127.0.0.1", 0), _handler(hub))
    thread = threading.Thread(target=server.serve_forever, name="fake-hub", daemon=True)
    thread.start()
    hub.url = f"http://127.0.0.1:{server.server_address[1]}"
    try:
        yield hub
    finally:
        server.shutdown()
        server.server_close()
        thread.join(10)
