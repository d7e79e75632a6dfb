"""billig-harness: contract tests and schema-drift checks for the Billig database."""
