"""Command line: ``parley serve | admin | migrate | config | models | bench``."""
