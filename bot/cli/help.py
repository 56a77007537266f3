"""`--help` without type noise: a flag is shown as `--json`, not `--json <bool>`.

Typer's rich help prints every option's type beside it, flags included (`--help <bool>`), unless the option
has a metavar. `ResponderGroup`, the root command's class, gives every flag and counter of every command an
empty one as the command is looked up, so commands added later (and the help option typer adds itself) need
nothing. Options that take a value name it with their own metavar (`--published DATE`).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import TYPE_CHECKING, Any

from typer.core import TyperGroup, TyperOption

if TYPE_CHECKING:
    from typer._click.core import Command, Context  # typer vendors click: these are not click's classes


def _quiet(params: Iterable[Any]) -> None:
    for param in params:
        if isinstance(param, TyperOption) and (param.is_flag or param.count) and param.metavar is None:
            param.metavar = ""


def quiet_flags(command: Command, ctx: Context) -> None:
    """Blank the type of `command`'s flags and its help option, then its subcommands', all the way down."""
    help_option = command.get_help_option(ctx)
    _quiet([*command.params, *([help_option] if help_option else [])])
    if isinstance(command, TyperGroup):
        for sub in command.commands.values():
            quiet_flags(sub, ctx)


class ResponderGroup(TyperGroup):
    def get_params(self, ctx: Context) -> list[Any]:
        params = super().get_params(ctx)
        _quiet(params)
        return params

    def get_command(self, ctx: Context, cmd_name: str) -> Command | None:
        command = super().get_command(ctx, cmd_name)
        if command is not None:
            quiet_flags(command, ctx)
        return command
