"""Adapters: site sources for web frameworks, so that a site's own code is under contract."""
