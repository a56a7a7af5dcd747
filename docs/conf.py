"""Sphinx configuration of the dmfsharp & mcvd documentation (one site, a section per library).

Build: ``make docs`` (warnings are errors) into ``out/docs/html``. The API pages and the
command-line pages are written at the start of every build from the packages themselves
(``_ext/apigen.py``); the gallery examples (``examples/<library>/plot_*.py``) run and check
their numbers during the build.
"""

from __future__ import annotations

import os
import re
import sys
import warnings
from pathlib import Path

import sphinx.ext.autosummary

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
# Document the libraries of this checkout, whatever is installed in the environment.
for src in (ROOT / "packages" / "mcvd" / "src", ROOT / "packages" / "dmfsharp" / "src"):
    sys.path.insert(0, str(src))
sys.path.insert(0, str(HERE / "_ext"))
os.environ.setdefault("MPLBACKEND", "Agg")

import apigen  # noqa: E402
import benchgen  # noqa: E402
import dmfsharp  # noqa: E402
import mcvd  # noqa: E402
from dmfsharp.cli import build_parser as dmfsharp_parser  # noqa: E402
from mcvd.cli.main import build_parser as mcvd_parser  # noqa: E402

# -- project ---------------------------------------------------------------------------------
project = "dmfsharp & mcvd"
author = "the dmfsharp and mcvd maintainers"
copyright = f"2025-2026, {author}"
if dmfsharp.__version__ != mcvd.__version__:
    raise RuntimeError("the two libraries are released together with one version number")
version = release = dmfsharp.__version__

extensions = [
    "sphinx.ext.autodoc",
    "sphinx.ext.autosummary",
    "sphinx.ext.mathjax",
    "sphinx-mathjax-offline",  # MathJax shipped with the site: equations render offline
    "numpydoc",
    "myst_parser",
    "sphinx_copybutton",
    "sphinx_gallery.gen_gallery",
]
source_suffix = {".rst": "restructuredtext", ".md": "markdown"}
root_doc = "index"
templates_path = ["_templates"]
exclude_patterns = [
    "_build",
    "README.md",
    "examples",
    "_generated",
    "**/gallery/*.md5",
    "**/gallery/*.py",
]
default_role = "code"
pygments_style = "sphinx"
suppress_warnings = []

# -- API pages, generated from the packages ----------------------------------------------------
ALIASES: dict[str, str] = {}
ALIASES |= apigen.write_api(
    "dmfsharp",
    HERE / "api" / "dmfsharp",
    intro=(
        "Every public name of ``dmfsharp``, one page per module. The names most code needs are "
        "exported by the package itself (``import dmfsharp as dmf``; ``dmf.sharpness``): they "
        "are documented in the module that defines them, and each page says so."
    ),
    cli=("dmfsharp", dmfsharp_parser()),
)
ALIASES |= apigen.write_api(
    "mcvd",
    HERE / "api" / "mcvd",
    intro=(
        "Every public name of ``mcvd``, one page per module, grouped by layer (each layer "
        "imports only the layers above it in this list). The names most code needs are "
        "exported by the package itself (``import mcvd``; ``mcvd.response``): they are "
        "documented in the module that defines them, and each page says so."
    ),
    groups={
        "mcvd.core": "Layer 0: ``mcvd.core`` — geometry, scenarios, models and maths",
        "mcvd.examples": "Layer 0: ``mcvd.examples`` — the shipped example scenarios",
        "mcvd.sim": "Layer 1: ``mcvd.sim`` — particle simulators",
        "mcvd.comm": "Layer 2: ``mcvd.comm`` — communication over the channel",
        "mcvd.studies": "Layer 3: ``mcvd.studies`` — accuracy map, cross-checks, paper studies",
        "mcvd.cli": "Layer 4: ``mcvd.cli`` — the command line",
    },
    cli=("mcvd", mcvd_parser()),
)
_ALIASES_OF: dict[str, list[str]] = {}
for _alias, _full in sorted(ALIASES.items()):
    if _alias.count(".") == 1:  # top-level names only: what users type
        _ALIASES_OF.setdefault(_full, []).append(_alias)

# -- validation and benchmark pages: excerpts of the READMEs and the benchmark scripts --------
benchgen.readme_results(ROOT / "README.md", HERE / "_generated" / "results.md")
benchgen.write_benchmarks(ROOT, HERE / "_generated" / "benchmarks.md")

