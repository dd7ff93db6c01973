"""The Dockerfile check: the image builds from what the repository holds.

Every path the Dockerfile copies from the build context exists (multi-stage `COPY --from=`
copies from another stage and is not looked at); it builds the binaries of the four services;
the health-check script it copies, deploy/docker/http-probe, is executable (that it parses is
bash's to say: validate-deploy.sh runs `bash -n`).

Usage: python -m validate.dockerfile   (from the repository root)
"""
import os

from validate import read_text, report, run

DOCKERFILE = "Dockerfile"
HTTP_PROBE = "deploy/docker/http-probe"
BINARIES = ("etl", "storage", "retrieval", "sla-manager")


def copied_paths(text):
    """The build-context sources of the Dockerfile's COPY instructions (their options and the
    whole context `.` left out)."""
    paths = []
    for line in text.splitlines():
        fields = line.split()
        if len(fields) < 3 or fields[0] != "COPY" or fields[1].startswith("--from"):
            continue
        paths += [src for src in fields[1:-1] if not src.startswith("--") and src != "."]
    return paths


def check(text, exists=os.path.exists, executable=lambda p: os.access(p, os.X_OK)):
    problems = [f"Dockerfile copies a missing path: {src}" for src in copied_paths(text) if not exists(src)]
    if not executable(HTTP_PROBE):
        problems.append(f"{HTTP_PROBE} is not executable")
    for binary in BINARIES:
        if f"--bin {binary}" not in text:
            problems.append(f"Dockerfile does not build {binary}")
    return problems


def main(argv):
    return report(check(read_text(DOCKERFILE)))


if __name__ == "__main__":
    run(main)
