"""The journeys command line: ``app`` holds the commands, ``main`` runs them."""

from journeys.cli.app import app, expand_multi_value_options, main

__all__ = ["app", "expand_multi_value_options", "main"]
