"""Assembling: reports placed in the site (ids, URLs, places, years, similar reports, data)."""
