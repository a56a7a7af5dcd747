"""Build both libraries' sdists and wheels and check them as a user would, outside the repository.

1. ``python -m build`` for ``packages/dmfsharp`` and ``packages/mcvd`` (fails on any deprecation
   warning of the build backend);
2. the archives hold what they must: the licence, ``py.typed``, the example data, the metadata
   (licence expression, project URLs, Python classifiers, the README as long description), and
   in the sdist the tests with their ``conftest.py`` and pytest configuration;
3. the wheels, without extras, go into a fresh virtual environment in a temporary folder (no
   system site-packages, no ``PYTHONPATH``): import, ``__version__`` against the metadata, and
   a few command-line calls of each library;
4. the sdists go with their ``[test]`` extra into a second fresh environment, and their own
   unpacked ``tests/`` run there with pytest (``-m "not slow"`` by default).

Standard library only (it runs before anything is installed). Usage::

    .venv/bin/python scripts/check_dist.py [--python PYTHON] [--pytest-args "-m 'not slow'"]
                                           [--keep] [--skip-sdist-tests]

``make check-dist`` runs it. Exit status 0 when every check passes; the first failing check
prints its command and output and exits 1.
"""

from __future__ import annotations

import argparse
import json
import os
import shlex
import shutil
import subprocess
import sys
import tarfile
import tempfile
import time
import zipfile
from email.parser import Parser
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
LIBRARIES = ("dmfsharp", "mcvd")
#: files each wheel must contain, relative to the package folder
WHEEL_FILES = {"dmfsharp": ["py.typed", "_version.py"], "mcvd": ["py.typed", "_version.py"]}
#: glob patterns (relative to the package folder) of which each wheel must have at least one
WHEEL_GLOBS = {"dmfsharp": [], "mcvd": ["examples/*.json"]}
SDIST_FILES = ["LICENSE", "README.md", "pyproject.toml", "tests/conftest.py"]
PYTHON_CLASSIFIERS = [f"Programming Language :: Python :: 3.{v}" for v in (10, 11, 12, 13)]
PROJECT_URLS = ("Homepage", "Documentation", "Source", "Issues")


class CheckFailed(Exception):
    """One failed check: its message (and the output of the command that failed, if any)."""


def log(msg: str) -> None:
    print(f"check-dist: {msg}", flush=True)


def clean_env() -> dict[str, str]:
    """The environment for commands in the temporary environments: no repository paths."""
    env = {k: v for k, v in os.environ.items() if k not in ("PYTHONPATH", "PYTHONHOME")}
    env.pop("VIRTUAL_ENV", None)
    env["PIP_DISABLE_PIP_VERSION_CHECK"] = "1"
    env["MPLBACKEND"] = "Agg"
    return env


def run(cmd: list[str], *, cwd: Path, env: dict[str, str] | None = None) -> str:
    """Run ``cmd``; its combined output, or :class:`CheckFailed` with it on a non-zero exit."""
    proc = subprocess.run(
        cmd, cwd=cwd, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True
    )
    if proc.returncode != 0:
        raise CheckFailed(
            f"exit {proc.returncode}: {shlex.join(map(str, cmd))}\n{proc.stdout[-6000:]}"
        )
    return proc.stdout


def require(ok: bool, msg: str) -> None:
    if not ok:
        raise CheckFailed(msg)


def build(lib: str, outdir: Path) -> tuple[Path, Path]:
    """``python -m build`` of one library; (sdist, wheel). Deprecation warnings fail."""
    out = run(
        [sys.executable, "-m", "build", "--outdir", str(outdir), str(ROOT / "packages" / lib)],
        cwd=ROOT,
    )
    bad = [line for line in out.splitlines() if "deprecat" in line.lower()]
    require(not bad, f"{lib}: the build printed deprecation warnings:\n" + "\n".join(bad))
    sdists, wheels = sorted(outdir.glob(f"{lib}-*.tar.gz")), sorted(outdir.glob(f"{lib}-*.whl"))
    require(len(sdists) == 1 and len(wheels) == 1, f"{lib}: expected one sdist and one wheel")
    return sdists[0], wheels[0]


