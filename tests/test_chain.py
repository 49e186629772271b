import math

import pytest

from replicate.chain import ChainParams


def test_defaults_and_profiles():
    p = ChainParams(L=5, F=2.0)
    assert (p.Delta, p.J, p.U, p.gamma, p.gamma_int, p.drive) == (2.5, 2.0, 0.1, 1.0, 0.0, "boundary")
    assert list(p.drive_profile()) == [2.0, 0, 0, 0, 0]
    assert list(p.loss_profile()) == [1.0, 0, 0, 0, 1.0]
    u = p.with_(drive="uniform", gamma_int=0.5)
    assert list(u.drive_profile()) == [2.0] * 5
    assert list(u.loss_profile()) == [1.5] * 5
    assert p.with_(F=3).F == 3.0 and p.F == 2.0


@pytest.mark.parametrize("field, value", [
    ("L", 1), ("L", 2.5), ("L", True), ("F", math.nan), ("Delta", math.inf), ("J", "x"),
    ("U", None), ("gamma", -1.0), ("gamma_int", -0.1), ("drive", "left")])
def test_validation_names_parameter(field, value):
    kwargs = dict(L=4, F=1.0)
    kwargs[field] = value
    with pytest.raises(ValueError, match=field):
        ChainParams(**kwargs)


def test_with_validates():
    with pytest.raises(ValueError, match="gamma"):
        ChainParams(L=3, F=1.0).with_(gamma=-2)
