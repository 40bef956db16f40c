"""``/v1/contracts``: the canonical contracts this hub enforces, with schemas and examples."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import APIRouter, Path, Request, Security

from hub.clients.security import require
from hub.clients.service import Principal
from hub.contracts.registry import ContractFamily, ContractVersion
from hub.contracts.schemas import FamilyList, FamilySummary, VersionDetail
from hub.errors import NotFound
from hub.governance.gate import check_candidate
from hub.governance.schemas import CompatibilityRequest, CompatibilityVerdict
from hub.openapi import problems
from hub.state import hub_state

router = APIRouter(prefix="/v1/contracts", tags=["contracts"])

AnyClient = Annotated[Principal, Security(require(None))]
FamilyName = Annotated[str, Path(max_length=64)]


def _version_summary(version: ContractVersion) -> dict[str, Any]:
    return {
        "version": version.version,
        "dataschema": version.dataschema,
        "lifecycle": version.lifecycle.value,
        "sunset": version.deprecation.sunset if version.deprecation else None,
        "events": list(version.events),
    }


def _family_summary(family: ContractFamily) -> dict[str, Any]:
    return {
        "family": family.name,
        "owner": family.policy.owner.model_dump() if family.policy else None,
        "events": list(family.events),
        "versions": [_version_summary(v) for v in family.versions.values()],
    }


def _family(request: Request, name: str) -> ContractFamily:
    family = hub_state(request).registry.families.get(name)
    if family is None:
        raise NotFound(f"no contract family {name!r}")
    return family


@router.get(
    "", summary="Every contract family", response_model=FamilyList, responses=problems(401, 403)
)
def list_contracts(request: Request, _principal: AnyClient) -> dict[str, Any]:
    families = hub_state(request).registry.families.values()
    return {"items": [_family_summary(f) for f in families]}


@router.get(
    "/{family}",
    summary="One contract family and its versions",
    response_model=FamilySummary,
    responses=problems(401, 403, 404),
)
def get_family(request: Request, family: FamilyName, _principal: AnyClient) -> dict[str, Any]:
    return _family_summary(_family(request, family))


@router.get(
    "/{family}/versions/{version}",
    summary="One contract version: its JSON Schema and examples",
    response_model=VersionDetail,
    response_model_by_alias=True,
    responses=problems(401, 403, 404),
)
def get_version(
    request: Request,
    family: FamilyName,
    version: Annotated[str, Path(max_length=16)],
    _principal: AnyClient,
) -> dict[str, Any]:
    found = _family(request, family).versions.get(version)
    if found is None:
        raise NotFound(f"{family} has no version {version!r}")
    return {
        **_version_summary(found),
        "family": found.family,
        "schema": found.schema,
        "examples": [
            {
                "name": e.name,
                "valid": e.valid,
                "description": e.description,
                "event": e.event,
                "violations": list(e.violations),
            }
            for e in found.examples
        ],
    }


@router.post(
    "/{family}/compatibility",
    summary="Check a candidate schema against the family's versions",
    description=(
        "The compatibility gate: compares the candidate with the earlier versions of its major "
        "under the family's compatibility mode (governance/contracts/<family>.yaml) and answers "
        "a verdict with one explanation per change. Changes nothing; any key may ask. "
        "See docs/governance.md."
    ),
    response_model=CompatibilityVerdict,
    responses=problems(401, 403, 404, 422),
)
def check_compatibility(
    request: Request, family: FamilyName, body: CompatibilityRequest, _principal: AnyClient
) -> dict[str, Any]:
    return check_candidate(_family(request, family), body.schema_, body.version).as_dict()
