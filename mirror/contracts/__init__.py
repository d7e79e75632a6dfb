"""Snapshot kinds (columns, shapes, OpenAPI, statements per serializer) and the contract checks
over them."""
