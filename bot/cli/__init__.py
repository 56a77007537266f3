"""The `responder` command line (typer + rich): `main` assembles the commands, one module per group."""
