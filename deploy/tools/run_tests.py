"""Runs the tests of deploy/tools (deploy/tools/tests, unittest) and ends with the line
`N passed, M failed` (and the skipped ones, with why, before it). Exits 1 when any failed.

Usage: python3 deploy/tools/run_tests.py [-v]   (PyYAML needed: validate-deploy.sh uses its venv)
"""
import os
import sys
import unittest

HERE = os.path.dirname(os.path.abspath(__file__))


def main(argv):
    suite = unittest.defaultTestLoader.discover(os.path.join(HERE, "tests"), top_level_dir=HERE)
    result = unittest.TextTestRunner(verbosity=2 if "-v" in argv else 1, stream=sys.stdout).run(suite)
    failed = len(result.failures) + len(result.errors) + len(result.unexpectedSuccesses)
    skipped = len(result.skipped)
    for test, why in result.skipped:
        print(f"skipped: {test.id()}: {why}")
    passed = result.testsRun - failed - skipped
    if skipped:
        print(f"{skipped} skipped")
    print(f"{passed} passed, {failed} failed")
    return 1 if failed or passed == 0 else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
