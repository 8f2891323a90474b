"""C sources of vidgan's host-program plugins, shipped inside the package as ``vidgan.plugin_sources``."""
