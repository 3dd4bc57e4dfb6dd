"""``controller`` takes only W&B's two forms, {type: local} and {type: cloud}; anything else is one
clear error."""

from __future__ import annotations

import pytest

from sweepkit.sweep_config import ConfigError, load_config_text

BODY = "method: grid\nparameters:\n  x: {value: 1}\n"


@pytest.mark.parametrize("form", ["{type: local}", "{type: cloud}", "\n  type: local"])
def test_controller_local_or_cloud_is_accepted_and_kept(form):
    cfg = load_config_text(f"{BODY}program: t.py\ncontroller: {form}\n")
    assert cfg.data["controller"] in ({"type": "local"}, {"type": "cloud"})
    assert cfg.warnings == []


@pytest.mark.parametrize(
    "form, message",
    [
        ("{type: invalid}", "controller.type: 'invalid' is not one of local, cloud"),
        ("{type: Local}", "controller.type: 'Local' is not one of local, cloud; did you mean 'local'?"),
        ("{type: 3}", "controller.type: 3 is not one of local, cloud"),
        ("42", "controller: expected a mapping, got 42; write {type: local} or {type: cloud}"),
        ("local", "controller: expected a mapping, got 'local'; write {type: local} or {type: cloud}"),
        ("", "controller: expected a mapping, got null (the key is there but has no value)"),
        ("{}", "controller.type: required key is missing: expected type: local or type: cloud"),
        ("{type: local, x: 1}", "controller.x: key 'x' is not allowed for controller (allowed: type)"),
    ],
)
def test_any_other_controller_is_one_clear_error(form, message):
    with pytest.raises(ConfigError) as caught:
        load_config_text(f"{BODY}program: t.py\ncontroller: {form}\n", filename="sweep.yaml")
    assert [str(p) for p in caught.value.problems] == [f"sweep.yaml:5: {message}"]
