"""Speech synthesis engines: `base`, `espeak` (espeak-ng), `festival` (Russian)."""
