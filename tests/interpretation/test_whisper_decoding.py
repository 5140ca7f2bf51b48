"""How Whisper's output becomes words, and how big its encoder window is (no model needed)."""

from __future__ import annotations

import pytest

pytest.importorskip("faster_whisper", reason="faster-whisper not installed")

from parley.interpretation.asr.whisper import (
    WINDOW_FRAMES,
    BudgetedWhisper,
    PassOver,
    Piece,
    encoder_frames,
    looping,
    spread,
    subtitle_credit,
    token_budget,
    without_loop,
    word_loop,
    words_from_pieces,
)
from parley.interpretation.frames import Word
from tests.fakes.clock import FakeClock

pytestmark = pytest.mark.unit


def test_the_encoder_sees_the_audio_plus_padding_rounded_up_to_a_second() -> None:
    assert encoder_frames(450, 3.0) == 800  # 4.5 s + 3 s -> 8 s
    assert encoder_frames(500, 3.0) == 800
    assert encoder_frames(0, 3.0) == 300
    assert encoder_frames(2900, 3.0) == WINDOW_FRAMES  # never past Whisper's 30 s window
    assert encoder_frames(450, None) == WINDOW_FRAMES  # None: the full window, as faster-whisper does
    assert encoder_frames(100, 3.0, 10.0) == 1000  # short utterances get at least the minimum window
    assert encoder_frames(900, 3.0, 10.0) == 1200


def test_a_pass_stuck_repeating_itself_is_recognised() -> None:
    def words(text: str) -> list[Word]:
        return [Word(t, 0.0, 0.0) for t in text.split()]

    assert looping(words("However, however, however, however,"))
    assert looping(words("so we a b a b a b a b"))  # a pair, four times
    assert not looping(words("However, however, however, the end"))
    assert not looping(words("a b a b a b and the cat sat on the mat"))
    assert not looping(words("no no no, we go"))


def test_the_repeats_of_a_loop_are_left_out() -> None:
    said = "она читала. Думаю, что у нас есть, что у нас есть, что у нас есть, что у нас есть, что"
    kept = without_loop([Word(t, 0.0, 0.0) for t in said.split()])
    assert " ".join(w.text for w in kept) == "она читала. Думаю, что у нас есть,"
    plain = [Word("the", 0.0, 0.1), Word("end", 0.1, 0.2)]
    assert without_loop(plain) == plain


def test_a_loop_inside_one_word_is_cut_to_one_unit() -> None:
    assert word_loop("25-30-30-30-30-30-30-30") == "25-30"
    assert word_loop("hello") is None
    assert word_loop("1000000000") is None  # one character over and over is a number, not a loop
    assert word_loop("ababab") is None  # three times may be meant
    assert looping([Word("from", 0, 1), Word("25-30-30-30-30-30-30", 1, 2)])
    kept = without_loop([Word("from", 0, 1), Word("25-30-30-30-30-30-30", 1, 2, 0.5)])
    assert [(w.text, w.start, w.end, w.probability) for w in kept] == [("from", 0, 1, 1.0), ("25-30", 1, 2, 0.5)]


class _Result:
    def __init__(self, n: int) -> None:
        self.sequences_ids = [list(range(n))]
        self.scores = [-0.1 * n]


class _LoopingModel:
    """Stands in for CTranslate2's Whisper: every call generates as many tokens as it may."""

    def __init__(self, clock: FakeClock, seconds_per_call: float = 0.0) -> None:
        self.clock = clock
        self.seconds_per_call = seconds_per_call
        self.lengths: list[int] = []
        self.is_multilingual = True

    def generate(self, features: object, prompts: list[list[int]], *, max_length: int = 448,
                 **options: object) -> list[_Result]:
        self.lengths.append(max_length)
        self.clock.advance(self.seconds_per_call)
        return [_Result(max_length - len(p)) for p in prompts]


