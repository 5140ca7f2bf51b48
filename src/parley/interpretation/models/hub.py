"""A client for the two parts of the Hugging Face hub's HTTP API that installing needs.

``GET {endpoint}/api/models/{repo}/revision/{rev}?blobs=true`` lists a revision's files with
their size, their git blob id and, for files in Git LFS, their sha256; ``GET
{endpoint}/{repo}/resolve/{rev}/{path}`` serves a file (after redirects) and honours ``Range``.
Any mirror that speaks these two (``interpretation.hub_url``, like ``HF_ENDPOINT``) works; a
token goes out as ``Authorization: Bearer``. Written on httpx rather than `huggingface_hub` so
that a download resumes into a file Parley owns, is checked against the listed checksum and
lands in a staging folder that is renamed into place whole (`install`).
"""

from __future__ import annotations

import hashlib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import quote

import httpx

from parley.interpretation.models.errors import ModelInstallError

Progress = Callable[[str, int, int], None]  # (file, bytes done, bytes in all)
CHUNK = 1 << 20


@dataclass(frozen=True)
class HubFile:
    path: str
    size: int
    sha256: str | None  # LFS files: the oid the hub lists
    blob_id: str | None  # every file: git's blob sha1


@dataclass(frozen=True)
class Revision:
    repo: str
    revision: str
    commit: str  # the commit the revision named when listed: downloads use it, provenance records it
    files: tuple[HubFile, ...]


def git_blob_sha1(path: Path) -> str:
    """Git's id of a file's content (``sha1("blob <size>\\0" + content)``)."""
    h = hashlib.sha1(f"blob {path.stat().st_size}\0".encode())
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def sha256_of(path: Path) -> str:
    h = hashlib.sha256()
    with path.open("rb") as fh:
        while chunk := fh.read(CHUNK):
            h.update(chunk)
    return h.hexdigest()


def verify(path: Path, expected: HubFile) -> None:
    """Raise unless ``path`` has the listed size and checksum (sha256 for LFS, else the git blob id)."""
    size = path.stat().st_size
    if size != expected.size:
        raise ModelInstallError(f"{expected.path}: {size} bytes, the hub lists {expected.size}")
    if expected.sha256:
        if sha256_of(path) != expected.sha256:
            raise ModelInstallError(f"{expected.path}: sha256 differs from the hub's")
    elif expected.blob_id and git_blob_sha1(path) != expected.blob_id:
        raise ModelInstallError(f"{expected.path}: content differs from the hub's (git blob id)")


class HubClient:
    def __init__(self, endpoint: str, *, token: str = "", timeout_s: float = 30.0,
                 transport: httpx.BaseTransport | None = None) -> None:
        self.endpoint = endpoint.rstrip("/")
        headers = {"User-Agent": "parley-models"}
        if token:
            headers["Authorization"] = f"Bearer {token}"
        self._http = httpx.Client(headers=headers, timeout=timeout_s, follow_redirects=True, transport=transport)

    def close(self) -> None:
        self._http.close()

    def revision(self, repo: str, revision: str = "main") -> Revision:
        url = f"{self.endpoint}/api/models/{repo}/revision/{quote(revision, safe='')}"
        try:
            response = self._http.get(url, params={"blobs": "true"})
        except httpx.HTTPError as exc:
            raise ModelInstallError(f"cannot reach {self.endpoint} ({exc.__class__.__name__})") from exc
        if response.status_code in (401, 403):
            raise ModelInstallError(f"{repo}: the hub refused access ({response.status_code}); set "
                                    "interpretation.hub_token for gated or private models")
        if response.status_code == 404:
            raise ModelInstallError(f"{repo}@{revision}: not on {self.endpoint}")
        if response.status_code != 200:
            raise ModelInstallError(f"{repo}: the hub answered {response.status_code}")
        data = response.json()
        files = []
        for sibling in data.get("siblings", []):
            lfs = sibling.get("lfs") or {}
            size = sibling.get("size", lfs.get("size"))
            if size is None:
                raise ModelInstallError(f"{repo}: the hub lists no size for {sibling.get('rfilename')}")
            files.append(HubFile(path=str(sibling["rfilename"]), size=int(size), sha256=lfs.get("sha256"),
                                 blob_id=sibling.get("blobId")))
        return Revision(repo=repo, revision=revision, commit=str(data.get("sha") or revision), files=tuple(files))

    def download(self, repo: str, commit: str, file: HubFile, part: Path, progress: Progress | None = None) -> None:
        """Fetch ``file`` into ``part``, continuing what an earlier try left there (HTTP Range)."""
        url = f"{self.endpoint}/{repo}/resolve/{commit}/{quote(file.path)}"
        have = part.stat().st_size if part.exists() else 0
        if have > file.size:
            part.unlink()
            have = 0
        headers = {"Range": f"bytes={have}-"} if have else {}
        try:
            with self._http.stream("GET", url, headers=headers) as response:
                if response.status_code == 416 and have == file.size:
                    return
                if response.status_code not in (200, 206):
                    raise ModelInstallError(f"{file.path}: the hub answered {response.status_code}")
                mode = "ab" if response.status_code == 206 else "wb"  # 200: the server started over
                done = have if mode == "ab" else 0
                with part.open(mode) as fh:
                    for chunk in response.iter_bytes():  # as it arrives: an interruption keeps all of it
                        fh.write(chunk)
                        done += len(chunk)
                        if progress is not None:
                            progress(file.path, done, file.size)
        except httpx.HTTPError as exc:
            raise ModelInstallError(f"{file.path}: download interrupted ({exc.__class__.__name__}); "
                                    "run the same command again to resume") from exc
