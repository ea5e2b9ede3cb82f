"""Manifests (admin only): validate, plan and apply the whole network, like ``microfab validate|apply DIR``.

The body is every manifest of the desired network, as one of:

- ``application/yaml`` (or ``text/yaml``, ``application/x-yaml``, ``text/x-yaml``): one multi-document
  stream, named ``manifests.yaml`` in error positions;
- ``multipart/form-data``: one file part per manifest file, any field name (``files`` by convention);
  each part's filename, which may hold folders (``modules/ohio.yaml``), names it in error positions.

Invalid manifests are a 422 problem listing every error at once with its file, line, column and field.
``plan`` answers the changes with an ``ETag`` naming the network version it was made against; ``apply``
with that ETag in ``If-Match`` records only if the network has not changed since (412 otherwise).
Bodies are bounded by the app's request size limit (`ApiSettings.max_body_bytes`).
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Sequence
from typing import Annotated, Any, Final

from fastapi import APIRouter, Header, Request, Response
from fastapi.responses import JSONResponse
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from microfab.api.deps import Admin, LockDep, ServicesDep
from microfab.api.problems import MEDIA_TYPE, Problem, documented
from microfab.api.schemas import (
    ManifestApplyPublic,
    ManifestChangePublic,
    ManifestPlanPublic,
    ManifestProblemPublic,
    ManifestValidationPublic,
    ModuleRetiredPublic,
)
from microfab.control import operations
from microfab.control.apply import ApplyPlan
from microfab.domain.network import Network
from microfab.manifests import ManifestError, ManifestErrors, Resource
from microfab.manifests.guard import MAX_VALUES as MAX_NODES
from microfab.manifests.guard import yaml_size
from microfab.manifests.mapping import assemble
from microfab.manifests.yaml_source import ParseResult, parse_text
from microfab.store.base import ConcurrencyError

router = APIRouter(prefix="/v1/manifests", tags=["manifests"])

YAML_TYPES: Final = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
SINGLE_FILE: Final = "manifests.yaml"
ORIGIN: Final = "<request>"  # where problems of the network as a whole (no Network document) are placed
MAX_FILES: Final = 1000

IfMatch = Annotated[
    str | None,
    Header(
        alias="If-Match",
        max_length=200,
        description="The ETag of a plan: apply only if the network has not changed since (412 otherwise).",
    ),
]

_YAML_BODY = {"type": "string", "description": "One or more YAML documents separated by '---'."}
_FORM_BODY = {
    "type": "object",
    "properties": {
        "files": {
            "type": "array",
            "items": {"type": "string", "format": "binary"},
            "description": "One part per file; its filename (folders allowed) names it in error positions.",
        }
    },
}
_BODY: dict[str, Any] = {
    "requestBody": {
        "required": True,
        "description": "Every manifest of the desired network (what is left out is deleted by apply).",
        "content": {
            **{media: {"schema": _YAML_BODY} for media in YAML_TYPES},
            "multipart/form-data": {"schema": _FORM_BODY},
        },
    }
}
_ETAG = {
    "ETag": {"description": "The network version the response is about, for If-Match.", "schema": {"type": "string"}}
}
_INVALID: dict[int | str, dict[str, Any]] = {
    422: {
        "model": ManifestProblemPublic,
        "description": "Invalid manifests: every error with its file, line, column and field",
        "content": {MEDIA_TYPE: {"schema": {"$ref": "#/components/schemas/ManifestProblemPublic"}}},
    },
    415: {**documented(415)[415], "description": "The body is neither YAML nor multipart/form-data"},
}


@router.post("/validate", response_model=ManifestValidationPublic, openapi_extra=_BODY, responses=_INVALID)
async def validate(request: Request, _: Admin) -> Any:
    """Check the manifests as a whole network, like ``microfab validate``; the log is neither read nor written."""
    read = await _read(request)
    if isinstance(read, JSONResponse):
        return read
    resources, network = read
    return ManifestValidationPublic(
        valid=True,
        network=network.name,
        counts=dict(sorted(Counter(r.kind for r in resources).items())),
        modules=len(network.modules),
    )


@router.post(
    "/plan",
    response_model=ManifestPlanPublic,
    openapi_extra=_BODY,
    responses={**_INVALID, 200: {"description": "The plan; nothing is recorded", "headers": _ETAG}},
)
async def plan(request: Request, response: Response, services: ServicesDep, lock: LockDep, _: Admin) -> Any:
    """What ``apply`` would create, change, delete, deploy and retire, like ``microfab apply --dry-run``.

    The ``ETag`` names the network version the plan was made against: send it as ``If-Match`` to apply.
    """
    read = await _read(request)
    if isinstance(read, JSONResponse):
        return read
    async with lock:
        services.state.catch_up(services.log)
        try:
            planned = operations.plan_apply(services, read[0])
        except ManifestErrors as exc:
            return _invalid(request, exc)
    response.headers["ETag"] = _etag(planned.base_version)
    return _plan(planned)


@router.post(
    "/apply",
    response_model=ManifestApplyPublic,
    status_code=201,
    openapi_extra=_BODY,
    responses={
        **_INVALID,
        409: {**documented(409)[409], "description": "Another apply was recorded meanwhile (no If-Match)"},
        412: {**documented(412)[412], "description": "The network changed since the plan named in If-Match"},
        200: {"model": ManifestApplyPublic, "description": "Nothing differs: nothing recorded", "headers": _ETAG},
        201: {"description": "The changes were recorded", "headers": _ETAG},
    },
)
async def apply(
    request: Request, response: Response, services: ServicesDep, lock: LockDep, _: Admin, if_match: IfMatch = None
) -> Any:
    """Record the changes that turn the applied network into the declared one, like ``microfab apply``.

    Without ``If-Match`` the manifests are applied to the network as it is now. With the ``ETag`` of a
    plan, only if the network is still at that version: 412 otherwise (plan again and review).
    """
    read = await _read(request)
    if isinstance(read, JSONResponse):
        return read
    async with lock:
        services.state.catch_up(services.log)
        current = services.state.network_version
        if if_match is not None and not _matches(if_match, current):
            raise _changed(if_match, current)
        try:
            planned = operations.plan_apply(services, read[0])
        except ManifestErrors as exc:
            return _invalid(request, exc)
        try:
            events = operations.apply_plan(services, planned)
        except ConcurrencyError:  # another process applied between the catch-up and the append
            services.state.catch_up(services.log)
            if if_match is not None:
                raise _changed(if_match, services.state.network_version) from None
            raise Problem(409, "Conflict", "the network changed while applying; nothing was recorded") from None
        version = services.state.network_version
    response.status_code = 201 if events else 200
    response.headers["ETag"] = _etag(version)
    return ManifestApplyPublic(**_plan(planned).model_dump(), applied=bool(events), events=len(events), version=version)


async def _read(request: Request) -> tuple[list[Resource], Network] | JSONResponse:
    """The resources of the body and the network they build, or the 422 listing every error."""
    files = await _files(request)
    try:
        return await run_in_threadpool(_load, files)
    except ManifestErrors as exc:
        return _invalid(request, exc)


async def _files(request: Request) -> list[tuple[str, bytes]]:
    """``(name, content)`` of each manifest file in the body (415 when it is neither YAML nor a form)."""
    media = request.headers.get("content-type", "").partition(";")[0].strip().lower()
    if media in YAML_TYPES:
        return [(SINGLE_FILE, await request.body())]
    if media != "multipart/form-data":
        raise Problem(
            415,
            "Unsupported media type",
            f"send the manifests as application/yaml or multipart/form-data, not {media or 'an untyped body'}",
        )
    files: list[tuple[str, bytes]] = []
    async with request.form(max_files=MAX_FILES, max_fields=MAX_FILES) as form:
        for key, value in form.multi_items():
            if not isinstance(value, UploadFile):
                raise Problem(
                    422,
                    "Invalid request",
                    f"form field {key!r} is not a file: send each manifest file as a file part",
                    errors=[{"field": f"body.{key}", "message": "expected a file part (with a filename)"}],
                )
            files.append((value.filename or key, await value.read()))
    return files


def _load(files: Sequence[tuple[str, bytes]]) -> tuple[list[Resource], Network]:
    """Read and check the files as `load_resources` and `build_network` do a folder: every error at once."""
    parsed = ParseResult()
    seen: set[str] = set()
    budget = MAX_NODES
    for name, content in files:
        if name in seen:
            parsed.errors.append(ManifestError(name, 0, 0, "", "sent twice: each file needs its own name"))
            continue
        seen.add(name)
        try:
            text = content.decode("utf-8")
        except UnicodeDecodeError as exc:
            parsed.errors.append(ManifestError(name, 0, 0, "", f"cannot read the file: {exc}"))
            continue
        too_big = yaml_size(text, name, budget, limit=MAX_NODES)
        if isinstance(too_big, ManifestError):
            parsed.errors.append(too_big)
            continue
        budget -= too_big
        parsed.extend(parse_text(text, name))
    network = assemble(parsed.resources, declared=parsed.declared, earlier=parsed.errors, origin=ORIGIN)
    return parsed.resources, network


def _invalid(request: Request, errors: ManifestErrors) -> JSONResponse:
    """The 422 problem listing every manifest error with its file, line, column and field."""
    listed = [
        {"file": e.file, "line": e.line, "column": e.column, "field": e.field, "message": e.message}
        for e in errors.errors
    ]
    body = {
        "type": "https://microfab.dev/problems/invalid-manifests",
        "title": "Invalid manifests",
        "status": 422,
        "detail": f"{len(listed)} error(s); the first: {errors.errors[0]}" if listed else "invalid manifests",
        "instance": request.url.path,
        "errors": listed,
    }
    return JSONResponse(body, status_code=422, media_type=MEDIA_TYPE)


def _plan(planned: ApplyPlan) -> ManifestPlanPublic:
    return ManifestPlanPublic(
        base_version=planned.base_version,
        empty=planned.empty,
        changes=[ManifestChangePublic(kind=c.kind, name=c.name, action=c.action.value) for c in planned.changes],
        unchanged=planned.unchanged,
        deploy=list(planned.deployed),
        retire=[ModuleRetiredPublic(module=m, site=s) for m, s in planned.retired],
    )


def _etag(version: int) -> str:
    return f'"network-{version}"'


def _matches(if_match: str, version: int) -> bool:
    """RFC 9110 If-Match: ``*`` (a network exists) or a list of strong tags, one of them the current one."""
    tags = [tag.strip() for tag in if_match.split(",")]
    return (version > 0 and "*" in tags) or _etag(version) in tags


def _changed(if_match: str, version: int) -> Problem:
    return Problem(
        412,
        "Precondition failed",
        f"the network changed since the plan (If-Match {if_match}, now {_etag(version)}): plan again",
        errors=[{"field": "header.If-Match", "message": f"the network is now at {_etag(version)}"}],
        headers={"ETag": _etag(version)},
    )
