"""Domain rules. Handlers validate, authorise and decide; stores only query."""
