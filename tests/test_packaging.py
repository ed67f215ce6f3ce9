"""The oldest Python the project admits: setup.py's python_requires is what the packages pinned in
requirements.txt need (no lower: the pins would not install; no higher than needed), and
requirements.txt and README.md say the same version."""
import ast
import importlib.metadata
import re
from pathlib import Path

from packaging.specifiers import SpecifierSet
from packaging.version import Version

ROOT = Path(__file__).resolve().parent.parent


def python_requires() -> SpecifierSet:
    """setup.py's python_requires, read from its text (setup() is not run)."""
    tree = ast.parse((ROOT / "setup.py").read_text(encoding="utf-8"))
    found = [kw.value.value for node in ast.walk(tree) if isinstance(node, ast.Call)
             for kw in node.keywords if kw.arg == "python_requires"]
    assert len(found) == 1, found
    return SpecifierSet(found[0])


def lowest_minor(spec: SpecifierSet) -> Version:
    """The lowest Python 3.x that ``spec`` admits."""
    admitted = [Version(f"3.{minor}") for minor in range(40) if Version(f"3.{minor}") in spec]
    assert admitted, f"python_requires {spec} admits no Python 3.x"
    return admitted[0]


def pins() -> dict[str, str]:
    """The packages pinned in requirements.txt: name -> version."""
    out = {}
    for line in (ROOT / "requirements.txt").read_text(encoding="utf-8").splitlines():
        match = re.match(r"([A-Za-z0-9_.\-]+)==(\S+)", line.strip())
        if match:
            out[match[1]] = match[2]
    assert len(out) > 10, out
    return out


def test_python_requires_is_the_lowest_python_every_pinned_package_admits():
    lowest = lowest_minor(python_requires())
    below = Version(f"{lowest.major}.{lowest.minor - 1}")
    rejecting_below = []
    for name, version in pins().items():
        dist = importlib.metadata.distribution(name)
        assert dist.version == version, f"{name} {dist.version} is installed, requirements.txt pins {version}"
        requires = SpecifierSet(dist.metadata.get("Requires-Python") or "")
        assert lowest in requires, f"{name}=={version} needs Python {requires}; setup.py admits {lowest}"
        if not any(Version(f"{below}.{patch}") in requires for patch in (0, 99)):
            rejecting_below.append(name)
    # tight: Python `below` cannot install the pins
    assert rejecting_below, f"every pinned package admits Python {below}: python_requires could say {below}"


def test_requirements_and_readme_name_the_same_python():
    lowest = lowest_minor(python_requires())
    comments = re.findall(r"Python >= (\d+\.\d+)", (ROOT / "requirements.txt").read_text(encoding="utf-8"))
    assert comments == [str(lowest)], comments
    phrase = f"Python {lowest} or newer"
    assert phrase in (ROOT / "README.md").read_text(encoding="utf-8"), f"README.md must say {phrase!r}"
