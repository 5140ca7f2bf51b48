"""Installing interpretation models: `catalogue` (what is known), `hub` (fetching from a
Hugging Face hub or mirror), `install` (staging, checks, atomic rename, provenance, import
from a folder or archive carried into an air-gapped site).

    catalogue entry --hub.revision--> file list (size, sha256) --hub.download (Range)--> staging
    folder or archive --import--------------------------------------------------------> staging
    staging --verify, fix up (vocabulary.json, parley-mt.json, tokenizer.json), provenance--> rename
"""
