"""Code generation: a strategy of a .sflow file → a standalone Python module that runs it on qlib.

Entry points (the CLI, the language server and the quick test call these):

- ``generate_for(text, source_path, strategy, test, library, *, store=None) -> Generation``
- ``generate_code(...)`` — the same without storing; ``validate_code(code) -> ValidationResult``

The generated module's contract (SFLOW, TEST, EXPRESSIONS, load_signals, build_strategy, run, main)
is written down in ``sflow/codegen/README.md``. Nothing here imports qlib: only the generated
module does.
"""

from sflow.codegen.generator import CODE_VERSION, GENERATOR, Generation, generate_code, generate_for
from sflow.codegen.plan import GenerationError
from sflow.codegen.validator import ValidationResult, validate_code

__all__ = [
    "CODE_VERSION",
    "GENERATOR",
    "Generation",
    "GenerationError",
    "ValidationResult",
    "generate_code",
    "generate_for",
    "validate_code",
]
