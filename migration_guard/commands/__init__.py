"""The CLI commands, one module each (``migration-guard <name>`` runs ``<name>.py``);
``options`` holds the options several share, ``helpformat`` argparse's help formatter as
the parsers use it, ``scope`` what a checking command works on and ``replay`` what a run
takes from an earlier one: the command lines argparse read, and ``lint FILE...`` runs kept
whole."""
