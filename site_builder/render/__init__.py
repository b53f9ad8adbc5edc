"""Rendering: the assembled site through the Jinja templates of the theme."""
