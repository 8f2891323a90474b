"""vidgan inside other programs: one folder per host program, each with its C sources and the
Python that builds and installs them (``vidgan ffmpeg-plugin install``, ``vidgan obs-plugin install``)."""
