"""Media plane: the Janus WebRTC server Parley starts, supervises and drives."""
