"""Every GAT084x/085x code: raised with a span and a help line, and documented by an explain page."""
from __future__ import annotations

import re

import pytest

from gatlang.diagnostics import EXPLAIN_DIR, Span
from gatlang.engines import pf3_result as codes
from gatlang.engines.pf3 import solve_unbalanced

from .dss_oracle import FEEDERS, import_feeder, set_column, solve_engine

SPAN = Span("study.gat", 12, 1, 12, 40)


@pytest.fixture(scope="module")
def ieee13():
    path = FEEDERS["ieee13"]
    return path, solve_engine(path)


def _net(ieee13):
    path, engine = ieee13
    return import_feeder(path, engine)


def _only(res, code):
    found = [d for d in res.diagnostics if d.code == code]
    assert found, [(d.code, d.message) for d in res.diagnostics]
    d = found[0]
    assert d.span == SPAN and d.help
    return d


def test_not_converged_names_worst_nodes(ieee13):
    res = solve_unbalanced(_net(ieee13), method="fixed_point", max_iter=2, span=SPAN)
    assert not res.converged
    d = _only(res, codes.NOT_CONVERGED)
    assert d.is_error and "worst nodes: node " in d.message and "max_iter (now 2)" in d.help


@pytest.mark.parametrize("kw", [dict(method="gauss"), dict(regulators="auto"), dict(tol=0.0),
                                dict(max_iter=0), dict(load_scale=-1.0)])
def test_bad_options(ieee13, kw):
    res = solve_unbalanced(_net(ieee13), span=SPAN, **kw)
    assert not res.converged and _only(res, codes.BAD_OPTION).is_error


def test_no_source(ieee13):
    net = _net(ieee13)
    del net.tables["sources"]
    res = solve_unbalanced(net, span=SPAN)
    assert not res.converged and _only(res, codes.NO_SOURCE).is_error


def test_open_switch_deenergises_downstream(ieee13):
    net = _net(ieee13)
    lines = net.tables["lines"]
    set_column(net, "lines", "status", [n != "671692" for n in lines.column("line").to_pylist()])
    res = solve_unbalanced(net, span=SPAN)
    assert res.converged
    d = _only(res, codes.DEENERGISED)
    assert not d.is_error and "node 692.1" in d.message
    assert abs(res.voltage("675.1")) == 0.0 and res.vm_pu[res.node_index["671.1"]] > 0.9


def test_approximated_load_model_warns(ieee13):
    net = _net(ieee13)
    models = net.tables["loads"].column("dss_model").to_pylist()
    set_column(net, "loads", "dss_model", [6] + models[1:])
    res = solve_unbalanced(net, span=SPAN)
    assert res.converged and "model 6" in _only(res, codes.LOAD_MODEL_APPROX).message


def test_singular_network_is_a_diagnostic_not_a_traceback(ieee13):
    """A delta-delta bank without its anti-floating shunt leaves the secondary floating."""
    net = _net(ieee13)
    xf = net.tables["transformers"]
    set_column(net, "transformers", "connections",
               [["delta", "delta"] if n == "xfm1" else c for n, c in zip(xf.column("transformer").to_pylist(),
                                                                         xf.column("connections").to_pylist())])
    set_column(net, "transformers", "ppm_antifloat", [0.0] * xf.num_rows)
    loads = net.tables["loads"]
    set_column(net, "loads", "status", [b != "634" for b in loads.column("bus").to_pylist()])
    res = solve_unbalanced(net, span=SPAN)
    assert not res.converged
    errs = [d for d in res.diagnostics if d.is_error]
    assert errs and errs[0].code in {codes.SINGULAR, codes.NOT_CONVERGED, codes.DIVERGED} and errs[0].span == SPAN


def test_every_code_has_an_explain_page():
    defined = {v for k, v in vars(codes).items() if k.isupper() and isinstance(v, str) and v.startswith("GAT")}
    assert defined == {f"GAT08{n}" for n in range(40, 51)}
    for code in defined:
        page = (EXPLAIN_DIR / f"{code}.md").read_text()
        first = page.splitlines()[0]
        assert re.fullmatch(rf"# {code} [a-z0-9]+(-[a-z0-9]+)*", first), first
        assert "## Example" in page and "## How to fix" in page
