"""scripts/lib.sh: the shell helpers the scripts share, each run in a bash that sources it."""
import os
import subprocess
import tempfile
import unittest

from tests import repo_path

LIB = repo_path("scripts", "lib.sh")


def bash(script, *args, env=None):
    """Runs script (with lib.sh sourced, errexit on) as `bash -c script name args`."""
    return subprocess.run(["bash", "-c", f'set -euo pipefail; source "{LIB}"; {script}', "script.sh", *args],
                          capture_output=True, text=True, timeout=30, env={**os.environ, **(env or {})})


class Helpers(unittest.TestCase):
    def test_export_free_ports_gives_distinct_free_ports(self):
        r = bash('export_free_ports "${UP_PORT_VARS[@]}"; for v in "${UP_PORT_VARS[@]}"; do echo "${!v}"; done')
        self.assertEqual(r.returncode, 0, r.stderr)
        ports = [int(p) for p in r.stdout.split()]
        self.assertEqual(len(ports), 12)
        self.assertEqual(len(set(ports)), len(ports))
        self.assertTrue(all(20000 <= p < 32000 for p in ports), ports)

    def test_each_port_handed_out_is_reserved(self):
        with tempfile.TemporaryDirectory() as d:
            r = bash('export_free_ports A B C; echo "$A $B $C"', env={"TMPDIR": d})
            self.assertEqual(r.returncode, 0, r.stderr)
            ports = r.stdout.split()
            self.assertEqual(sorted(os.listdir(os.path.join(d, "sla-port-reservations"))), sorted(ports))

    def test_a_fresh_reservation_is_never_handed_out_again_and_a_stale_one_is(self):
        with tempfile.TemporaryDirectory() as d:
            reservations = os.path.join(d, "sla-port-reservations")
            os.mkdir(reservations)
            for port in range(20000, 32000):
                os.mkdir(os.path.join(reservations, str(port)))
            taken = bash("free_port", env={"TMPDIR": d})
            self.assertNotEqual(taken.returncode, 0, taken.stdout)
            self.assertIn("no free loopback port", taken.stderr)
            stale = bash("free_port", env={"TMPDIR": d, "PORT_RESERVATION_HOURS": "0"})
            self.assertEqual(stale.returncode, 0, stale.stderr)
            self.assertTrue(20000 <= int(stale.stdout) < 32000, stale.stdout)

    def test_wait_until_returns_once_the_command_succeeds(self):
        with tempfile.TemporaryDirectory() as d:
            flag = os.path.join(d, "flag")
            r = bash(f'(sleep 1; touch "{flag}") & wait_until 10 "no flag" test -e "{flag}"; echo done')
        self.assertEqual((r.returncode, r.stdout), (0, "done\n"), r.stderr)

    def test_wait_until_dies_naming_what_did_not_happen(self):
        r = bash('wait_until 1 "the flag did not appear" false; echo not reached')
        self.assertEqual(r.returncode, 1)
        self.assertEqual(r.stdout, "")
        self.assertIn("error: the flag did not appear within 1 s", r.stderr)

    def test_no_arguments_but_help(self):
        self.assertEqual(bash('no_arguments_but_help "$@"; echo ran').stdout, "ran\n")
        r = bash('no_arguments_but_help "$@"; echo ran', "--verbose")
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertIn("unexpected arguments: --verbose (see --help)", r.stderr)

    def test_help_prints_the_header(self):
        with tempfile.NamedTemporaryFile("w", suffix=".sh", delete=False) as f:
            f.write(f'#!/usr/bin/env bash\n# Does a thing.\n#\n# Usage: x.sh [--help]\nsource "{LIB}"\n'
                    'no_arguments_but_help "$@"\necho ran\n')
        self.addCleanup(os.unlink, f.name)
        r = subprocess.run(["bash", f.name, "--help"], capture_output=True, text=True, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, "Does a thing.\n\nUsage: x.sh [--help]\n"), r.stderr)

    def test_on_exit_runs_the_function_with_the_status(self):
        r = bash('cleanup() { echo "cleanup saw $?"; }; on_exit cleanup; false')
        self.assertEqual((r.returncode, r.stdout), (1, "cleanup saw 1\n"))
        r = bash('cleanup() { echo "cleanup saw $?"; }; on_exit cleanup; kill -TERM $$; sleep 5')
        self.assertEqual((r.returncode, r.stdout), (143, "cleanup saw 143\n"))

    def test_wait_for_http_returns_once_the_server_answers_and_stop_bg_stops_it(self):
        with tempfile.TemporaryDirectory() as run:
            r = bash('port=$(free_port); start_bg "$1" web python3 -m http.server --bind 127.0.0.1 "$port"; '
                     'wait_for_http web "http://127.0.0.1:$port/" 20 "$1"; pid=$(<"$1/pids/web.pid"); '
                     'stop_bg "$1" web; ! kill -0 "$pid" 2>/dev/null; ! http_ok "http://127.0.0.1:$port/"; '
                     '[[ ! -e $1/pids/web.pid ]]; echo stopped', run)
        self.assertEqual((r.returncode, r.stdout), (0, "stopped\n"), r.stderr)

    def test_wait_for_port_dies_with_the_log_when_the_process_exited(self):
        with tempfile.TemporaryDirectory() as run:
            r = bash('start_bg "$1" broken bash -c "echo cannot bind; exit 3"; '
                     'wait_for_port broken "$(free_port)" 20 "$1"; echo not reached', run)
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertIn("cannot bind", r.stderr)
        self.assertIn("error: broken failed to start", r.stderr)

    def test_wait_for_port_dies_after_its_timeout(self):
        r = bash('wait_for_port nothing "$(free_port)" 1; echo not reached')
        self.assertEqual((r.returncode, r.stdout), (1, ""))
        self.assertRegex(r.stderr, r"error: nothing: port [0-9]+ not open after 1s\n")

    def test_apt_missing_lists_only_packages_not_installed(self):
        r = bash("apt_missing bash no-such-package-sla-monitor")
        if r.returncode == 0 and "bash" in r.stdout:
            self.skipTest("no dpkg here")
        self.assertEqual(r.stdout, "no-such-package-sla-monitor\n", r.stderr)

    def test_apt_install_of_nothing_does_nothing(self):
        r = bash("apt_install; echo ok")
        self.assertEqual((r.returncode, r.stdout, r.stderr), (0, "ok\n", ""))


if __name__ == "__main__":
    unittest.main()
