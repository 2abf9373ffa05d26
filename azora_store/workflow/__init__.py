"""What the marketplace (``market/``) and compliance (``compliance/``) workflows
share, so that neither domain imports the other: the ``Service`` base with its
input checks and row look-ups (``service``), the state machines
(``transitions``) and the outbox subscription table (``events``)."""
