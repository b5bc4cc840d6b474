"""The CLI commands, one module each (``migration-guard <name>`` runs ``<name>.py``);
``options`` holds the options several share, ``scope`` what a checking command works on and
``replay`` the ``lint FILE...`` runs kept whole."""
