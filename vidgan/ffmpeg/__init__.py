"""The FFmpeg side of vidgan's plugins: the frei0r filter plugin and its in-process host."""
