"""Machine translation engines: `base`, `apertium`, `ctranslate2`; `registry` routes language pairs."""
