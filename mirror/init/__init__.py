"""``billig init``: a project adopts the harness in one command.

Detection (:mod:`~mirror.init.detect`), the ``pyproject.toml`` edit
(:mod:`~mirror.init.pyproject`), the schema file (:mod:`~mirror.init.schema_file`), the GitHub
workflows (:mod:`~mirror.init.workflows`, templates shipped in ``templates/``) and the first test
(:mod:`~mirror.init.first_test`) are planned together by :mod:`~mirror.init.project`; the command
(:mod:`mirror.commands.init`) prints the plan, writes it and pins the contracts.
"""
