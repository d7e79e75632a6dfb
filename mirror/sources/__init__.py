"""Sources that become catalogs (a live database, contract files, SQLAlchemy models), and the
site source: what the harness reads of the site under contract."""
