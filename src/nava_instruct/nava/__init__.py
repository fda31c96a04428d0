"""The NAVA language toolkit: parser, checker, canonical formatter, spec extractor and GBNF grammar.

The language and every decision the reference leaves open are described in docs/nava_language.md;
the API below is what the dataset generator, the split and the evaluation use.
"""

from nava_instruct.nava.checker import check
from nava_instruct.nava.diagnostics import Diagnostic, NavaError
from nava_instruct.nava.formatter import format_source
from nava_instruct.nava.gbnf import gbnf_grammar
from nava_instruct.nava.spec import extract_spec, spec_difference

__all__ = ["Diagnostic", "NavaError", "check", "extract_spec", "format_source", "gbnf_grammar", "spec_difference"]
