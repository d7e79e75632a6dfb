"""Billig's data as the site reads it: unmanaged models and their serializers."""
