"""One function per figure: (result, **options) -> plotly Figure. Layout only, no computation."""
