"""The reference site under contract: SQLAlchemy models, rules, serializers and the API."""
