"""The memory browser (``pmem ui``): a page served by the HTTP API's own server.

Hand-written HTML, CSS and JavaScript in ``static/`` (no build step, nothing from a CDN; a
Content-Security-Policy keeps the page from loading anything from elsewhere). The page uses the
public API plus two read-only routes for it (:mod:`persona_memory.ui.routes`).
"""
