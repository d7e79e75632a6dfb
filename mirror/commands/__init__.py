"""Every ``billig`` command as a plain library function, callable and testable without click.

A command takes its arguments as values, prints through an :class:`~mirror.commands.console.Echo`
and returns its exit code; errors are :class:`~mirror.errors.HarnessError` s, which the CLI turns
into one line and the exit code of :func:`~mirror.errors.exit_code_of`. The click modules of
:mod:`mirror.cli` only parse arguments and call these.
"""
