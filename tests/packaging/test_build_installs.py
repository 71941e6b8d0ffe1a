"""What `build.py` installs and where: nothing goes into the user's environment unasked."""

import io
import sys
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
sys.path.insert(0, str(ROOT))
import build


class Terminal(io.StringIO):
    def isatty(self):
        return True


@pytest.fixture
def commands(monkeypatch):
    """The commands build.run would have run (none is)."""
    ran = []
    monkeypatch.setattr(build, "run", lambda command, **kwargs: ran.append(command))
    monkeypatch.delenv("CI", raising=False)
    return ran


def test_without_a_terminal_it_says_what_to_install_and_installs_nothing(commands, monkeypatch):
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    with pytest.raises(SystemExit, match=r"torch is missing.*virtual environment.*\.\[test\]"):
        build.install_test_extra("torch")
    assert commands == []


@pytest.mark.parametrize("answer", ["", "n", "no", "maybe"])
def test_at_a_terminal_anything_but_yes_installs_nothing(commands, monkeypatch, answer):
    monkeypatch.setattr(sys, "stdin", Terminal())
    questions = []
    monkeypatch.setattr("builtins.input", lambda question: questions.append(question) or answer)
    with pytest.raises(SystemExit, match="pip install -e"):
        build.install_test_extra("playwright")
    assert commands == []
    assert sys.prefix in questions[0] and "[y/N]" in questions[0]


def test_at_a_terminal_yes_installs_the_test_extra_into_this_python(commands, monkeypatch):
    monkeypatch.setattr(sys, "stdin", Terminal())
    monkeypatch.setattr("builtins.input", lambda question: "y")
    build.install_test_extra("pytest")
    assert commands == [[sys.executable, "-m", "pip", "install", "-e", f"{ROOT}[test]"]]


def test_in_ci_the_test_extra_is_installed_without_asking(commands, monkeypatch):
    monkeypatch.setenv("CI", "true")
    monkeypatch.setattr(sys, "stdin", io.StringIO(""))
    monkeypatch.setattr("builtins.input", lambda question: pytest.fail("asked in CI"))
    build.install_test_extra("pytest")
    assert commands == [[sys.executable, "-m", "pip", "install", "-e", f"{ROOT}[test]"]]


def test_ensure_test_dependencies_asks_only_when_something_is_missing(commands, monkeypatch):
    monkeypatch.setattr(build, "install_test_extra", lambda missing: pytest.fail(missing))
    monkeypatch.setattr(build, "find_browser", lambda: "/usr/bin/chromium")
    build.ensure_test_dependencies()   # pytest and Playwright are here
    assert commands == []
