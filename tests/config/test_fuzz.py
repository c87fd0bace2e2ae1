"""Property tests: whatever text a user feeds in, the config layer fails only with ConfigError."""

from __future__ import annotations

import yaml
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from nnrun.config.resolve import resolve_config
from nnrun.config.spec import Option
from nnrun.config.validate import validate_top_level
from nnrun.errors import ConfigError
from tests.config.conftest import DATA_SPEC, TRAIN_SPEC, make_registries

REGISTRIES = make_registries()
SECTIONS = {
    "name": Option(str, "x"),
    "seed": Option(int, 0),
    "data": DATA_SPEC,
    "train": TRAIN_SPEC,
    "model": None,
    "loss": REGISTRIES["loss"],
    "optimizer": REGISTRIES["optimizer"],
}
_words = st.sampled_from(
    [
        "data",
        "path",
        "batch_size",
        "train",
        "epochs",
        "loss",
        "optimizer",
        "type",
        "lr",
        "sgd",
        "cross_entropy",
        "extends",
        "model",
        "layers",
        "${data.batch_size}",
        "${a}",
        "!delete",
        "x.yaml",
        "seed",
        "early_stopping",
        "max_epochs",
    ]
)
_scalars = st.none() | st.booleans() | st.integers() | st.floats() | st.text(max_size=10) | _words
_documents = st.recursive(
    _scalars,
    lambda inner: (
        st.lists(inner, max_size=4)
        | st.dictionaries(_words | st.text(max_size=5), inner, max_size=5)
    ),
    max_leaves=25,
)
_yaml_text = _documents.map(lambda doc: yaml.safe_dump(doc, default_flow_style=None))
_noise = st.text(st.sampled_from(list("abc:-[]{},&*!|>'\"#%@`\t\n ${}.=0123456789")), max_size=80)
_overrides = st.lists(st.text(st.sampled_from(list("ab.0=[]{}!:x1 ${}")), max_size=12), max_size=3)


def check(tmp_path, text: str, overrides: list[str]) -> None:
    path = tmp_path / "fuzz.yaml"
    path.write_text(text, encoding="utf-8")
    try:
        validate_top_level(resolve_config(path, overrides), SECTIONS)
    except ConfigError as err:
        assert err.problems and all(str(problem) for problem in err.problems)


_settings = settings(
    max_examples=150, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)


@_settings
@given(text=_yaml_text, overrides=_overrides)
def test_random_documents_raise_only_config_errors(tmp_path, text, overrides):
    check(tmp_path, text, overrides)


@_settings
@given(
    text=st.one_of(_noise, st.tuples(_yaml_text, _noise).map("".join), st.text(max_size=60)),
    overrides=_overrides,
)
def test_random_text_raises_only_config_errors(tmp_path, text, overrides):
    check(tmp_path, text, overrides)
