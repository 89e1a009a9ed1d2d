"""The apps import one way only: reports > sessions > courses > patients > practice; inside
sessions/, pages, portal and API sit above the services; and no service knows the REST framework.

import-linter's contracts in pyproject.toml ([tool.importlinter]) say so and `make lint` runs
them. These tests show that each contract bites (an import against it, added to a copy of the
apps, breaks it by name) and that the real tree keeps them all.
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
APPS = ("practice", "patients", "courses", "sessions", "billing", "reports")
CONTRACTS = {
    contract["id"]: contract["name"]
    for contract in tomllib.loads((ROOT / "pyproject.toml").read_text())["tool"]["importlinter"][
        "contracts"
    ]
}


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
    ("contract", "module", "upward_import", "reported"),
    [
        pytest.param(
            "layers",
            "courses/models.py",
            "\nfrom sessions.models import Session\n",
            "courses.models -> sessions.models",
            id="module-level",
        ),
        pytest.param(
            "layers",
            "sessions/selectors.py",
            "\nfrom reports.registry import registry\n",
            "sessions.selectors -> reports.registry",
            id="nothing-imports-the-reports",
        ),
        pytest.param(
            "layers",
            "practice/models.py",
            "\n\ndef _patient_model():\n"
            "    from patients.models import Patient\n\n"
            "    return Patient\n",
            "practice.models -> patients.models",
            id="deferred-inside-a-function",
        ),
        pytest.param(
            "sessions-rooms",
            "sessions/booking/sessions.py",
            "\nfrom sessions.pages.calendar import NOTICES\n",
            "sessions.booking.sessions -> sessions.pages.calendar",
            id="a-service-reaching-into-the-pages",
        ),
        pytest.param(
            "domain-without-http",
            "sessions/booking/sessions.py",
            "\nfrom rest_framework.exceptions import APIException\n",
            "sessions.booking.sessions -> rest_framework",
            id="a-service-raising-http",
        ),
    ],
)
def test_an_import_against_a_contract_breaks_it(
    copy_of_the_apps: Path, contract: str, module: str, upward_import: str, reported: str
) -> None:
    # Given a copy of the apps, in which this import is not yet reported
    before = lint_imports(copy_of_the_apps)
    assert reported not in before.stdout, before.stdout

    # When a lower module imports from a higher one (or from HTTP)
    with (copy_of_the_apps / module).open("a") as source:
        source.write(upward_import)
    after = lint_imports(copy_of_the_apps)

    # Then lint-imports fails, naming the contract and the import
    assert after.returncode == 1, after.stdout + after.stderr
    assert f"{CONTRACTS[contract]} BROKEN" in after.stdout
    assert reported in after.stdout


def test_the_real_tree_keeps_every_contract() -> None:
    """The acceptance check itself: it fails for as long as a module imports against one."""
    result = lint_imports(ROOT)

    assert result.returncode == 0, result.stdout + result.stderr
    for name in CONTRACTS.values():
        assert f"{name} KEPT" in result.stdout
