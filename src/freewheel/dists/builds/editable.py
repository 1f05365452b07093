"""Building a local project into a wheel through its PEP 517 backend.

Only editable builds (PEP 660) are needed so far, for ``pip install -e``.
The backend runs in an isolated environment holding just the project's
build requirements, as ``build`` sets it up.
"""

from __future__ import annotations

from pathlib import Path

from freewheel.errors import FreewheelError, UsageError


class BuildError(FreewheelError):
    """A project's build backend failed or could not be set up."""


def check_project(path: Path) -> Path:
    """*path* as a project directory, or a clear error."""
    project = path.resolve()
    if not project.is_dir() or not (
        (project / "pyproject.toml").is_file() or (project / "setup.py").is_file()
    ):
        raise UsageError(
            f"{path} is not a Python project directory: it has no pyproject.toml or setup.py."
        )
    return project


def build_editable(project: Path, out_dir: Path) -> Path:
    """Build an editable wheel of *project* into *out_dir*; return its path."""
    import build
    import build.env

    try:
        with build.env.DefaultIsolatedEnv() as env:
            builder = build.ProjectBuilder.from_isolated_env(env, project)
            env.install(builder.build_system_requires)
            env.install(builder.get_requires_for_build("editable"))
            return Path(builder.build("editable", out_dir))
    except build.BuildBackendException as error:
        raise BuildError(
            f"The build backend of {project} failed to build an editable wheel: {error.exception}."
        ) from None
    except (build.BuildException, OSError) as error:
        raise BuildError(f"Could not build {project} for an editable install: {error}.") from None
