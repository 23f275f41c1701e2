"""rectoplan: decision support for stage 4 or recurrent rectal cancer.

Supports the care team's decision and never replaces it.
"""

from rectoplan.api import recommend, recommend_json, validate_case
from rectoplan.core.case import Case
from rectoplan.core.errors import CaseError, KnowledgeError, Problem, RuleError
from rectoplan.core.recommendation import Recommendation
from rectoplan.kb.loader import default_knowledge, load_knowledge

__all__ = [
    "Case",
    "CaseError",
    "KnowledgeError",
    "Problem",
    "Recommendation",
    "RuleError",
    "default_knowledge",
    "load_knowledge",
    "recommend",
    "recommend_json",
    "validate_case",
]
__version__ = "0.1.0"
