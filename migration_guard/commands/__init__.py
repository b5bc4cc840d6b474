"""The CLI commands, one module each (``migration-guard <name>`` runs ``<name>.py``);
``options`` holds the options several share and ``scope`` what a checking command works on."""
