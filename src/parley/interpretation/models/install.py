"""Installing a model into the models folder: whole or not at all, checked, with provenance.

Files are fetched (or copied from an import) into ``<models>/.staging/<name>/``, on the same
filesystem as the target, so a half-done install never shows as a model; a download that
stops leaves its ``.part`` file there and the next run continues it with HTTP Range. Before
fetching, the free space must cover what is left plus 5 %. Every file is checked against the
hub's sha256 (LFS) or git blob id; then the folder gets what the engines need (Whisper's
``vocabulary.json``, ``parley-mt.json``, Bergamot's ``tokenizer.json``) and a
``parley-provenance.json`` (where it came from, which commit, each file's sha256, licence),
and is renamed into place in one step (an older copy is moved aside first, then removed).
"""

from __future__ import annotations

import gzip
import json
import logging
import os
import shutil
import tarfile
import time
import zipfile
from dataclasses import dataclass
from fnmatch import fnmatch
from pathlib import Path
from typing import Any

from parley.interpretation.models.catalogue import Entry, find
from parley.interpretation.models.errors import ModelInstallError
from parley.interpretation.models.hub import HubClient, HubFile, Progress, sha256_of, verify

log = logging.getLogger(__name__)

PROVENANCE = "parley-provenance.json"
STAGING = ".staging"
SKIPPED = ("README.md", ".gitattributes")
ARCHIVES = (".tar", ".tar.gz", ".tgz", ".tar.xz", ".zip")


@dataclass(frozen=True)
class Installed:
    entry_name: str
    path: Path
    provenance: dict[str, Any]


def wanted(entry: Entry, files: tuple[HubFile, ...]) -> list[HubFile]:
    chosen = [f for f in files if (any(fnmatch(f.path, p) for p in entry.files) if entry.files
                                   else f.path.rsplit("/", 1)[-1] not in SKIPPED)]
    if not chosen:
        raise ModelInstallError(f"{entry.name}: none of {', '.join(entry.files) or 'its files'} is in {entry.repo}")
    return chosen


def check_free_space(folder: Path, needed: int) -> None:
    folder.mkdir(parents=True, exist_ok=True)
    free = shutil.disk_usage(folder).free
    if needed * 1.05 > free:
        raise ModelInstallError(f"not enough disk space in {folder}: {needed / 1e6:.0f} MB needed, "
                                f"{free / 1e6:.0f} MB free")


def install(entry_name: str, models_dir: Path, hub: HubClient, *, progress: Progress | None = None) -> Installed:
    """Download a catalogue entry from the hub into the models folder."""
    entry = find(entry_name)
    if entry.repo is None:
        raise ModelInstallError(f"{entry.name} is not on the hub: fetch its files elsewhere and run "
                                f"'parley models import PATH --as {entry.name}'")
    revision = hub.revision(entry.repo, entry.revision)
    files = wanted(entry, revision.files)
    staging = models_dir / STAGING / entry.name
    commit_file = staging / ".commit"
    if staging.is_dir() and (not commit_file.is_file() or commit_file.read_text() != revision.commit):
        shutil.rmtree(staging)  # left by a try at another commit: its parts belong to other files
    staging.mkdir(parents=True, exist_ok=True)
    commit_file.write_text(revision.commit)
    left = 0
    for f in files:
        part = staging / (_local_name(f.path) + ".part")
        if not (staging / _local_name(f.path)).is_file():
            left += f.size - (part.stat().st_size if part.exists() else 0)
    check_free_space(staging, left)
    for f in files:
        final = staging / _local_name(f.path)
        if final.is_file():
            continue  # fetched and checked by an earlier run
        part = final.with_name(final.name + ".part")
        hub.download(entry.repo, revision.commit, f, part, progress)
        try:
            verify(part, f)
        except ModelInstallError:
            part.unlink()  # start that file over next time
            raise
        part.replace(final)
    commit_file.unlink()
    source = {"type": "hub", "endpoint": hub.endpoint, "repo": entry.repo, "revision": entry.revision,
              "commit": revision.commit}
    return _finish(entry, staging, models_dir, source, {_local_name(f.path): f for f in files})


def import_path(path: Path, models_dir: Path, *, as_name: str | None = None) -> list[Installed]:
    """Install from a folder or archive carried in: model folders that carry a provenance file
    (as `install` wrote them), or one raw model folder named with ``as_name``."""
    if not path.exists():
        raise ModelInstallError(f"{path} does not exist")
    unpacked: Path | None = None
    if path.is_file():
        if not path.name.endswith(ARCHIVES):
            raise ModelInstallError(f"{path}: not a folder nor a {'/'.join(ARCHIVES)} archive")
        unpacked = models_dir / STAGING / f"import-{os.getpid()}-{time.time_ns()}"
        check_free_space(models_dir, path.stat().st_size * 3)
        _unpack(path, unpacked)
        path = unpacked
    try:
        if as_name is not None:
            entry = find(as_name)
            folder = _single_folder(path)
            return [_import_folder(entry, folder, models_dir, {"type": "import", "from": str(path)})]
        found = sorted(p.parent for p in path.rglob(PROVENANCE) if STAGING not in p.parts[len(path.parts):])
        if not found:
            raise ModelInstallError(f"no {PROVENANCE} under {path}: name what it holds with --as NAME")
        out = []
        for folder in found:
            earlier = json.loads((folder / PROVENANCE).read_text(encoding="utf-8"))
            entry = find(str(earlier.get("name")))
            out.append(_import_folder(entry, folder, models_dir,
                                      {"type": "import", "from": str(folder), "earlier": earlier.get("source")},
                                      expected=earlier.get("files", {})))
        return out
    finally:
        if unpacked is not None:
            shutil.rmtree(unpacked, ignore_errors=True)


