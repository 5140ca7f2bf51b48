"""The event bus: topics carrying small JSON-able events between handlers and WebSocket
connections. `LocalBus` for one process, `RedisBus` to reach every process of a deployment.
"""
