from __future__ import annotations

import journeys
from journeys.plots.paths import LOOPS_SHOWN, loops_figure, sankey_figure
from tests.conftest import SIMPLE_SHOP


def test_the_sankey_never_folds_the_end_of_paths_into_other() -> None:
    log = journeys.read_events(SIMPLE_SHOP)
    result = journeys.paths(log, journeys.PathsParams(start="cart", depth=4))
    ends = result.flows[result.flows["target"] == "END"]
    assert len(ends) >= 2, "paths end at several positions"
    # One label kept per position: everything else folds into "other", END never.
    sankey = sankey_figure(result, per_position=1).data[0]
    labels = list(sankey.node.label)
    ended = sum(
        value
        for target, value in zip(sankey.link.target, sankey.link.value, strict=True)
        if labels[target] == "END"
    )
    assert ended == int(ends["customers"].sum())


def test_loops_beyond_the_shown_count_are_one_bar() -> None:
    import pandas as pd

    from journeys.analyses.loops import LoopsResult

    distribution = pd.DataFrame({"returns": list(range(40)), "customers": [100] + [1] * 39})
    result = LoopsResult.model_construct(distribution=distribution)
    bar = loops_figure(result).data[0]
    assert list(bar.x)[-1] == f"{LOOPS_SHOWN}+"
    assert list(bar.y)[-1] == 40 - LOOPS_SHOWN
    assert sum(bar.y) == 100 + 39
