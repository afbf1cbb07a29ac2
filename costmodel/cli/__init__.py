"""The command line: a thin typer layer that parses arguments and formats library results."""
