"""KRAS variants as laboratories write them, read into one canonical protein notation (`G12C`).

Reports say `G12C`, `p.G12C`, `p.Gly12Cys`, `KRAS G12C`, `KRAS p.(Gly12Cys)` or give only the coding
change `c.34G>T`; NGS reports print the full HGVS form, with a transcript and often both changes:
`NM_004985.5:c.34G>T (p.G12C)`, `p.Gly12Cys (c.34G>T)`, `KRAS c.34G>T p.G12C`,
`NM_004985.5(KRAS):c.34G>T (p.Gly12Cys)`. All must reach the rules as `G12C`: reading `p.G12C` as "some
other variant" would silently drop the G12C-directed options. A notation that cannot be read is an input
error, never a silent "other variant".

Coding changes are translated only at codons 12, 13 and 61 (the hot spots that decide a treatment), from
the KRAS reference codons (GGT, GGC, CAA) and the standard genetic code; any other `c.` change is refused
with a request for the protein notation. A coding and a protein change given together must agree (the
coding change translated as above); when they disagree (`c.34G>T p.G12D`), or when the coding change cannot
be translated to check them, the pair is refused: which of the two is right is not for rectoplan to guess.

A transcript prefix is read only when it is one of KRAS's: RefSeq NM_004985 / NP_004976 (KRAS4B, the MANE
Select transcript) and NM_033360 / NP_203524 (KRAS4A), Ensembl ENST00000311936 and ENST00000256078, in any
version. The two splice variants differ only at the C-terminus (from residue 151), so codons 12, 13 and 61
and their coding positions are the same on all of them. Any other reference (another gene's transcript, a
genomic `NC_` reference) is refused: `c.34G>T` on another gene is not KRAS G12C.
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
# KRAS transcripts and their proteins (accession without version): RefSeq KRAS4B and KRAS4A, Ensembl.
KRAS_REFERENCES: Final = (
    "NM_004985",
    "NP_004976",
    "NM_033360",
    "NP_203524",
    "ENST00000311936",
    "ENST00000256078",
)
_BASES = "TCAG"
_CODE = "FFLLSSSSYY**CC*WLLLLPPPPHHQQRRRRIIIMTTTTNNKKSSRRVVVVAAAADDEEGGGG"  # standard code, TCAG order
_ONE_LETTER = re.compile(f"([{AMINO}])([1-9][0-9]{{0,2}})([{AMINO}])")
_THREE_LETTER = re.compile(r"([A-Za-z]{3})([1-9][0-9]{0,2})([A-Za-z]{3})")
_CODING = re.compile(r"C\.([1-9][0-9]{0,3})([ACGT])>([ACGT])")
_ACCESSION = re.compile(r"([A-Z]{2}_[0-9]+|ENS[A-Z]*[0-9]+)(?:\.[0-9]+)?")
_SEPARATORS = re.compile(r"[\s,;:|]+")
HOT_SPOTS: Final = "a coding change at codons 12, 13 or 61 (c.34-c.39, c.181-c.183)"


class VariantError(ValueError):
    """A KRAS variant that cannot be read; the message says what was expected instead."""


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


def _coding_error(position: int, ref: str, alt: str) -> str:
    """Why a coding change is not translated: a precise 'expected' for the input error."""
    codon_no, offset = (position - 1) // 3 + 1, (position - 1) % 3
    reference = _REFERENCE_CODONS.get(codon_no)
    if reference is None:
        return f"{HOT_SPOTS} or the protein change (p.G12C); c.{position} is in codon {codon_no}"
    if reference[offset] != ref:
        return f"the KRAS reference base at c.{position}, {reference[offset]} (found {ref})"
    return f"a coding change that changes the amino acid (c.{position}{ref}>{alt} gives none or a stop)"


def _protein(token: str) -> str | None:
    """The one-letter protein change of one token (`p.Gly12Cys`, `G12C`, `p.g12c`), or None."""
    core = re.sub(r"^[pP]\.", "", token)
    three = _THREE_LETTER.fullmatch(core)
    if three:
        first, last = THREE_TO_ONE.get(three.group(1).capitalize()), THREE_TO_ONE.get(three.group(3).capitalize())
        return f"{first}{three.group(2)}{last}" if first and last else None
    one = _ONE_LETTER.fullmatch(core.upper())
    return f"{one.group(1)}{one.group(2)}{one.group(3)}" if one else None


def _tokens(text: str) -> list[str]:
    """The parts of a report's variant text: parentheses become separators, `p.(` stays with its change."""
    spaced = text.replace("(", " ").replace(")", " ").replace("[", " ").replace("]", " ")
    spaced = re.sub(r"\b([cCpP])\.\s+", r"\1.", spaced)
    return [t for t in _SEPARATORS.split(spaced) if t]


