"""Loading the configured site source: its module comes from the project's folder, which is not
installed and not on ``sys.path`` (``billig`` starts from the virtualenv's bin folder)."""

from __future__ import annotations

import shutil
import subprocess
import sys
from pathlib import Path

WHEEL_PROJECT = Path(__file__).resolve().parent / "wheel_project"
LOAD = (
    "import sys; from pathlib import Path; from mirror.config import load_config; "
    "from mirror.sources.site import load_site; "
    "site = load_site(load_config(Path(sys.argv[1]), environ={})); "
    "print(site.name, [m.name for m in site.models()])"
)


def test_the_site_module_is_imported_from_the_folder_of_the_configuration(tmp_path: Path) -> None:
    project = tmp_path / "project"
    project.mkdir()
    shutil.copy2(WHEEL_PROJECT / "mysite.py", project / "mysite.py")
    (project / "pyproject.toml").write_text('[tool.billig]\nsite = "mysite:SOURCE"\n')
    (project / "sub").mkdir()
    elsewhere = tmp_path / "elsewhere"
    elsewhere.mkdir()
    # -P: not even the working directory on sys.path; the configuration is found from sub/.
    result = subprocess.run(
        [sys.executable, "-P", "-c", LOAD, str(project / "sub")],
        cwd=elsewhere,
        capture_output=True,
        text=True,
        check=False,
        timeout=60,
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "my site ['WebEvent']"
