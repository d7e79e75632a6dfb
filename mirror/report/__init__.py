"""Reports: one result type and its renderers (text, JSON, JUnit, Markdown, GitHub)."""

FORMATS = ("text", "json", "junit", "markdown", "github")  # report formats, for options
