"""Package discovery only (everything else is in pyproject.toml): every package under audit/ is
found, so adding a subpackage needs no edit of the build configuration, plus the two top-level
folders that ship inside the package (templates/ and policies/, mapped in pyproject.toml)."""

from setuptools import find_packages, setup

setup(packages=[*find_packages(include=["audit", "audit.*"]), "audit.templates", "audit.policies"])
