"""Geometry, image systems and scenario files: validation and image maps."""

import copy
import json
import math

import numpy as np
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st
from mcvd import example_path
from mcvd.core.geometry import (
    Box,
    Geometry,
    Plane,
    Sphere,
    Transmitter,
    as_times,
    image_system,
    mirror_point,
    mirror_sphere,
    slab_periods,
)
from mcvd.core.scenario import ScenarioError, load_scenario, scenario_from_dict
from scipy import special

BASE = {
    "D": 79.4,
    "transmitter": {"position": [0, 0, 10], "molecules": 1000000},
    "receivers": [{"center": [10, 0, 0], "radius": 5}],
    "planes": [{"point": [0, 0, 0], "normal": [1, 0, 0]}],
    "obstacles": [],
    "time": {"end": 2.0, "dt": 1e-4},
}


def _set(path, value):
    def mod(d):
        *head, last = path
        for k in head:
            d = d[k]
        d[last] = value

    return mod


BAD = [
    ("radius <= 0", _set(["receivers", 0, "radius"], 0), "receivers[0].radius"),
    ("negative radius", _set(["receivers", 0, "radius"], -1), "receivers[0].radius"),
    ("nan radius", _set(["receivers", 0, "radius"], float("nan")), "finite"),
    ("inf position", _set(["transmitter", "position"], [0, 0, math.inf]), "transmitter.position"),
    ("tx inside rx", _set(["transmitter", "position"], [10, 0, 2]), "inside or on receivers[0]"),
    ("tx wrong side", _set(["transmitter", "position"], [-1, 0, 10]), "wrong side of planes[0]"),
    ("rx cuts plane", _set(["receivers", 0, "center"], [3, 0, 0]), "cuts or lies behind"),
    (
        "overlapping rx",
        _set(["receivers", 1], {"center": [10, 0, 9], "radius": 5}),
        "overlap",
    ),
    ("zero normal", _set(["planes", 0, "normal"], [0, 0, 0]), "non-zero"),
    ("D <= 0", _set(["D"], 0), "field D"),
    ("D not finite", _set(["D"], math.inf), "field D"),
    ("negative end", _set(["time", "end"], -2), "time.end"),
    ("negative dt", _set(["time", "dt"], -1e-4), "time.dt"),
    ("negative release", _set(["transmitter", "release_time"], -0.1), "release_time"),
    ("zero molecules", _set(["transmitter", "molecules"], 0), "molecules"),
    ("typo", _set(["receivers", 0, "centre"], [1, 2, 3]), "centre"),
    ("2-vector", _set(["planes", 0, "point"], [0, 0]), "planes[0].point"),
    ("box type", _set(["obstacles"], [{"type": "ball", "min": [0] * 3, "max": [1] * 3}]), "type"),
    ("bad box", _set(["obstacles"], [{"min": [30, 0, 0], "max": [20, 1, 1]}]), "box min"),
    ("tx in box", _set(["obstacles"], [{"min": [-1, -1, 9], "max": [1, 1, 11]}]), "obstacles[0]"),
    ("no receivers", _set(["receivers"], []), "receivers"),
]


@pytest.mark.parametrize("name,mod,needle", BAD, ids=[b[0] for b in BAD])
def test_bad_scenarios_one_line_error(name, mod, needle):
    d = copy.deepcopy(BASE)
    if name == "overlapping rx":
        d["receivers"].append(None)
    mod(d)
    with pytest.raises(ValueError) as info:
        scenario_from_dict(d)
    msg = str(info.value)
    assert "\n" not in msg
    assert needle in msg


def test_scenario_roundtrip_and_example(tmp_path):
    sc = scenario_from_dict(BASE)
    g = sc.geometry()
    assert g.D == 79.4 and g.transmitter.molecules == 1000000
    assert g.receivers[0] == Sphere((10, 0, 0), 5)
    p = tmp_path / "s.json"
    sc.to_json(p)
    assert load_scenario(p).geometry() == g
    # several transmitters with release times
    d = copy.deepcopy(BASE)
    del d["transmitter"]
    d["transmitters"] = [{"position": [0, 0, 10], "molecules": 3, "release_time": 0.5}]
    assert scenario_from_dict(d).geometry().transmitters[0].release_time == 0.5
    # both or neither transmitter field
    d["transmitter"] = BASE["transmitter"]
    with pytest.raises(ScenarioError, match="exactly one of"):
        scenario_from_dict(d)


