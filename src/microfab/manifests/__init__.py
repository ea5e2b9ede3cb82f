"""Factory as code: read the network's YAML manifests into the domain, with errors at file:line:field.

A network is a folder of YAML files in the Kubernetes style (``apiVersion: microfab.dev/v1``,
``kind``, ``metadata.name``, ``spec``; many documents per file). `load_resources` reads them
into `Resource` objects (what ``apply`` stores and compares by digest), `build_network` turns
resources into a domain `~microfab.domain.network.Network`, and `load_network` does both. Each
raises one `ManifestErrors` listing every problem of every file, sorted by file then line: when
`load_resources` finds a broken document it also checks everything else it could read, so an
operator fixes a folder in one pass whichever entry point reported it.

Examples
--------
>>> from pathlib import Path
>>> network = load_network(Path("examples/network"))  # doctest: +SKIP
>>> sorted(network.sites)  # doctest: +SKIP
['bavaria', 'japan', 'monterrey', 'ohio', 'vietnam']
"""

from __future__ import annotations

from pathlib import Path

from microfab.domain.network import Network
from microfab.manifests.errors import ManifestError, ManifestErrors
from microfab.manifests.mapping import assemble, build_network, build_product
from microfab.manifests.references import catalog_of
from microfab.manifests.resources import API_VERSION, KINDS, Resource, digest_of
from microfab.manifests.validation import Report
from microfab.manifests.yaml_source import ParseResult, parse_path

__all__ = [
    "API_VERSION",
    "KINDS",
    "ManifestError",
    "ManifestErrors",
    "Resource",
    "build_network",
    "build_product",
    "digest_of",
    "load_network",
    "load_resources",
]


def load_resources(path: Path) -> list[Resource]:
    """Read the resources of a folder (every ``*.yaml`` / ``*.yml`` below it, sorted) or of one file.

    Parameters
    ----------
    path
        A folder or a single manifest file.

    Returns
    -------
    list[Resource]
        The resources in file order, then document order; each carries the line of every field.

    Raises
    ------
    ManifestErrors
        When any file has a YAML syntax error or an envelope problem (mapping shape, ``apiVersion``,
        ``kind``, ``metadata.name``, ``spec`` not a mapping) or a kind and name are declared twice.
        The exception then lists those together with every spec and reference error of the
        documents that could be read, as `build_network` would, so one pass fixes the folder.
    """
    parsed = parse_path(path)
    report = Report()
    report.add(parsed.errors)
    catalog_of(parsed.resources, parsed.declared, report)
    if report.errors:
        raise _every_error(parsed, path)
    return parsed.resources


def load_network(path: Path) -> Network:
    """Read a folder (or one file) of manifests and build the network: `load_resources` then `build_network`.

    Raises
    ------
    ManifestErrors
        Every problem of every file, sorted by file then line.
    """
    parsed = parse_path(path)
    if parsed.errors:
        raise _every_error(parsed, path)
    return build_network(parsed.resources)


def _every_error(parsed: ParseResult, path: Path) -> ManifestErrors:
    """The envelope errors of *parsed* with the spec and reference errors of the resources it holds."""
    if not path.exists():
        return ManifestErrors(parsed.errors)
    try:
        assemble(parsed.resources, declared=parsed.declared, earlier=parsed.errors, origin=str(path))
    except ManifestErrors as errors:
        return errors
    return ManifestErrors(parsed.errors)  # pragma: no cover - assemble raises when given earlier errors
