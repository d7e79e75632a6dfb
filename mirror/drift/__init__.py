"""The drift check of production against the columns contract: check, policy, data, suggest."""