def test_load_scenario_errors(tmp_path):
    with pytest.raises(ScenarioError, match="cannot read"):
        load_scenario(tmp_path / "missing.json")
    p = tmp_path / "bad.json"
    p.write_text("{not json")
    with pytest.raises(ScenarioError, match="not valid JSON"):
        load_scenario(p)
    p.write_text(json.dumps([1, 2]))
    with pytest.raises(ScenarioError, match="JSON object"):
        load_scenario(p)


def test_example_scenario_file_is_valid():

    ex = example_path("paper_halfspace")
    g = load_scenario(ex).geometry()
    assert g.transmitter.position == (0.0, 0.0, 10.0)
    assert g.planes[0].normal == (1.0, 0.0, 0.0)


def test_direct_constructor_errors():
    with pytest.raises(ValueError, match="D must be > 0"):
        Geometry(-1.0, Transmitter((0, 0, 0)), [Sphere((10, 0, 0), 5)])
    with pytest.raises(ValueError, match="at least one receiver"):
        Geometry(1.0, Transmitter((0, 0, 0)), [])
    with pytest.raises(TypeError, match="receivers\\[0\\]"):
        Geometry(1.0, Transmitter((0, 0, 0)), ["x"])
    with pytest.raises(TypeError, match="molecules must be an integer"):
        Transmitter((0, 0, 0), 1.5)
    with pytest.raises(ValueError, match="times must be >= 0"):
        as_times([0.1, -1.0])
    with pytest.raises(ValueError, match="times must be finite"):
        as_times([np.nan])
    with pytest.raises(ValueError, match="receivers\\[0\\] intersects obstacles\\[0\\]"):
        Geometry(
            1.0, Transmitter((0, 0, 0)), [Sphere((10, 0, 0), 5)], (), [Box((14, 0, 0), (20, 1, 1))]
        )
    # touching receivers and a receiver touching the plane are allowed
    Geometry.simple(1.0, (0, 20, 0), [((5, 0, 0), 5), ((15, 0, 0), 5)], [((0, 0, 0), (1, 0, 0))])
    with pytest.raises(ValueError, match="transmitters"):
        Geometry(
            1.0, (Transmitter((0, 9, 0)), Transmitter((0, 8, 0))), [Sphere((9, 0, 0), 1)]
        ).transmitter


def test_mirror_is_an_isometric_involution():
    rng = np.random.default_rng(0)
    n = rng.normal(size=3)
    pl = Plane(rng.normal(size=3), n)
    x = rng.normal(size=(20, 3)) * 5
    m = mirror_point(pl, x)
    assert np.allclose(mirror_point(pl, m), x)
    assert np.allclose(pl.signed_distance(m), -pl.signed_distance(x))
    # midpoint lies on the plane, displacement is along the normal
    assert np.allclose(pl.signed_distance((x + m) / 2), 0)
    assert np.allclose(np.cross(m - x, pl.n), 0)
    s = mirror_sphere(pl, Sphere(x[0], 2.0))
    assert s.radius == 2.0 and np.allclose(s.c, m[0])


def test_image_systems():
    x = np.array([1.0, 2.0, 3.0])
    one = image_system([Plane((2, 0, 0), (-1, 0, 0))]).apply(x)
    assert np.allclose(one, [[1, 2, 3], [3, 2, 3]])
    corner = [Plane((0, 0, 0), (1, 0, 0)), Plane((0, 0, 0), (0, 1, 0)), Plane((0, 0, 0), (0, 0, 1))]
    imgs = image_system(corner).apply(x)
    expected = {
        (sx * 1.0, sy * 2.0, sz * 3.0) for sx in (1, -1) for sy in (1, -1) for sz in (1, -1)
    }
    assert {tuple(v) for v in imgs} == expected
    assert len(image_system(corner[:2])) == 4
    with pytest.raises(ValueError, match="orthogonal"):
        image_system([Plane((0, 0, 0), (1, 0, 0)), Plane((0, 0, 0), (1, 1, 0))])
    with pytest.raises(ValueError, match="n_periods"):
        image_system([Plane((0, 0, 0), (1, 0, 0)), Plane((4, 0, 0), (-1, 0, 0))])
    with pytest.raises(ValueError, match="face each other"):
        image_system([Plane((0, 0, 0), (-1, 0, 0)), Plane((4, 0, 0), (1, 0, 0))], 2)


