"""Sources that become catalogs: a live database, contract files, SQLAlchemy models."""
