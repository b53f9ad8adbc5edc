"""The local preview: one WSGI application (files, search, live reload) and its server."""