def check_metadata(lib: str, text: str, where: str) -> str:
    """Check the core metadata of an archive; returns its version."""
    meta = Parser().parsestr(text)
    require(meta["License-Expression"] == "BSD-3-Clause", f"{where}: License-Expression missing")
    require(bool(meta.get_all("License-File")), f"{where}: no License-File")
    require("@" in (meta["Author-email"] or ""), f"{where}: no author contact (Author-email)")
    urls = {u.split(",")[0].strip() for u in meta.get_all("Project-URL") or []}
    missing = [u for u in PROJECT_URLS if u not in urls]
    require(not missing, f"{where}: project URLs missing: {missing}")
    classifiers = meta.get_all("Classifier") or []
    missing = [
        c
        for c in [*PYTHON_CLASSIFIERS, "Operating System :: OS Independent"]
        if c not in classifiers
    ]
    require(not missing, f"{where}: classifiers missing: {missing}")
    require(meta["Description-Content-Type"] == "text/markdown", f"{where}: README not markdown")
    body = (meta.get_payload() or "").strip()
    readme = (ROOT / "packages" / lib / "README.md").read_text(encoding="utf-8").strip()
    require(body == readme, f"{where}: the long description is not packages/{lib}/README.md")
    return meta["Version"]


def check_wheel(lib: str, wheel: Path) -> str:
    with zipfile.ZipFile(wheel) as z:
        names = z.namelist()
        meta_name = next(n for n in names if n.endswith(".dist-info/METADATA"))
        version = check_metadata(lib, z.read(meta_name).decode(), wheel.name)
    for f in WHEEL_FILES[lib]:
        require(f"{lib}/{f}" in names, f"{wheel.name}: {lib}/{f} missing")
    for pattern in WHEEL_GLOBS[lib]:
        folder, _, suffix = pattern.partition("*")
        require(
            any(n.startswith(f"{lib}/{folder}") and n.endswith(suffix) for n in names),
            f"{wheel.name}: no {lib}/{pattern}",
        )
    require(
        any(n.endswith(".dist-info/licenses/LICENSE") for n in names),
        f"{wheel.name}: LICENSE missing",
    )
    require(
        not any("/tests/" in n or n.startswith("tests/") for n in names),
        f"{wheel.name}: the tests must not be installed as a package",
    )
    return version


def check_sdist(lib: str, sdist: Path, unpack_to: Path) -> Path:
    with tarfile.open(sdist) as tar:
        names = tar.getnames()
        top = names[0].split("/")[0]
        for f in SDIST_FILES:
            require(f"{top}/{f}" in names, f"{sdist.name}: {f} missing")
        check_metadata(lib, tar.extractfile(f"{top}/PKG-INFO").read().decode(), sdist.name)
        pyproject = tar.extractfile(f"{top}/pyproject.toml").read().decode()
        require(
            "[tool.pytest.ini_options]" in pyproject,
            f"{sdist.name}: pyproject.toml has no pytest configuration",
        )
        tar.extractall(unpack_to, filter="data")
    return unpack_to / top


def make_venv(path: Path, python: str) -> Path:
    run([python, "-m", "venv", str(path)], cwd=path.parent, env=clean_env())
    bin_dir = path / ("Scripts" if os.name == "nt" else "bin")
    cfg = (path / "pyvenv.cfg").read_text()
    require("include-system-site-packages = false" in cfg, f"{path}: system site-packages on")
    return bin_dir


def pip_install(bin_dir: Path, args: list[str], cwd: Path) -> None:
    run(
        [str(bin_dir / "python"), "-m", "pip", "install", "--quiet", *args],
        cwd=cwd,
        env=clean_env(),
    )


