"""The model: the frozen Catalog, findings about two catalogs, and the one comparator."""
