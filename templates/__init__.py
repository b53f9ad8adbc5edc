"""The default theme: the Jinja templates of every page and, in static/, the files they load.

Installed inside the package as site_builder.templates; a site can override any of these
files with a folder of its own (see site_builder/render/theme.py)."""
