"""Cirkus: a site that sells its events' tickets through Billig (an example Django project)."""
