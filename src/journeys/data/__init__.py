"""Reading events: options, sources, column mapping, checks, and the choice of engine.

The modules are imported where they are used (``journeys.data.reader``,
``journeys.data.engine``), so that reading a spec does not start the engine.
"""
