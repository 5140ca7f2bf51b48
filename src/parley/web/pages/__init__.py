"""HTML pages, one module per resource, over the same handlers the JSON API in `parley.web.routes` uses."""
