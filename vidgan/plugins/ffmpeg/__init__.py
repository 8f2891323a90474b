"""The FFmpeg side: the frei0r filter plugin (C), the in-process host it calls, and its builder."""
