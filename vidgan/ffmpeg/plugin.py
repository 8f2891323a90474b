def add_commands(sub):
    return None
