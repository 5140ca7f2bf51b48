"""Machine translation engines: `base`, `apertium`, `bergamot`, `ctranslate2`; `registry` routes language pairs."""
