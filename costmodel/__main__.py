from .cli.app import console_script

console_script()
