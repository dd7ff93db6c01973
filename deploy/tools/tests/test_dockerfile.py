"""validate.dockerfile: the image builds from what the repository holds."""
import unittest

from tests import InRepoRoot, repo_path
from validate import dockerfile, read_text

TEXT = read_text(repo_path(dockerfile.DOCKERFILE))


class Check(unittest.TestCase):
    def test_copied_paths_leave_out_other_stages_and_the_context(self):
        text = "COPY . .\nCOPY --from=builder /out/ /usr/local/bin/\nCOPY --chown=1000 a b /dest/\n"
        self.assertEqual(dockerfile.copied_paths(text), ["a", "b"])

    def test_missing_copied_path_fails(self):
        problems = dockerfile.check(TEXT + "\nCOPY deploy/docker/no-such-file /usr/local/bin/\n")
        self.assertEqual(problems, ["Dockerfile copies a missing path: deploy/docker/no-such-file"])

    def test_unbuilt_service_fails(self):
        problems = dockerfile.check(TEXT.replace("--bin retrieval", "--bin other"))
        self.assertEqual(problems, ["Dockerfile does not build retrieval"])

    def test_probe_not_executable_fails(self):
        problems = dockerfile.check(TEXT, executable=lambda path: False)
        self.assertEqual(problems, [f"{dockerfile.HTTP_PROBE} is not executable"])


class Main(InRepoRoot, unittest.TestCase):
    def test_repository_dockerfile_passes(self):
        self.assertEqual(dockerfile.main([]), 0)
        self.assertEqual(self.output.getvalue(), "")


if __name__ == "__main__":
    unittest.main()