def smoke_test_wheels(bin_dir: Path, work: Path, versions: dict[str, str]) -> None:
    env = clean_env()
    py = str(bin_dir / "python")
    code = (
        "import importlib.metadata as m, pathlib, sys, dmfsharp, mcvd\n"
        "for mod in (dmfsharp, mcvd):\n"
        "    assert mod.__version__ == m.version(mod.__name__), mod\n"
        "    assert pathlib.Path(mod.__file__).is_relative_to(sys.prefix), mod.__file__\n"
        "sc = mcvd.load_example('paper_halfspace')\n"
        "r = mcvd.response(sc, [2.0], model='images-ho')\n"
        "assert 0.38 < float(r.F[0]) < 0.40, r.F\n"
        "import numpy as np\n"
        "cex = dmfsharp.Factorization([np.diag([2.0, 1.0]), np.diag([1.0, 10.0]), np.eye(2)])\n"
        "assert abs(dmfsharp.sharpness(cex, scale=1.0).lambda_max - 402) < 1e-9\n"
        "print(dmfsharp.__version__, mcvd.__version__)\n"
    )
    out = run([py, "-c", code], cwd=work, env=env).split()
    require(out == [versions["dmfsharp"], versions["mcvd"]], f"versions: {out} vs {versions}")
    mcvd_cli, dmf_cli = str(bin_dir / "mcvd"), str(bin_dir / "dmfsharp")
    out = run([mcvd_cli, "--version"], cwd=work, env=env)
    require(versions["mcvd"] in out, f"mcvd --version printed {out!r}")
    out = run([dmf_cli, "--version"], cwd=work, env=env)
    require(versions["dmfsharp"] in out, f"dmfsharp --version printed {out!r}")
    run([mcvd_cli, "example", "paper_halfspace", "-o", "paper.json"], cwd=work, env=env)
    out = run([mcvd_cli, "capture", "paper.json", "--json"], cwd=work, env=env)
    f_inf = json.loads(out)["F_inf"]
    require(abs(f_inf - 0.5587) < 1e-3, f"mcvd capture: F_inf = {f_inf}, expected 0.5587")
    run(
        [
            dmf_cli,
            "random",
            "--dims",
            "3,4,4,2",
            "--kind",
            "gaussian",
            "--seed",
            "0",
            "-o",
            "f.npz",
        ],
        cwd=work,
        env=env,
    )
    out = json.loads(run([dmf_cli, "sharpness", "f.npz", "--json"], cwd=work, env=env))
    require(
        out.get("is_minimizer") is True and out.get("lambda_max", 0) > 0,
        f"dmfsharp sharpness --json: {out}",
    )


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument(
        "--python",
        default=sys.executable,
        help="interpreter for the temporary environments (default: this one)",
    )
    parser.add_argument(
        "--pytest-args",
        default="-m 'not slow'",
        help="arguments for the sdists' test runs (default: %(default)s)",
    )
    parser.add_argument(
        "--skip-sdist-tests", action="store_true", help="build and smoke-test the wheels only"
    )
    parser.add_argument("--keep", action="store_true", help="keep the temporary folder")
    args = parser.parse_args(argv)

    work = Path(tempfile.mkdtemp(prefix="check-dist-"))
    if work.resolve().is_relative_to(ROOT):
        raise SystemExit(f"check-dist: the temporary folder {work} is inside the repository")
    t0 = time.perf_counter()
    try:
        for lib in LIBRARIES:
            require(
                (ROOT / "packages" / lib / "LICENSE").read_bytes()
                == (ROOT / "LICENSE").read_bytes(),
                f"packages/{lib}/LICENSE differs from the root LICENSE",
            )
        dist, versions, sdists, wheels = work / "dist", {}, {}, {}
        for lib in LIBRARIES:
            sdists[lib], wheels[lib] = build(lib, dist)
            versions[lib] = check_wheel(lib, wheels[lib])
            log(f"built {sdists[lib].name} and {wheels[lib].name}")

        bin_dir = make_venv(work / "wheel-venv", args.python)
        pip_install(bin_dir, [str(wheels[lib]) for lib in LIBRARIES], work)
        smoke_test_wheels(bin_dir, work, versions)
        log("wheels: installed in a clean environment, import and command-line smoke tests pass")

        if not args.skip_sdist_tests:
            unpacked = {lib: check_sdist(lib, sdists[lib], work / "src") for lib in LIBRARIES}
            bin_dir = make_venv(work / "sdist-venv", args.python)
            pip_install(bin_dir, [f"{sdists[lib]}[test]" for lib in LIBRARIES], work)
            failed = []
            for lib in LIBRARIES:  # both run, so that one report shows every failure
                try:
                    out = run(
                        [
                            str(bin_dir / "python"),
                            "-m",
                            "pytest",
                            "-q",
                            "-p",
                            "no:cacheprovider",
                            *shlex.split(args.pytest_args),
                            str(unpacked[lib] / "tests"),
                        ],
                        cwd=work,
                        env=clean_env(),
                    )
                    log(f"{lib} sdist tests: {out.strip().splitlines()[-1]}")
                except CheckFailed as exc:
                    failed.append(f"{lib} sdist tests failed: {exc}")
            require(not failed, "\n".join(failed))
    except CheckFailed as exc:
        print(f"check-dist: FAILED: {exc}", file=sys.stderr)
        return 1
    finally:
        if args.keep:
            log(f"kept {work}")
        else:
            shutil.rmtree(work, ignore_errors=True)
    log(f"all checks passed in {time.perf_counter() - t0:.0f} s")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
