"""One module per domain: queries that take an `AsyncSession` and return model objects."""
