"""Snapshot kinds (columns, shapes, OpenAPI) and the contract checks over them."""
