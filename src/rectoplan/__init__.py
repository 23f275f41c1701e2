"""rectoplan: decision support for stage 4 or recurrent rectal cancer.

Supports the care team's decision and never replaces it. The public API is the names of `__all__`
(`tests/test_public_api.py` holds it to a declared list): `recommend` and friends for one case,
`run_cohort` for a whole registry, `verify_knowledge` and `why_not_offered` for proofs and 'why not X?',
the case and recommendation types and the errors. Every other module is an implementation detail that
may change without notice.
"""

from rectoplan.api import recommend, recommend_json, validate_case
from rectoplan.cohort import CohortRun, run_cohort
from rectoplan.core.case import Case
from rectoplan.core.errors import CaseError, KnowledgeError, Problem, RectoplanError, RuleError
from rectoplan.core.recommendation import Recommendation
from rectoplan.kb.loader import default_knowledge, load_knowledge
from rectoplan.verify import OptionError, VerifyReport, WhyNotAnswer, verify_knowledge, why_not_offered

__all__ = [
    "Case",
    "CaseError",
    "CohortRun",
    "KnowledgeError",
    "OptionError",
    "Problem",
    "Recommendation",
    "RectoplanError",
    "RuleError",
    "VerifyReport",
    "WhyNotAnswer",
    "default_knowledge",
    "load_knowledge",
    "recommend",
    "recommend_json",
    "run_cohort",
    "validate_case",
    "verify_knowledge",
    "why_not_offered",
]
__version__ = "0.1.0"
