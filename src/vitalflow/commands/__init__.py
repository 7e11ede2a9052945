"""CLI commands: each module adds a subcommand in ``register(subparsers)`` and runs it in ``main(args)``."""
