"""The apps import one way only: sessions > courses > patients > practice.

import-linter's `layers` contract in pyproject.toml ([tool.importlinter]) says so and `make lint`
runs it. These tests show that the contract bites (an upward import added to a copy of the
apps breaks it, by name) and that the real tree keeps it.
"""

from __future__ import annotations

import os
import shutil
import subprocess
import sys
import tomllib
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent.parent
APPS = ("practice", "patients", "courses", "sessions")
CONTRACT = next(
    contract["name"]
    for contract in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
    if contract["type"] == "layers"
)


def lint_imports(cwd: Path) -> subprocess.CompletedProcess[str]:
    """Run the `lint-imports` console script's entry point in `cwd`, in a child process.

    The child matters: it finds the apps from `cwd` alone, never the ones this test process has
    already imported from the real tree.
    """
    script = "import sys; from importlinter.cli import lint_imports_command; lint_imports_command()"
    return subprocess.run(
        [sys.executable, "-c", script, "--no-logo", "--no-cache"],
        cwd=cwd,
        # Wide, plain output, so the names the tests look for are never wrapped or coloured.
        env={**os.environ, "PYTHONPATH": str(cwd), "COLUMNS": "200", "NO_COLOR": "1"},
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )


def only_python(directory: str, names: list[str]) -> list[str]:
    return [
        name
        for name in names
        if name == "__pycache__" or (Path(directory, name).is_file() and not name.endswith(".py"))
    ]


@pytest.fixture
def copy_of_the_apps(tmp_path: Path) -> Path:
    for app in APPS:
        shutil.copytree(ROOT / app, tmp_path / app, ignore=only_python)
    shutil.copy(ROOT / "pyproject.toml", tmp_path / "pyproject.toml")
    return tmp_path


@pytest.mark.parametrize(
    ("module", "upward_import", "reported"),
    [
        pytest.param(
            "courses/models.py",
            "\nfrom sessions.models import Session\n",
            "courses.models -> sessions.models",
            id="module-level",
        ),
        pytest.param(
            "practice/models.py",
            "\n\ndef _patient_model():\n"
            "    from patients.models import Patient\n\n"
            "    return Patient\n",
            "practice.models -> patients.models",
            id="deferred-inside-a-function",
        ),
    ],
)
def test_an_upward_import_breaks_the_layers_contract(
    copy_of_the_apps: Path, module: str, upward_import: str, reported: str
) -> None:
    # Given a copy of the apps, in which this import is not yet reported
    before = lint_imports(copy_of_the_apps)
    assert reported not in before.stdout, before.stdout

    # When a lower app imports from a higher one
    with (copy_of_the_apps / module).open("a") as source:
        source.write(upward_import)
    after = lint_imports(copy_of_the_apps)

    # Then lint-imports fails, naming the contract and the import
    assert after.returncode == 1, after.stdout + after.stderr
    assert f"{CONTRACT} BROKEN" in after.stdout
    assert reported in after.stdout


def test_the_real_tree_keeps_the_layers_contract() -> None:
    """The acceptance check itself: it fails for as long as an app imports upward."""
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    assert f"{CONTRACT} KEPT" in result.stdout
