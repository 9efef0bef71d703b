"""`pinyin-hanzi ibus ...`: install the input method, remove it, clear what it learned.

Registered in pinyin_hanzi/cli.py; nothing here imports GObject introspection or the model.
"""

from __future__ import annotations

import typer

from . import ENGINE_NAME
from . import component
from .settings import SETTINGS_FILE, config_dir, history_path

app = typer.Typer(add_completion=False, no_args_is_help=True,
                  help="Use the model as your desktop's input method (IBus).")


def _fail(error: OSError):
    typer.echo(f"error: {error}", err=True)
    raise typer.Exit(2)


@app.command()
def install(user: bool = typer.Option(False, "--user", help="Install for you only (no root): "
                                      "a user component directory and IBUS_COMPONENT_PATH.")):
    """Write the IBus component file that starts the engine with this environment's Python."""
    try:
        written = component.install(user)
    except PermissionError as e:
        typer.echo(f"error: {e}: run it as root (sudo), or with --user", err=True)
        raise typer.Exit(2)
    except OSError as e:  # a read-only file system, a file where a folder should be
        _fail(e)
    for path in written:
        typer.echo(f"wrote {path}")
    if user:
        value = component.component_path_value(written[0].parent)
        typer.echo("IBus reads the user directory once IBUS_COMPONENT_PATH is set in its "
                   "environment (from your next login on); to use it now, restart IBus with it:")
        typer.echo(f"  ibus exit; IBUS_COMPONENT_PATH={value} ibus-daemon -drx --cache=refresh")
    else:
        typer.echo("then restart IBus:")
        typer.echo("  ibus restart")
    typer.echo(f"and add \"Chinese - Pinyin (pinyin-hanzi)\" in Settings > Keyboard, or switch "
               f"to it now:\n  ibus engine {ENGINE_NAME}")
    typer.echo(f"settings: {config_dir() / SETTINGS_FILE} (docs/IBUS.md)")


@app.command()
def uninstall(user: bool = typer.Option(False, "--user", help="Remove the --user install.")):
    """Remove what `install` wrote (your history and settings stay)."""
    try:
        removed = component.uninstall(user)
    except PermissionError as e:
        typer.echo(f"error: {e}: run it as root (sudo)", err=True)
        raise typer.Exit(2)
    except OSError as e:
        _fail(e)
    for path in removed:
        typer.echo(f"removed {path}")
    if not removed:
        typer.echo("nothing to remove" + ("" if user else " (was it installed with --user?)"))
        return
    typer.echo("then: ibus restart")


@app.command("clear-history")
def clear_history():
    """Forget what you committed (also in the panel's menu while the engine runs)."""
    from .history import history_files

    path = history_path()
    removed = history_files(path)
    try:
        for p in removed:
            p.unlink()
    except OSError as e:  # not ours to remove (made by root), or not a file: a traceback
        _fail(e)
    typer.echo(f"removed {path}" if removed else f"no history at {path}")
    typer.echo("a running engine forgets it when it next saves; at once: ibus restart, or "
               "\"Clear typing history\" in its menu")


@app.command("component")
def show_component():
    """Print the component XML that `install` writes."""
    typer.echo(component.component_xml(), nl=False)
