"""Interpretation: RTP, audio, VAD, engines, stability policy, pipeline."""
