"""Adaptive design: candidate spaces, surrogates with uncertainty, acquisition and campaigns."""

from mi_workbench.design.spaces import (
    CANDIDATE_DIM,
    COMPOSITION_UNITS,
    XUE_BOUNDS,
    XUE_DESCRIPTORS,
    XUE_ELEMENTS,
    XUE_LARGE_BOUNDS,
    check_compositions,
    composition_grid,
    composition_variables,
    featurize,
)

__all__ = [
    "CANDIDATE_DIM",
    "COMPOSITION_UNITS",
    "XUE_BOUNDS",
    "XUE_DESCRIPTORS",
    "XUE_ELEMENTS",
    "XUE_LARGE_BOUNDS",
    "check_compositions",
    "composition_grid",
    "composition_variables",
    "featurize",
]

# Helper B: surrogates, acquisition functions, benchmark metrics
from mi_workbench.design.acquisition import (  # noqa: E402
    ACQUISITION_ALIASES,
    ACQUISITIONS,
    acquisition_name,
    confidence_bound,
    expected_improvement,
    exploit,
    explore,
    knowledge_gradient,
    probability_in_interval,
    probability_of_improvement,
    score_candidates,
    select_batch,
    thompson_sampling,
)
from mi_workbench.design.metrics import (  # noqa: E402
    acceleration_factor,
    enhancement_factor,
    iterations_to_top_k,
    random_top_fraction,
    simple_regret,
    top_candidates,
    top_fraction_found,
)
from mi_workbench.design.surrogates import (  # noqa: E402
    SURROGATES,
    GaussianProcessSurrogate,
    RandomFeatureSurrogate,
    Surrogate,
    SVREnsembleSurrogate,
    make_surrogate,
)

__all__ += [
    "ACQUISITIONS",
    "ACQUISITION_ALIASES",
    "SURROGATES",
    "GaussianProcessSurrogate",
    "RandomFeatureSurrogate",
    "SVREnsembleSurrogate",
    "Surrogate",
    "acceleration_factor",
    "acquisition_name",
    "confidence_bound",
    "enhancement_factor",
    "expected_improvement",
    "exploit",
    "explore",
    "iterations_to_top_k",
    "knowledge_gradient",
    "make_surrogate",
    "probability_in_interval",
    "probability_of_improvement",
    "random_top_fraction",
    "score_candidates",
    "select_batch",
    "simple_regret",
    "thompson_sampling",
    "top_candidates",
    "top_fraction_found",
]

# Helper C: campaigns (suggest, observe, crash-safe journal, resume)
from mi_workbench.design.campaign import (  # noqa: E402
    OBJECTIVES,
    Campaign,
    CampaignError,
    JournalError,
)

__all__ += ["OBJECTIVES", "Campaign", "CampaignError", "JournalError"]

# pool-based benchmarks (Liang et al. 2021 protocol)
from mi_workbench.design.benchmark import (  # noqa: E402
    Strategy,
    run_benchmark,
    summarize_benchmark,
    top_fraction_bands,
)

__all__ += ["Strategy", "run_benchmark", "summarize_benchmark", "top_fraction_bands"]
