"""What a survey asks: questions, options and their translations, as one immutable version.

A `Definition` is stored as JSON on each survey version. Question and option *keys* never
change meaning: results are counted by key, so answers given to version 1 and version 5 add
up, and a key's label is taken from the newest version that still has it.

The `Codebook` gives each choice question a storage slot (a 64-bit column on the response
row) and each option a bit in it. It only ever grows, so a stored answer can always be read
back, whatever was edited since.
"""

from __future__ import annotations

import hashlib
import random
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Literal

from parley.errors import InvalidInput
from parley.reference import AGE_GROUPS, EDUCATION

Kind = Literal["single", "multi", "scale", "text"]
KINDS: tuple[Kind, ...] = ("single", "multi", "scale", "text")
CHOICE_KINDS = frozenset({"single", "multi", "scale"})

GENDERS = ("female", "male", "other")
DEMOGRAPHICS: dict[str, tuple[str, ...]] = {"age_group": AGE_GROUPS, "gender": GENDERS, "education": EDUCATION}

OTHER = "other"
KEY_RE = re.compile(r"^[a-z][a-z0-9_]{0,39}$")
LANG_RE = re.compile(r"^[a-z]{2,3}(-[A-Za-z0-9]{2,8})?$")
RTL_LANGS = frozenset({"ar", "he", "fa", "ur", "ps", "sd", "ug", "yi", "dv"})

MAX_SLOTS = 8  # choice questions a survey can ever have (columns c1..c8)
MAX_BITS = 63  # options a choice question can ever have (bits 0..62 of a signed BIGINT)
MAX_TEXT = 10_000


def direction(lang: str) -> str:
    return "rtl" if lang.split("-")[0] in RTL_LANGS else "ltr"


@dataclass(frozen=True)
class Option:
    key: str
    text: Mapping[str, str]


@dataclass(frozen=True)
class Question:
    key: str
    kind: Kind
    text: Mapping[str, str]
    help: Mapping[str, str] = field(default_factory=dict)
    options: tuple[Option, ...] = ()
    required: bool = False
    max_choices: int = 1
    randomise: bool = False
    allow_other: bool = False
    max_length: int = 2000

    @property
    def is_choice(self) -> bool:
        return self.kind in CHOICE_KINDS

    def option(self, key: str) -> Option | None:
        return next((o for o in self.options if o.key == key), None)

    @property
    def option_keys(self) -> tuple[str, ...]:
        return tuple(o.key for o in self.options)


@dataclass(frozen=True)
class Definition:
    languages: tuple[str, ...]
    default_language: str
    title: Mapping[str, str]
    intro: Mapping[str, str]
    questions: tuple[Question, ...]
    labels: Mapping[str, Mapping[str, str]]

    def question(self, key: str) -> Question | None:
        return next((q for q in self.questions if q.key == key), None)

    @property
    def choice_questions(self) -> tuple[Question, ...]:
        return tuple(q for q in self.questions if q.is_choice)

    def pick(self, texts: Mapping[str, str], lang: str) -> str:
        """Text in ``lang``, else the survey's default language, else any."""
        return texts.get(lang) or texts.get(self.default_language) or next(iter(texts.values()), "")

    def label(self, key: str, lang: str) -> str:
        texts = self.labels.get(key)
        return self.pick(texts, lang) if texts else key

    def language(self, wanted: str | None) -> str:
        if wanted:
            base = wanted.split("-")[0].lower()
            if wanted in self.languages:
                return wanted
            if base in self.languages:
                return base
        return self.default_language

    def missing_translations(self) -> list[str]:
        """Every text without a translation in one of the survey's languages (for editors)."""
        missing: list[str] = []

        def check(where: str, texts: Mapping[str, str]) -> None:
            missing.extend(f"{where} [{lang}]" for lang in self.languages if not texts.get(lang, "").strip())

        check("title", self.title)
        for q in self.questions:
            check(q.key, q.text)
            for o in q.options:
                check(f"{q.key}.{o.key}", o.text)
        return missing

    def to_json(self) -> dict[str, Any]:
        questions: list[dict[str, Any]] = []
        for q in self.questions:
            item: dict[str, Any] = {
                "key": q.key,
                "kind": q.kind,
                "required": q.required,
                "text": dict(q.text),
                "options": [{"key": o.key, "text": dict(o.text)} for o in q.options],
            }
            if q.help:
                item["help"] = dict(q.help)
            if q.kind == "multi":
                item["max_choices"] = q.max_choices
            if q.is_choice:
                item["randomise"] = q.randomise
                item["allow_other"] = q.allow_other
            if q.kind == "text":
                item["max_length"] = q.max_length
            questions.append(item)
        return {
            "languages": list(self.languages),
            "default_language": self.default_language,
            "title": dict(self.title),
            "intro": dict(self.intro),
            "questions": questions,
            "labels": {k: dict(v) for k, v in self.labels.items()},
        }


