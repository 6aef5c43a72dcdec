"""Write generated/ from spec/openapi.yaml, or check that generated/ is what a fresh run writes.

    python codegen/generate.py           regenerate rivya_models and rivya-client
    python codegen/generate.py --check   exit 1, listing the differences, when generated/ is stale

Both generators are pinned in pyproject.toml's dev extra, and their output carries no timestamp,
so the same spec always gives the same files.
"""

from __future__ import annotations

import argparse
import filecmp
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
SPEC = ROOT / "spec" / "openapi.yaml"
GENERATED = ROOT / "generated"
CLIENT_CONFIG = ROOT / "codegen" / "openapi-python-client.yaml"
MODELS_INIT = (
    '"""Pydantic models of the Rivya API v1 contract, generated from spec/openapi.yaml."""\n'
)


def generate(out: Path) -> None:
    """Write both generated trees into `out` (which must exist and be empty)."""
    models = out / "rivya_models"
    models.mkdir()
    (models / "__init__.py").write_text(MODELS_INIT)
    (models / "py.typed").write_text("")
    # datamodel-codegen reads its settings from [tool.datamodel-codegen] in ROOT/pyproject.toml.
    subprocess.run(
        ["datamodel-codegen", "--input", str(SPEC), "--output", str(models / "models.py")],
        cwd=ROOT,
        check=True,
    )
    subprocess.run(
        [
            "openapi-python-client",
            "generate",
            "--path",
            str(SPEC),
            "--config",
            str(CLIENT_CONFIG),
            "--meta",
            "pdm",
            "--output-path",
            str(out / "rivya-client"),
        ],
        cwd=out,
        check=True,
        stdout=subprocess.DEVNULL,
    )


def differences(left: Path, right: Path) -> list[str]:
    """Relative paths that differ, or exist on one side only, between two trees."""
    found: list[str] = []

    def walk(cmp: filecmp.dircmp[str], prefix: str) -> None:
        found.extend(prefix + name for name in cmp.left_only + cmp.right_only + cmp.diff_files)
        found.extend(prefix + name for name in cmp.funny_files)
        for name, sub in cmp.subdirs.items():
            walk(sub, f"{prefix}{name}/")

    # Build leftovers of an editable install of the client are not generated code.
    ignore = ["__pycache__", ".ruff_cache", ".mypy_cache", ".pdm-build", "*.egg-info"]
    walk(filecmp.dircmp(left, right, ignore=ignore), "")
    return sorted(found)


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true", help="compare instead of writing")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        fresh = Path(tmp) / "generated"
        fresh.mkdir()
        generate(fresh)
        if args.check:
            stale = differences(fresh, GENERATED)
            if stale:
                print("generated/ differs from a fresh run of `nox -s codegen`:", file=sys.stderr)
                for name in stale:
                    print(f"  {name}", file=sys.stderr)
                return 1
            print("generated/ is up to date")
            return 0
        for child in fresh.iterdir():
            target = GENERATED / child.name
            if target.exists():
                shutil.rmtree(target)
            shutil.copytree(child, target)
        print(f"wrote {', '.join(sorted(p.name for p in fresh.iterdir()))} under generated/")
    return 0


if __name__ == "__main__":
    sys.exit(main())
