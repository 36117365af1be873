"""`gatc doctor`'s report on this machine, where the bootstrap installed all three solvers."""
from __future__ import annotations

import highspy
import pyscipopt

from gatlang.backends.solver_registry import available_solvers, default_solver, doctor_report
from gatlang.backends.solver_types import ProblemClass as PC


def test_all_three_solvers_probe_available_with_their_real_versions():
    infos = {i.name: i for i in available_solvers()}
    assert all(i.available for i in infos.values()), {n: i.reason for n, i in infos.items()}
    h = highspy.Highs()
    assert infos["highs"].version == f"{h.versionMajor()}.{h.versionMinor()}.{h.versionPatch()}"
    assert infos["scip"].version.split(".")[0] == str(pyscipopt.Model().getMajorVersion())


def test_default_solver_per_class():
    assert [default_solver(pc) for pc in (PC.LP, PC.QP, PC.MILP, PC.MIQP, PC.NLP, PC.QCP, PC.MINLP)] == \
        ["highs", "highs", "highs", "scip", "ipopt", "ipopt", "scip"]


def test_report_lists_solvers_versions_and_routing():
    text = doctor_report()
    for needle in ("Solvers:", "highs", "scip", "ipopt", "Ipopt bridge: present",
                   "LP     -> highs", "NLP    -> ipopt", "MINLP  -> scip", "PYOMO_CONFIG_DIR"):
        assert needle in text, needle
