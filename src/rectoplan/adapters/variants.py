"""KRAS variants as laboratories write them, read into one canonical protein notation (`G12C`).

Reports say `G12C`, `p.G12C`, `p.Gly12Cys`, `KRAS G12C`, `KRAS p.(Gly12Cys)` or give only the coding
change `c.34G>T`. All must reach the rules as `G12C`: reading `p.G12C` as "some other variant" would
silently drop the G12C-directed options. A notation that cannot be read is an input error, never a
silent "other variant".

Coding changes are translated only at codons 12, 13 and 61 (the hot spots that decide a treatment), from
the KRAS reference codons (GGT, GGC, CAA) and the standard genetic code; any other `c.` change is refused
with a request for the protein notation.
"""

from __future__ import annotations

import re
from typing import Final

THREE_TO_ONE: Final = {
    "Ala": "A", "Arg": "R", "Asn": "N", "Asp": "D", "Cys": "C", "Gln": "Q", "Glu": "E", "Gly": "G", "His": "H",
    "Ile": "I", "Leu": "L", "Lys": "K", "Met": "M", "Phe": "F", "Pro": "P", "Ser": "S", "Thr": "T", "Trp": "W",
    "Tyr": "Y", "Val": "V",
}  # fmt: skip
AMINO: Final = "ACDEFGHIKLMNPQRSTVWY"
CANONICAL: Final = re.compile(f"[{AMINO}][1-9][0-9]{{0,2}}[{AMINO}]")
# KRAS reference codons (coding DNA, c.1 = A of the ATG start): codon n spans c.(3n-2)..c.(3n).
_REFERENCE_CODONS: Final = {12: "GGT", 13: "GGC", 61: "CAA"}
_BASES = "TCAG"
_CODE = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"  # standard code, TCAG order
_ONE_LETTER = re.compile(f"([{AMINO}])([1-9][0-9]{{0,2}})([{AMINO}])")
_THREE_LETTER = re.compile(r"([A-Za-z]{3})([1-9][0-9]{0,2})([A-Za-z]{3})")
_CODING = re.compile(r"C\.([1-9][0-9]{0,3})([ACGT])>([ACGT])")


def _translate(codon: str) -> str:
    i = _BASES.index(codon[0]) * 16 + _BASES.index(codon[1]) * 4 + _BASES.index(codon[2])
    return _CODE[i]


def _coding(position: int, ref: str, alt: str) -> str | None:
    codon_no, offset = (position - 1) // 3 + 1, (position - 1) % 3
    reference = _REFERENCE_CODONS.get(codon_no)
    if reference is None or reference[offset] != ref:
        return None
    changed = reference[:offset] + alt + reference[offset + 1 :]
    before, after = _translate(reference), _translate(changed)
    if after == "*" or after == before:
        return None
    return f"{before}{codon_no}{after}"


def canonical_variant(text: str) -> str | None:
    """The canonical one-letter protein change (`G12C`), or None when the notation cannot be read."""
    core = re.sub(r"\s+", " ", text.strip())
    core = re.sub(r"^KRAS[\s:]*", "", core, flags=re.IGNORECASE).strip()
    core = core.replace("(", "").replace(")", "")
    if re.fullmatch(r"[cC]\.[0-9]+[acgtACGT]>[acgtACGT]", core):
        m = _CODING.fullmatch(core.upper())
        return _coding(int(m.group(1)), m.group(2), m.group(3)) if m else None
    core = re.sub(r"^[pP]\.", "", core)
    three = _THREE_LETTER.fullmatch(core)
    if three:
        first, last = THREE_TO_ONE.get(three.group(1).capitalize()), THREE_TO_ONE.get(three.group(3).capitalize())
        return f"{first}{three.group(2)}{last}" if first and last else None
    one = _ONE_LETTER.fullmatch(core.upper())
    return f"{one.group(1)}{one.group(2)}{one.group(3)}" if one else None