# --- parsing and validation --------------------------------------------------------------


class _Errors:
    def __init__(self) -> None:
        self.fields: dict[str, str] = {}

    def add(self, path: str, problem: str) -> None:
        self.fields.setdefault(path, problem)


def _texts(value: Any, path: str, errors: _Errors, languages: Sequence[str], *, required: str | None) -> dict[str, str]:
    if value is None:
        value = {}
    if not isinstance(value, dict):
        errors.add(path, "must map language codes to text")
        return {}
    out: dict[str, str] = {}
    for lang, text in value.items():
        if not isinstance(lang, str) or lang not in languages:
            errors.add(f"{path}.{lang}", "language is not one of the survey's languages")
            continue
        if not isinstance(text, str):
            errors.add(f"{path}.{lang}", "must be text")
            continue
        clean = " ".join(text.split()) if "\n" not in text else text.strip()
        if len(clean) > MAX_TEXT:
            errors.add(f"{path}.{lang}", "too long")
        elif clean:
            out[lang] = clean
    if required and not out.get(required):
        errors.add(f"{path}.{required}", "required")
    return out


def parse_definition(data: Any) -> Definition:
    """Validate a definition from JSON; `InvalidInput` names every bad field by its path."""
    errors = _Errors()
    if not isinstance(data, dict):
        raise InvalidInput("The survey definition must be a JSON object.", fields={"definition": "not an object"})
    raw_langs = data.get("languages")
    languages: list[str] = []
    if not isinstance(raw_langs, list) or not raw_langs:
        errors.add("languages", "list at least one language")
    else:
        for i, lang in enumerate(raw_langs):
            if not isinstance(lang, str) or not LANG_RE.match(lang):
                errors.add(f"languages.{i}", "not a language code")
            elif lang not in languages:
                languages.append(lang)
    default = data.get("default_language", languages[0] if languages else "en")
    if not isinstance(default, str) or default not in languages:
        errors.add("default_language", "must be one of the languages")
        default = languages[0] if languages else "en"
    title = _texts(data.get("title"), "title", errors, languages, required=default)
    intro = _texts(data.get("intro"), "intro", errors, languages, required=None)
    labels: dict[str, dict[str, str]] = {}
    raw_labels = data.get("labels") or {}
    if not isinstance(raw_labels, dict):
        errors.add("labels", "must be an object")
    else:
        for key, texts in raw_labels.items():
            labels[str(key)] = _texts(texts, f"labels.{key}", errors, languages, required=None)

    questions: list[Question] = []
    raw_questions = data.get("questions")
    if not isinstance(raw_questions, list) or not raw_questions:
        errors.add("questions", "add at least one question")
        raw_questions = []
    seen: set[str] = set()
    for i, raw in enumerate(raw_questions):
        path = f"questions.{i}"
        if not isinstance(raw, dict):
            errors.add(path, "must be an object")
            continue
        key = raw.get("key")
        if not isinstance(key, str) or not KEY_RE.match(key):
            errors.add(f"{path}.key", "use 1-40 lowercase letters, digits or _ , starting with a letter")
            continue
        if key in seen:
            errors.add(f"{path}.key", "another question has this key")
            continue
        seen.add(key)
        kind = raw.get("kind")
        if kind not in KINDS:
            errors.add(f"{path}.kind", "must be single, multi, scale or text")
            continue
        text = _texts(raw.get("text"), f"{path}.text", errors, languages, required=default)
        help_ = _texts(raw.get("help"), f"{path}.help", errors, languages, required=None)
        options: list[Option] = []
        option_keys: set[str] = set()
        raw_options = raw.get("options") or []
        if not isinstance(raw_options, list):
            errors.add(f"{path}.options", "must be a list")
            raw_options = []
        for j, raw_opt in enumerate(raw_options):
            opath = f"{path}.options.{j}"
            if not isinstance(raw_opt, dict):
                errors.add(opath, "must be an object")
                continue
            okey = raw_opt.get("key")
            if not isinstance(okey, str) or not KEY_RE.match(okey):
                errors.add(f"{opath}.key", "use 1-40 lowercase letters, digits or _ , starting with a letter")
                continue
            if okey in option_keys:
                errors.add(f"{opath}.key", "another option has this key")
                continue
            option_keys.add(okey)
            options.append(Option(okey, _texts(raw_opt.get("text"), f"{opath}.text", errors, languages,
                                               required=default)))
        allow_other = bool(raw.get("allow_other", False))
        max_choices = 1
        if kind in CHOICE_KINDS:
            if len(options) < 2:
                errors.add(f"{path}.options", "a choice question needs at least two options")
            if allow_other and OTHER not in option_keys:
                errors.add(f"{path}.allow_other", "add an option with the key 'other'")
            if kind == "multi":
                mc = raw.get("max_choices", 3)
                if not isinstance(mc, int) or isinstance(mc, bool) or not 1 <= mc <= max(1, len(options)):
                    errors.add(f"{path}.max_choices", "must be between 1 and the number of options")
                    mc = 1
                max_choices = mc
        elif options:
            errors.add(f"{path}.options", "a text question has no options")
        max_length = raw.get("max_length", 2000)
        if not isinstance(max_length, int) or isinstance(max_length, bool) or not 1 <= max_length <= MAX_TEXT:
            errors.add(f"{path}.max_length", f"must be between 1 and {MAX_TEXT}")
            max_length = 2000
        questions.append(
            Question(
                key=key,
                kind=kind,
                text=text,
                help=help_,
                options=tuple(options),
                required=bool(raw.get("required", False)),
                max_choices=max_choices,
                randomise=bool(raw.get("randomise", False)),
                allow_other=allow_other and kind in CHOICE_KINDS,
                max_length=max_length,
            )
        )
    if errors.fields:
        raise InvalidInput("The survey definition has problems.", fields=errors.fields, code="invalid_definition")
    return Definition(
        languages=tuple(languages),
        default_language=default,
        title=title,
        intro=intro,
        questions=tuple(questions),
        labels=labels,
    )


