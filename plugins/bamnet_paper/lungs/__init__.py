"""Built-in lung-field estimator ``anatomical``: a two-lung template fitted to the thorax."""

from __future__ import annotations

from bamnet_core.contract import hookimpl

from .template import AnatomicalLungFields


@hookimpl
def register_lung_field_estimators(register):
    """Register ``anatomical``, the estimator a run uses unless its config names another."""
    register("anatomical", AnatomicalLungFields, default=True)
