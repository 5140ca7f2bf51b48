"""Parley: global consultation through small multilingual online dialogues.

Layers (imports only point downwards):

    web/, signalling/   thin HTTP and WebSocket edges
        -> handlers/    domain rules (accounts, dialogues, workspace, ...)
            -> storage/, bus/, media/, interpretation/, consultation/

`server.Server` is the one composition root; the ASGI lifespan starts and stops it.
"""

__version__ = "0.1.0"