def test_slab_images_and_truncation_bound():
    L, D, t, r = 12.0, 79.4, 2.0, 5.0
    planes = [Plane((0, 0, 0), (1, 0, 0)), Plane((L, 0, 0), (-1, 0, 0))]
    sys3 = image_system(planes, 3)
    xs = np.sort(sys3.apply([4.0, 0, 0])[:, 0])
    # images of x in a slab [0, L]: +-x + 2kL
    want = np.sort([s * 4.0 + 2 * k * L for k in range(-3, 4) for s in (1, -1)])
    assert np.allclose(xs, want)
    # the stated bound really bounds the omitted free-space captures (brute force)
    tol = 1e-6
    K = slab_periods(L, D, t, r, tol)
    big = image_system(planes, K + 200)
    a = math.sqrt(4 * D * t)
    tx = np.array([L / 2, 0, 0])
    for cx in (r, L - r):
        c = big.apply([cx, 0, 0])
        k_index = np.abs(np.round((c[:, 0] - 0.0) / (2 * L)))
        rho = np.linalg.norm(c - tx, axis=1)
        omitted = (k_index > K) & (rho > r)
        assert np.sum(r / rho[omitted] * special.erfc((rho[omitted] - r) / a)) <= tol
    assert K >= 1


def _rotation(seed):
    q, r = np.linalg.qr(np.random.default_rng(seed).normal(size=(3, 3)))
    return q * np.sign(np.diag(r))


@settings(max_examples=40, deadline=None)
@given(
    seed=st.integers(0, 10_000),
    k=st.integers(1, 3),
    x=st.lists(st.floats(-50, 50), min_size=3, max_size=3),
)
def test_image_group_is_closed_and_isometric(seed, k, x):
    # k mutually orthogonal planes in a random orientation through a random point
    Q = _rotation(seed)
    p0 = np.random.default_rng(seed + 1).normal(size=3) * 10
    planes = [Plane(p0, Q[:, i]) for i in range(k)]
    system = image_system(planes)
    imgs = system.apply(x)
    assert len(imgs) == 2**k
    # every mirror maps the image set onto itself (closure of the reflection group)
    for pl in planes:
        mirrored = mirror_point(pl, imgs)
        d = np.linalg.norm(mirrored[:, None, :] - imgs[None, :, :], axis=-1)
        assert np.all(d.min(axis=1) < 1e-8 * (1 + np.abs(imgs).max()))
    # linear parts are orthogonal with determinant (-1)^(number of mirrors)
    for i, A in enumerate(system.matrices):
        assert np.allclose(A @ A.T, np.eye(3), atol=1e-12)
        assert np.linalg.det(A) == pytest.approx((-1) ** bin(i).count("1"))


@settings(max_examples=60, deadline=None)
@given(
    c=st.lists(st.floats(-20, 20), min_size=3, max_size=3),
    r=st.floats(0.5, 10),
    tx=st.lists(st.floats(-20, 20), min_size=3, max_size=3),
)
def test_geometry_validation_is_consistent(c, r, tx):
    # either a valid geometry (all constraints hold) or one clear ValueError line
    try:
        g = Geometry.simple(79.4, tx, [(c, r)], [((0, 0, 0), (1, 0, 0))])
    except ValueError as exc:
        assert "\n" not in str(exc)
        assert c[0] < r * (1 - 1e-12) or tx[0] < -1e-12 or np.linalg.norm(np.subtract(tx, c)) <= r
    else:
        assert g.planes[0].signed_distance(g.receivers[0].c) >= r * (1 - 1e-12)
        assert np.linalg.norm(g.transmitter.x - g.receivers[0].c) > r
        assert tx[0] >= -1e-12  # on the plane within the documented tolerance
