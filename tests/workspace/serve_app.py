"""Run one Parley web process from the environment (``python -m tests.workspace.serve_app PORT``).

Used by the multi-process test: the schema is already there, the bus is Redis.
"""

from __future__ import annotations

import sys

import uvicorn

from parley.config import Config
from parley.server import Server
from parley.web.app import create_app


def main() -> None:
    port = int(sys.argv[1])
    app = create_app(Server(Config.load(), schema="none"))
    uvicorn.run(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")


if __name__ == "__main__":
    main()
