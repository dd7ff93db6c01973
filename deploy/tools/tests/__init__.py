"""Tests of deploy/tools: run them with `python3 deploy/tools/run_tests.py` (PyYAML needed:
validate-deploy.sh runs them in its venv). Each check of deploy/tools/validate passes on the
repository's files and fails on a deliberately broken copy of them."""
import contextlib
import copy
import io
import os
import unittest

ROOT = os.path.normpath(os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", ".."))


def repo_path(*parts):
    return os.path.join(ROOT, *parts)


def broken(value, change):
    """A deep copy of value after change(copy): the real input with one defect."""
    c = copy.deepcopy(value)
    change(c)
    return c


class CheckTestCase(unittest.TestCase):
    """A test of a check: `check(input)` returns the problems, one string each."""

    def check(self, value):
        raise NotImplementedError

    def assertProblem(self, value, text, *args, **kw):
        """The check finds a problem whose line contains text."""
        problems = self.check(value, *args, **kw)
        self.assertTrue(any(text in p for p in problems), f"no problem with {text!r} in {problems}")


class InRepoRoot:
    """Mixin for tests of a main(): runs it from the repository root, as validate-deploy.sh does,
    with what it prints in self.output."""

    def setUp(self):
        cwd = os.getcwd()
        os.chdir(ROOT)
        self.addCleanup(os.chdir, cwd)
        self.output = io.StringIO()
        self.enterContext(contextlib.redirect_stdout(self.output))

