"""FHIR R4 Bundle (mCODE STU4 style) -> a contract-1 case, with the resource behind every fact.

Resources are parsed with the maintained `fhir.resources` R4B models (the R5 default rejects a third of
the published mCODE examples). Only the resource types rectoplan reads are parsed; every resource in the
bundle ends up in exactly one of three places, so nothing is dropped silently: `used` (it gave a fact),
`ignored` (why it does not matter to rectoplan) or `issues` (it matters but could not be interpreted, or
it conflicts with another one). Codes come from the cited table in `fhir_codes`; displays are never read
to recognise a gene, a site or a test. Unknown stays unknown: nothing is filled in from absence.

Modules, one job each: `parse` (Bundle entries -> R4B models; loose resources -> a Bundle), `bundle`
(patient selection, the mapping walk, the case's assembly), `reader` (the state and bookkeeping shared by
the readers), `conditions`, `observations` and `treatments` (one reader per kind of resource; `labs`,
`response` and `liquid` read lab values, tumour response and liquid biopsies for `observations`), `values`
(dates and codings read the same way everywhere). `rectoplan.adapters.fhir_mcode` re-exports this API.
"""

from rectoplan.adapters.fhir.bundle import FhirImport, case_from_bundle
from rectoplan.adapters.fhir.parse import bundle_of, parse_resource, shared_parses

__all__ = ["FhirImport", "bundle_of", "case_from_bundle", "parse_resource", "shared_parses"]
