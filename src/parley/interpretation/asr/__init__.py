"""Speech recognition engines: `base` (interface), `whisper` (faster-whisper)."""
