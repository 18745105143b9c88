"""The README's Python example runs as written."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).parent.parent


def test_the_python_example_runs(
    monkeypatch: pytest.MonkeyPatch, capsys: pytest.CaptureFixture[str]
) -> None:
    readme = (ROOT / "README.md").read_text()
    examples = re.findall(r"```python\n(.*?)```", readme, flags=re.S)
    assert len(examples) == 2
    monkeypatch.chdir(ROOT)
    namespace: dict[str, object] = {}
    for example in examples:
        exec(compile(example, "README.md", "exec"), namespace)
    out = capsys.readouterr().out
    assert "3611" in out  # catalog customers
    assert "product_page" in out
    assert "0.243 " in out  # BG/NBD r on CDNOW
    assert out.rstrip().endswith("25")  # the textbook break-even


def test_the_readme_opens_with_the_two_commands() -> None:
    readme = (ROOT / "README.md").read_text()
    assert readme.split("```")[1].strip() == "make demo\nmake test"


def test_the_support_section_example_is_a_valid_spec_section() -> None:
    from ruamel.yaml import YAML

    from journeys.analyses.support_settings import Support

    readme = (ROOT / "README.md").read_text()
    (block,) = [
        b for b in re.findall(r"```yaml\n(.*?)```", readme, flags=re.S) if b.startswith("support:")
    ]
    support = Support.model_validate(YAML(typ="safe").load(block)["support"])
    assert [change.name for change in support.changes] == ["Chatbot launch", "Training"]
    assert support.value_per_customer == "estimate"
