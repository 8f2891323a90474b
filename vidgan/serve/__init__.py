"""``vidgan serve``: the live pipeline behind the OBS filter (protocol, pixels, server, client)."""
