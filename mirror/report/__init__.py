"""Reports: one result type and its renderers (text, JSON, JUnit, Markdown, GitHub)."""
