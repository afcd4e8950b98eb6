"""Inference: NUTS fits, a teaching Metropolis sampler and convergence diagnostics."""

from mi_workbench.inference.diagnostics import (
    ESS_MIN,
    RHAT_MAX,
    Diagnostics,
    diagnose,
    ess_per_second,
)
from mi_workbench.inference.evidence import (
    EvidenceResult,
    evidence,
    select_model,
    temperature_ladder,
)
from mi_workbench.inference.metropolis import ModelDensity, metropolis, model_density
from mi_workbench.inference.sampling import (
    SamplingCancelled,
    compiled_nutpie_model,
    fit,
    in_notebook,
)

__all__ = [
    "ESS_MIN",
    "RHAT_MAX",
    "Diagnostics",
    "EvidenceResult",
    "ModelDensity",
    "SamplingCancelled",
    "compiled_nutpie_model",
    "diagnose",
    "ess_per_second",
    "evidence",
    "fit",
    "in_notebook",
    "metropolis",
    "model_density",
    "select_model",
    "temperature_ladder",
]
