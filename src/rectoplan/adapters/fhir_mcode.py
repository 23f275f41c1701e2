"""The stable import path of the FHIR R4 / mCODE Bundle importer (now the `rectoplan.adapters.fhir` package).

The CLI, the CDS Hooks service, the cohort's FHIR bulk reader, the docs and the tests name this module;
it re-exports the importer's public names so they keep working unchanged. The code lives in the package,
split into small modules by job (see its docstring).
"""

from rectoplan.adapters.fhir.bundle import FhirImport, case_from_bundle
from rectoplan.adapters.fhir.conditions import RELATED
from rectoplan.adapters.fhir.parse import OBSERVATION_CODES, READ_TYPES, bundle_of, parse_resource, shared_parses
from rectoplan.adapters.fhir.treatments import LINE_WINDOW

__all__ = [
    "LINE_WINDOW",
    "OBSERVATION_CODES",
    "READ_TYPES",
    "RELATED",
    "FhirImport",
    "bundle_of",
    "case_from_bundle",
    "parse_resource",
    "shared_parses",
]