# autosummary's one-line summaries end at the first ". "; the last dot of an ellipsis inside a
# literal (``W_L ... W_1``) is no sentence end.
sphinx.ext.autosummary.periods_re = re.compile(r"(?<!\.)\.(?:\s+)")
# the generated module pages, listed explicitly: an incremental build does not know new ones yet
autosummary_generate = sorted(str(p.relative_to(HERE)) for p in (HERE / "api").glob("*/*.rst"))
autosummary_generate_overwrite = True
autosummary_imported_members = False
autosummary_context = {"aliases_of": _ALIASES_OF}
autodoc_typehints = "none"
autodoc_member_order = "bysource"
autodoc_default_options = {"show-inheritance": False}
autodoc_inherit_docstrings = False

numpydoc_show_class_members = False  # the class template lists the members itself
numpydoc_class_members_toctree = False
numpydoc_xref_param_type = True  # parameter types link to the classes documented here
# numpydoc's default links for these go to the Python and NumPy documentation through
# intersphinx, which needs the network; here they stay plain words ("float", not "python:float").
_GLOSSARY_WORDS = (
    "bool",
    "boolean",
    "iterable",
    "sequence",
    "generator",
    "array-like",
    "array_like",
    "scalar",
    "None",
    "True",
    "False",
    "list",
    "tuple",
    "str",
    "string",
    "dict",
    "float",
    "int",
    "callable",
    "contextmanager",
    "namedtuple",
    "array",
    "ndarray",
    "np.ndarray",
    "RandomState",
    "np.random.RandomState",
    "np.inf",
    "np.nan",
    "numpy",
)
numpydoc_xref_aliases = {w: w for w in _GLOSSARY_WORDS} | apigen.type_aliases("dmfsharp", "mcvd")
numpydoc_xref_ignore = {"optional", "default", "or", "of", "shape", "type_without_description"}
numpydoc_validation_checks: set[str] = set()  # rendering only; no docstring style checks here
numpydoc_attributes_as_param_list = True

# -- maths, markdown --------------------------------------------------------------------------
myst_enable_extensions = ["dollarmath", "amsmath", "colon_fence", "deflist"]
myst_heading_anchors = 3
mathjax3_config = {"tex": {"macros": {"R": r"\mathbb{R}", "E": r"\mathbb{E}"}}}

# -- example gallery ------------------------------------------------------------------------
sphinx_gallery_conf = {
    "examples_dirs": ["examples/dmfsharp", "examples/mcvd"],
    "gallery_dirs": ["gallery/dmfsharp", "gallery/mcvd"],
    "filename_pattern": r"/plot_",  # every example runs at build time
    "within_subsection_order": "sg_helpers.example_order",
    "image_scrapers": ("sg_helpers.scraper",),
    "download_all_examples": False,
    "remove_config_comments": True,
    "show_memory": False,
    "reset_modules": ("matplotlib",),
    "min_reported_time": 1,
    "abort_on_example_error": False,  # run every example, then fail the build on any error
    "only_warn_on_example_error": False,
    "matplotlib_animations": False,
    "image_srcset": [],
    "default_thumb_file": None,
    "thumbnail_size": (320, 224),
}
warnings.filterwarnings("ignore", category=UserWarning, message="Matplotlib is currently using agg")

# -- HTML -----------------------------------------------------------------------------------
html_theme = "pydata_sphinx_theme"
html_title = f"dmfsharp & mcvd {release}"
html_static_path = ["_static"]
html_css_files = ["custom.css"]
html_show_sourcelink = False
html_copy_source = False
html_last_updated_fmt = None
html_theme_options = {
    "navbar_align": "left",
    "header_links_before_dropdown": 7,
    "show_toc_level": 2,
    "navigation_depth": 3,
    "show_nav_level": 1,
    "navigation_with_keys": False,
    "secondary_sidebar_items": ["page-toc"],
    "footer_start": ["copyright"],
    "footer_end": ["sphinx-version"],
    "icon_links": [],
    "logo": {"text": "dmfsharp & mcvd"},
}
# no section navigation on pages that have no sub-pages
html_sidebars = {page: [] for page in ("index", "getting_started", "validation", "benchmarks")}
html_context = {"default_mode": "light"}


def setup(app):
    app.connect("missing-reference", apigen.resolve_alias(ALIASES))