# --- codebook ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Codebook:
    """question key -> slot (1..MAX_SLOTS); question key -> {option key -> bit}."""

    slots: Mapping[str, int]
    bits: Mapping[str, Mapping[str, int]]
    # Question kinds as first stored, so a key cannot silently become a text question.
    kinds: Mapping[str, str]

    @classmethod
    def from_json(cls, data: Mapping[str, Any] | None) -> Codebook:
        data = data or {}
        return cls(
            slots={str(k): int(v) for k, v in (data.get("slots") or {}).items()},
            bits={str(q): {str(o): int(b) for o, b in opts.items()} for q, opts in (data.get("bits") or {}).items()},
            kinds={str(k): str(v) for k, v in (data.get("kinds") or {}).items()},
        )

    def to_json(self) -> dict[str, Any]:
        return {
            "slots": dict(self.slots),
            "bits": {q: dict(o) for q, o in self.bits.items()},
            "kinds": dict(self.kinds),
        }

    def extended(self, definition: Definition) -> Codebook:
        """This codebook grown to cover ``definition`` (new questions get slots, new options bits)."""
        slots = dict(self.slots)
        bits = {q: dict(o) for q, o in self.bits.items()}
        kinds = dict(self.kinds)
        fields: dict[str, str] = {}
        for i, q in enumerate(definition.questions):
            old_kind = kinds.get(q.key)
            if old_kind is not None and (old_kind == "text") != (q.kind == "text"):
                fields[f"questions.{i}.kind"] = (
                    "this key was a text question before (or a choice question); give the new question a new key"
                )
                continue
            kinds.setdefault(q.key, q.kind)
            if not q.is_choice:
                continue
            if q.key not in slots:
                free = [s for s in range(1, MAX_SLOTS + 1) if s not in slots.values()]
                if not free:
                    fields[f"questions.{i}.key"] = f"a survey can have at most {MAX_SLOTS} choice questions in all"
                    continue
                slots[q.key] = free[0]
            qbits = bits.setdefault(q.key, {})
            for o in q.options:
                if o.key not in qbits:
                    if len(qbits) >= MAX_BITS:
                        fields[f"questions.{i}.options"] = f"a question can have at most {MAX_BITS} options in all"
                        break
                    qbits[o.key] = len(qbits)
        if fields:
            raise InvalidInput("The survey definition has problems.", fields=fields, code="invalid_definition")
        return Codebook(slots=slots, bits=bits, kinds=kinds)

    def encode(self, question: str, options: Iterable[str]) -> int:
        mask = 0
        for o in options:
            mask |= 1 << self.bits[question][o]
        return mask

    def decode(self, question: str, mask: int | None) -> list[str]:
        if not mask:
            return []
        return [o for o, b in sorted(self.bits.get(question, {}).items(), key=lambda ob: ob[1]) if mask >> b & 1]


# --- presentation ------------------------------------------------------------------------


def option_order(question: Question, seed: str) -> tuple[Option, ...]:
    """Options as one respondent sees them: shuffled when the question asks for it, stable for
    the same seed (a re-shown form keeps its order), with "other" always last."""
    if not question.randomise:
        return question.options
    rest = [o for o in question.options if o.key != OTHER]
    digest = hashlib.sha256(f"{seed}:{question.key}".encode()).digest()
    random.Random(int.from_bytes(digest[:8], "big")).shuffle(rest)
    other = [o for o in question.options if o.key == OTHER]
    return (*rest, *other)
