"""AI interpretation: speech in one language -> captions and voice in the listeners' languages.

    RTP (Opus, UDP) -> rtp.RtpReceiver -> JitterBuffer -> RtpDepacketizer -> AudioChunk (16 kHz)
      -> adapters.StreamAdapter (vad + asr engine, local agreement) -> Transcript partial/final
      -> mt.registry.Translator (ctranslate2, apertium; pivots; glossary) -> translated text
      -> pipeline.SpeakerPipeline -> Caption / SpeechStart / SpeechEnd / EngineHealth events
      -> pipeline.VoiceChannel: tts (festival, espeak-ng) -> rtp.RtpOpusSender -> RTP back out

    frames.py     event and data types (JSON-able)      scheduler.py  shared, fair inference threads
    engine.py     engine lifecycle, retries, health     metrics.py    per-stage latency counters
    factory.py    default engines from what is installed (missing ones become EngineHealth)
    scoring.py    WER/CER/chrF/BLEU for benchmarks and slow tests

Blocking model calls share one `scheduler.InferenceScheduler`; time comes from a `Clock`.
Nothing here is Janus-specific: audio comes in and goes out as plain RTP on UDP.
"""
