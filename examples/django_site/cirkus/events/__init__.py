"""The site's own events, each optionally sold through a Billig event."""
