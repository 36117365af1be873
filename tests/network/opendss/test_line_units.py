"""Length units of lines as the engine applies them, checked against its ``SystemY()``.

Oracle: OpenDSS (opendssdirect) compiling the same one-line circuit.  The
cases cover the engine's rules (gatlang/network/opendss/convert/lines.py):
default data with every unit, line codes with and without units, a line's
unit different from its code's, repeated ``units=``, sequence data that
drop the code and the unit, the default capacitance read per kft when only
r/x were given, matrices overridden by pending sequence data, and ``like=``
(which copies neither the code nor the unit).
"""
from __future__ import annotations

from pathlib import Path

import pytest

from .engine import assert_y_matches

_HEAD = (
    "clear\nnew circuit.t basekv=12.47 bus1=b\n"
    "new linecode.seq_mi nphases=3 r1=0.3 x1=0.6 r0=0.9 x0=1.8 c1=10 c0=5 units=mi\n"
    "new linecode.seq_none nphases=3 r1=0.3 x1=0.6 r0=0.9 x0=1.8 c1=10 c0=5\n"
    "new linecode.default_km nphases=3 units=km\n"
    "new linecode.default_none nphases=3\n"
    "new linecode.units_first units=mi nphases=3 r1=0.3 x1=0.6 r0=0.9 x0=1.8 c1=10 c0=5\n"
    "new linecode.matrix_mi nphases=3 rmatrix=[0.3|0.1 0.3|0.1 0.1 0.3] xmatrix=[1|0.4 1|0.4 0.4 1] "
    "cmatrix=[10|-2 10|-2 -2 10] units=mi\n"
)
#: lines that ``like=`` copies (only in the circuit of the case that names them)
_LIKE = {"seq_km": "r1=0.1 length=2 units=km", "code_km": "linecode=seq_mi length=2 units=km",
         "default_km": "length=3 units=km", "with_c": "r1=0.1 c1=5 units=ft length=300"}
CASES = {
    # defaults (per kft) with every unit: the unit alone converts nothing
    **{f"default_{u}": f"length=2 units={u}" for u in ("none", "km", "mi", "kft", "ft", "m")},
    # line codes with and without units, line unit different from the code's
    "code_mi_no_line_unit": "linecode=seq_mi length=2",
    "code_mi_line_km": "linecode=seq_mi length=2 units=km",
    "code_mi_line_ft_before": "units=ft linecode=seq_mi length=2",
    "code_no_unit_line_km": "linecode=seq_none length=2 units=km",
    "code_defaults_km_line_ft": "linecode=default_km length=2 units=ft",
    "code_defaults_no_unit_line_ft": "linecode=default_none length=2 units=ft",
    "code_units_given_first": "linecode=units_first length=3 units=kft",
    "code_matrix_line_km": "linecode=matrix_mi units=km length=2",
    "code_unit_changed_twice": "linecode=seq_mi units=ft units=km length=2",
    # r/x without capacitance: the default (or held) capacitance is per kft, converted to the unit
    **{f"r1_only_{u}": f"r1=0.1 length=2 units={u}" for u in ("km", "mi", "kft", "ft", "m")},
    "unit_before_r1": "units=km r1=0.1 length=2",
    "r1_then_c1": "r1=0.1 c1=5 length=2 units=km",
    "b1_only": "b1=3 units=km length=2",
    "code_then_r1": "linecode=seq_mi r1=0.3 length=2 units=km",
    "defaults_code_then_r1": "linecode=default_km r1=0.2 units=km length=2",
    "r1_then_code": "r1=0.1 units=km linecode=seq_mi length=2",
    "phases_after_r1": "r1=0.1 phases=1 bus1=b.1 bus2=x.1 units=km length=2",
    "switch_then_unit": "switch=y units=km",
    # a second unit without a code converts from the first
    "unit_changed_twice": "units=km length=2 units=ft",
    "r1_unit_changed_twice": "units=mi length=2 r1=0.2 units=ft units=km",
    # pending sequence data rebuild the matrices, even those given after them or by a matrix code
    "r1_then_rmatrix": "r1=0.1 units=km rmatrix=[0.3|0.1 0.3|0.1 0.1 0.3] length=2",
    "rmatrix_then_r1": "rmatrix=[0.3|0.1 0.3|0.1 0.1 0.3] r1=0.1 length=2",
    "r1_then_matrix_code": "r1=0.1 linecode=matrix_mi length=2",
    "matrix_code_then_r1_cmatrix": "linecode=matrix_mi r1=0.1 units=km length=2 cmatrix=[5|-1 5|-1 -1 5]",
    # like= copies the matrices as last computed and the length, not the code or the unit
    "like_r1_line": "like=seq_km",
    "like_r1_line_then_r1": "like=seq_km r1=0.2",
    "like_code_line_then_ft": "like=code_km units=ft",
    "like_default_line_then_ft": "like=default_km units=ft",
    "like_then_r1_and_unit": "like=default_km r1=0.3 units=ft",
    "like_line_with_c_then_x1": "like=with_c x1=0.3 units=mi",
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_line_units_match_engine(case: str, tmp_path: Path) -> None:
    f = tmp_path / "c.dss"
    props = CASES[case]
    like = [f"new line.{k} bus1=b bus2=y {v}\n" for k, v in _LIKE.items() if f"like={k} " in props + " "]
    f.write_text(_HEAD + "".join(like) + f"new line.e bus1=b bus2=x {props}\n")
    assert_y_matches(f, rtol=1e-9)