def test_the_calls_of_one_pass_share_its_token_budget() -> None:
    clock = FakeClock()
    inner = _LoopingModel(clock)
    model = BudgetedWhisper(inner, clock)
    assert model.is_multilingual  # everything else is the model's own
    prompt = [[1, 2, 3]]
    with model.budget(100, None) as budget:
        # faster-whisper falling back through temperatures and seeking on
        model.generate(None, prompt, max_length=3 + 60)
        model.generate(None, prompt, max_length=3 + 60)
        with pytest.raises(PassOver):
            model.generate(None, prompt, max_length=3 + 60)
    assert [n - 3 for n in inner.lengths] == [60, 40]  # the second gets what is left
    assert budget.spent == 100 and budget.exhausted and budget.calls == 2
    assert len(budget.best_pending().sequences_ids[0]) in (60, 40)
    model.generate(None, prompt, max_length=3 + 60)  # outside a pass: the call's own cap only
    assert inner.lengths[-1] == 63


def test_a_pass_past_its_deadline_makes_no_more_calls() -> None:
    clock = FakeClock()
    inner = _LoopingModel(clock, seconds_per_call=2.0)
    model = BudgetedWhisper(inner, clock)
    with model.budget(10_000, 3.0) as budget:
        model.generate(None, [[1]], max_length=1 + 50)  # 50 tokens in 2 s
        model.generate(None, [[1]], max_length=1 + 50)  # 1 s left: 25 tokens at that pace
        with pytest.raises(PassOver):
            model.generate(None, [[1]], max_length=1 + 50)
    assert [n - 1 for n in inner.lengths] == [50, 25] and budget.exhausted


def test_a_pass_may_not_generate_far_more_tokens_than_speech_has() -> None:
    assert token_budget(2.0) == 48
    assert token_budget(15.0) >= 15 * 10  # Mandarin at ~10 tokens a second still fits
    assert token_budget(60.0) == 440  # never more than Whisper's own limit


def test_pieces_without_a_leading_space_join_the_word_before() -> None:
    pieces = [Piece(" Nous", 0.0, 0.3), Piece(" l", 0.3, 0.4, 0.9), Piece("'accident", 0.4, 0.9, 0.6),
              Piece(",", 0.9, 0.9), Piece(" voilà", 1.0, 1.4)]
    words = words_from_pieces(pieces, "fr")
    assert [w.text for w in words] == ["Nous", "l'accident,", "voilà"]
    assert (words[1].start, words[1].end, words[1].probability) == (0.3, 0.9, 0.6)


def test_unspaced_scripts_keep_every_piece_and_noise_marks_are_dropped() -> None:
    assert [w.text for w in words_from_pieces([Piece("桥", 0, 1), Piece("下", 1, 2)], "zh")] == ["桥", "下"]
    assert words_from_pieces([Piece(" ...", 0.0, 1.2), Piece(" ...", 1.2, 1.9)], "fr") == []
    assert [w.text for w in words_from_pieces([Piece(" So", 0, 1), Piece(" -", 1, 2), Piece(" yes", 2, 3)],
                                              "en")] == ["So", "yes"]


def test_text_only_passes_get_word_times_by_share_of_characters() -> None:
    pieces = spread([" a", " bbb", "."], 1.0, 3.0)
    assert [p.text for p in pieces] == [" a", " bbb", "."]
    assert pieces[0].start == 1.0 and pieces[-1].end == pytest.approx(3.0)
    assert pieces[1].end - pieces[1].start == pytest.approx(3 * (pieces[0].end - pieces[0].start))
    assert all(a.end == pytest.approx(b.start) for a, b in zip(pieces, pieces[1:], strict=False))


@pytest.mark.parametrize("text", [
    "Субтитры сделал DimaTorzok", "Редактор субтитров А.Семкин Корректор А.Егорова",
    "Sous-titres réalisés par la communauté d'Amara.org", "Subtítulos realizados por la comunidad de Amara.org",
    "字幕由Amara.org社区提供", "Thanks for watching!", "请不吝点赞 订阅 转发 打赏支持明镜与点点栏目",
])
def test_subtitle_credits_written_into_silence_are_recognised(text: str) -> None:
    assert subtitle_credit(text)


@pytest.mark.parametrize("text", [
    "The subtitles were wrong, thanks for coming.", "We watched it with subtitles by the UN.",
    "我订阅了这份报纸。", "Thank you for listening to us.",
])
def test_what_people_say_about_subtitles_is_kept(text: str) -> None:
    assert not subtitle_credit(text)
