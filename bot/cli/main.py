"""The `responder` command line (typer + rich). Each command is a thin shell over a service."""

from __future__ import annotations

from typing import Annotated

import typer

from bot.cli import corpus, doctor, drafts, model, pack, serve
from bot.cli.console import end_command
from bot.cli.deadlines import deadlines_app
from bot.cli.help import ResponderGroup
from bot.cli.logs import configure_logging, remove_logging
from bot.cli.register import register_app

app = typer.Typer(
    cls=ResponderGroup,  # flags without `<bool>` in every command's --help
    help="Responder: drafts a PCC's statutory responses to HMICFRS inspection reports.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
app.add_typer(deadlines_app, name="deadlines")
app.add_typer(register_app, name="register")
app.command("pack")(pack.pack_command)
app.command("ingest")(corpus.ingest)
app.command("search")(corpus.search)
app.command("draft")(drafts.draft)
app.command("markdown")(drafts.markdown)
app.command("model")(model.model)
app.command("serve")(serve.serve)
app.command("doctor")(doctor.doctor)


@app.callback()
def main(
    ctx: typer.Context,
    verbose: Annotated[
        bool,
        typer.Option("--verbose", "-v", help="Log to stderr: our debug lines, and libraries' info (default: warnings)"),
    ] = False,
) -> None:
    end_command()
    ctx.call_on_close(end_command)
    configure_logging(verbose)
    ctx.call_on_close(remove_logging)