def _reference(token: str) -> bool:
    """True for a KRAS transcript or protein accession; VariantError for any other accession."""
    m = _ACCESSION.fullmatch(token.upper())
    if m is None:
        return False
    if m.group(1) not in KRAS_REFERENCES:
        known = ", ".join(KRAS_REFERENCES)
        raise VariantError(f"a KRAS transcript ({known}, any version); {token} is not one")
    return True


def _changes(text: str) -> tuple[set[tuple[int, str, str]], set[str]]:
    """The coding changes (position, ref, alt) and protein changes a text gives, gene names and KRAS
    transcripts set aside; VariantError for any other part."""
    coding: set[tuple[int, str, str]] = set()
    protein: set[str] = set()
    for token in _tokens(text):
        word = token[4:] if token.upper().startswith("KRAS") else token
        if not word or _reference(word):
            continue
        if re.fullmatch(r"[cC]\.[0-9]+[acgtACGT]>[acgtACGT]", word):
            m = _CODING.fullmatch(word.upper())
            if m is None:
                raise VariantError(f"{HOT_SPOTS}; {word} is not a coding position rectoplan reads")
            coding.add((int(m.group(1)), m.group(2), m.group(3)))
        elif (change := _protein(word)) is not None:
            protein.add(change)
        else:
            raise VariantError(
                "a KRAS variant in protein notation (G12C, p.G12C, p.Gly12Cys) or a coding change at codons 12,"
                f" 13 or 61 (c.34G>T), optionally with a KRAS transcript; cannot read {token!r}"
            )
    return coding, protein


def read_kras_variant(text: str) -> str:
    """The canonical one-letter protein change (`G12C`) of a report's KRAS variant text.

    Raises VariantError with what was expected when the text cannot be read, names a transcript that is
    not KRAS's, or gives a coding and a protein change that disagree (or cannot be checked)."""
    coding, protein = _changes(re.sub(r"\s+", " ", text.strip()))
    if len(coding) > 1 or len(protein) > 1:
        given = sorted(f"c.{p}{r}>{a}" for p, r, a in coding) + sorted(protein)
        raise VariantError(f"one KRAS variant; found {len(given)} changes: {', '.join(given)}")
    if not coding and not protein:
        raise VariantError("a KRAS variant in protein notation (G12C, p.G12C) or a coding change (c.34G>T)")
    if not coding:
        return protein.pop()
    position, ref, alt = coding.pop()
    translated = _coding(position, ref, alt)
    said = f"c.{position}{ref}>{alt}"
    if translated is None:
        why = _coding_error(position, ref, alt)
        if protein:
            why += f"; so {said} cannot be checked against p.{protein.pop()}: give the protein change alone"
        raise VariantError(why)
    if protein and (other := protein.pop()) != translated:
        raise VariantError(
            f"a coding and a protein change that agree; {said} is p.{translated} on KRAS, the text also gives p.{other}"
        )
    return translated


def canonical_variant(text: str) -> str | None:
    """The canonical one-letter protein change (`G12C`), or None when the notation cannot be read
    (`read_kras_variant` says why)."""
    try:
        return read_kras_variant(text)
    except VariantError:
        return None