def installed(models_dir: Path) -> list[Installed]:
    """Every model folder with a provenance file, for ``parley models list``."""
    if not models_dir.is_dir():
        return []
    out = []
    for p in sorted(models_dir.glob(f"*/*/{PROVENANCE}")):
        if STAGING in p.parts:
            continue
        prov = json.loads(p.read_text(encoding="utf-8"))
        out.append(Installed(str(prov.get("name")), p.parent, prov))
    return out


def _import_folder(entry: Entry, folder: Path, models_dir: Path, source: dict[str, Any],
                   expected: dict[str, Any] | None = None) -> Installed:
    files = [p for p in folder.iterdir() if p.is_file() and p.name != PROVENANCE]
    for name, meta in (expected or {}).items():  # a bundle made by `install`: check what was carried
        p = folder / name
        if not p.is_file() or sha256_of(p) != meta.get("sha256"):
            raise ModelInstallError(f"{entry.name}: {name} is missing or differs from its recorded sha256")
    check_free_space(models_dir, sum(p.stat().st_size for p in files))
    staging = models_dir / STAGING / entry.name
    shutil.rmtree(staging, ignore_errors=True)
    staging.mkdir(parents=True)
    for p in files:
        shutil.copy2(p, staging / p.name)
    return _finish(entry, staging, models_dir, source, {})


def _finish(entry: Entry, staging: Path, models_dir: Path, source: dict[str, Any],
            listed: dict[str, HubFile]) -> Installed:
    _fix_up(entry, staging)
    provenance = {
        "name": entry.name, "kind": entry.kind, "licence": entry.licence, "languages": list(entry.languages),
        "installed_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()), "source": source,
        "files": {p.name: {"size": p.stat().st_size,
                           "sha256": listed[p.name].sha256 if p.name in listed and listed[p.name].sha256
                           else sha256_of(p)}
                  for p in sorted(staging.iterdir()) if p.is_file() and p.name != PROVENANCE},
    }
    (staging / PROVENANCE).write_text(json.dumps(provenance, indent=1), encoding="utf-8")
    target = models_dir / entry.dest
    target.parent.mkdir(parents=True, exist_ok=True)
    old = None
    if target.exists():
        old = models_dir / STAGING / f"{entry.name}.old-{time.time_ns()}"
        target.replace(old)
    staging.replace(target)
    if old is not None:
        shutil.rmtree(old, ignore_errors=True)
    log.info("installed %s into %s", entry.name, target)
    return Installed(entry.name, target, provenance)


def _fix_up(entry: Entry, folder: Path) -> None:
    """What Parley's engines need beside the published files."""
    if entry.kind == "whisper" and not (folder / "vocabulary.json").is_file() and (folder / "vocabulary.txt").is_file():
        tokens = (folder / "vocabulary.txt").read_text(encoding="utf-8").splitlines()
        (folder / "vocabulary.json").write_text(json.dumps(tokens, ensure_ascii=False), encoding="utf-8")
    elif entry.kind == "ct2-mt" and entry.mt:
        (folder / "parley-mt.json").write_text(json.dumps(entry.mt), encoding="utf-8")
    elif entry.kind == "bergamot":
        for gz in folder.glob("*.gz"):  # Mozilla publishes the files gzipped
            with gzip.open(gz, "rb") as src, (folder / gz.name[:-3]).open("wb") as dst:
                shutil.copyfileobj(src, dst)
            gz.unlink()
        from parley.interpretation.mt.bergamot import read_model_folder, write_tokenizer_json

        if read_model_folder(folder) is None:
            raise ModelInstallError(f"{entry.name}: no model.<pair>.intgemm*.bin with its vocab.<pair>.spm")
        write_tokenizer_json(folder)


def _local_name(hub_path: str) -> str:
    return hub_path.rsplit("/", 1)[-1]


def _single_folder(path: Path) -> Path:
    """The folder holding the model files: ``path`` itself, or its only subfolder."""
    if any(p.is_file() for p in path.iterdir()):
        return path
    subfolders = [p for p in path.iterdir() if p.is_dir()]
    if len(subfolders) == 1:
        return _single_folder(subfolders[0])
    raise ModelInstallError(f"{path}: expected the model's files, or one folder holding them")


def _unpack(archive: Path, into: Path) -> None:
    into.mkdir(parents=True)
    if archive.name.endswith(".zip"):
        with zipfile.ZipFile(archive) as zf:
            for name in zf.namelist():
                if not _inside(into, into / name):
                    raise ModelInstallError(f"{archive}: {name} would land outside the folder")
            zf.extractall(into)
        return
    try:
        with tarfile.open(archive) as tf:
            tf.extractall(into, filter="data")  # no links out, no absolute paths, no devices
    except (tarfile.TarError, OSError) as exc:
        raise ModelInstallError(f"{archive}: cannot unpack ({exc})") from exc


def _inside(root: Path, p: Path) -> bool:
    return p.resolve().is_relative_to(root.resolve())
