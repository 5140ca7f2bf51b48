"""Real-time signalling over WebSockets.

    browser <-> web/routes (/ws/workspace) <-> Session (one per connection)
                                                  ^ frames       | requests
                                                 Hub  <- bus <- handlers (Workspace)

`messages` defines the frames; `Hub` holds one bus subscription per process and fans each
event out to the local sessions that need it, serialising it once.
"""
