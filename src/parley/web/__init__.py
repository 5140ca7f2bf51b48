"""HTTP and WebSocket edges: thin routes that parse, call a handler, and render or serialise.

Nothing outside this package imports it."""
