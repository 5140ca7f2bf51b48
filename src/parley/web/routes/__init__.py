"""One module per resource; each holds its JSON API (under /api/v1) and its pages."""
