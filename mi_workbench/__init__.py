"""mi-workbench: Bayesian materials informatics in Jupyter.

Subpackages, in the order data flows (see the README's lesson map):

- :mod:`mi_workbench.data`: loaders, validation of user tables, generators of lesson data.
- :mod:`mi_workbench.physics`: forward models in NumPy/PyTensor.
- :mod:`mi_workbench.models`: functions that build ``pm.Model`` objects, and prior specifications.
- :mod:`mi_workbench.inference`: ``fit``, ``diagnose``, a teaching Metropolis sampler and the
  model evidence.
- :mod:`mi_workbench.plots`: pure functions returning plotly figures.
- :mod:`mi_workbench.widgets`: interactive panels for JupyterLab.
- :mod:`mi_workbench.design`: candidate spaces, surrogates, acquisition functions, campaigns.
- :mod:`mi_workbench.molecules`: xTB and DFT oracles and the molecular data-set builder.

Subpackages are imported on demand so that ``import mi_workbench`` stays fast.
"""

__version__ = "0.1.0"
