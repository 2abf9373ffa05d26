"""Small helpers every layer may use, none of them a feature of its own.

``clock`` (naive UTC "now"), ``jsonutil`` (JSON that carries Decimal and
datetime without loss), ``threads`` (background work whose failure is not
lost), ``extras`` (which optional extra brings which module, and the error
for a missing one) and ``clitools`` (the ``--db`` option and error output
shared by every command group). They sit below the domains: nothing here
imports ``market``, ``compliance``, ``sync``, ``search`` or ``api``.
"""
