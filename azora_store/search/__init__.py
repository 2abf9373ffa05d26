"""Job search: the request (``request``), the planner and its cached numbers
(``planner``), the result types (``results``), the budget facets of the
full-text indexes (``facets``) and the plans of the target queries read back
for ``doctor`` (``plans``). The public functions are in
:mod:`azora_store.queries`."""
