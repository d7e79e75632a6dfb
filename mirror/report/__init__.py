"""Reports: one result type (:class:`mirror.report.model.Report`) and its renderers.

``FORMATS`` is the one registry of report formats: each name maps to the module that renders
it (a ``render(report, options)`` function), imported only when that format is asked for, so
that the command line can offer the names without loading any renderer.
"""

FORMATS: dict[str, str] = {
    "text": "mirror.report.text",
    "json": "mirror.report.json_report",
    "junit": "mirror.report.junit",
    "markdown": "mirror.report.markdown",
    "github": "mirror.report.github",
    "issue": "mirror.report.issue",
}
