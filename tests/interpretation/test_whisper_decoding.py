"""How Whisper's output becomes words, and how big its encoder window is (no model needed)."""

from __future__ import annotations

import pytest

pytest.importorskip("faster_whisper", reason="faster-whisper not installed")

from parley.interpretation.asr.whisper import (
    WINDOW_FRAMES,
    Piece,
    encoder_frames,
    looping,
    spread,
    subtitle_credit,
    token_budget,
    without_loop,
    words_from_pieces,
)
from parley.interpretation.frames import Word

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
