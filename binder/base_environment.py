"""The Python packages of repo2docker's base environment, as pip requirements.

Binder builds the image with repo2docker. For a repository with ``binder/requirements.txt`` and
``binder/runtime.txt`` it uses the conda buildpack: a conda environment from repo2docker's own lock
file (``buildpacks/conda/environment.py-<python>-linux-64.lock``, with JupyterLab, notebook,
jupyterhub-singleuser, ipywidgets, ...), into which pip then installs ``binder/requirements.txt``.
``binder/check`` rebuilds that base environment in a plain venv: this script reads the lock file
of the installed repo2docker release and prints one ``name==version`` line per Python package,
mapping the few conda names that differ from PyPI's. Libraries that are not Python packages
(openssl, nodejs, ...) are left out; so is ``python`` itself (the venv's Python is checked to
have the same minor version).

Run: ``python binder/base_environment.py [--python 3.12]`` with repo2docker installed.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path

# conda-forge name -> PyPI name, where they differ; None: no PyPI package of its own
CONDA_TO_PYPI = {
    "brotli-python": "brotli",
    "jupyterhub-base": "jupyterhub",
    "nbconvert-core": "nbconvert",
    "python-fastjsonschema": "fastjsonschema",
    "cpython": None,
    "python": None,
    "python_abi": None,
    "python-gil": None,
    "_python_abi3_support": None,
}
# meta packages that only pull in others (their PyPI names would install extras)
META = {
    "jupyterhub-singleuser",
    "bleach-with-css",
    "jsonschema-with-format-nongpl",
    "typing-extensions",  # conda's meta package over typing_extensions
    "cached-property",  # conda's meta package over cached_property
}


def lock_file(python: str) -> Path:
    """The repo2docker conda lock file for ``python`` (``"3.12"``) on linux-64."""
    try:
        import repo2docker
    except ImportError as error:
        raise SystemExit(
            "repo2docker is not installed here: pip install jupyter-repo2docker"
        ) from error
    path = (
        Path(repo2docker.__file__).parent
        / f"buildpacks/conda/environment.py-{python}-linux-64.lock"
    )
    if not path.exists():
        raise SystemExit(f"repo2docker has no lock file for Python {python}: {path}")
    return path


def requirements(lock: Path) -> list[str]:
    """``name==version`` of every Python package in a conda explicit lock file."""
    lines = []
    for line in lock.read_text().splitlines():
        if not line.startswith("http"):
            continue
        file = line.split("#", 1)[0].rsplit("/", 1)[1]
        stem = file.removesuffix(".conda").removesuffix(".tar.bz2")
        name, version, build = stem.rsplit("-", 2)
        if name in META:
            continue
        if name in CONDA_TO_PYPI:
            name = CONDA_TO_PYPI[name]
            if name is None:
                continue
        elif not build.startswith("py"):  # a library, not a Python package
            continue
        lines.append(f"{name}=={version}")
    return sorted(lines, key=str.lower)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--python", default=f"{sys.version_info.major}.{sys.version_info.minor}")
    args = parser.parse_args()
    lock = lock_file(args.python)
    import repo2docker

    print(f"# repo2docker {repo2docker.__version__}: {lock.name}")
    print("\n".join(requirements(lock)))


if __name__ == "__main__":
    main()
