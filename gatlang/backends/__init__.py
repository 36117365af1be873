"""gatlang.backends: from a built Pyomo model to a solved one.

The compiler calls two functions:

* :func:`gatlang.backends.classify.classify` -- the model's problem class
  (LP, QP, QCP, MILP, MIQP, MIQCP, NLP, MINLP);
* :func:`gatlang.backends.solvers.solve` -- pick the solver for that class,
  map options, hand the model over, run, load values back and explain the
  outcome (a :class:`~gatlang.backends.solver_types.SolveResult`).

For big LP/QP/MILP built straight from the compiler's index arrays,
:func:`gatlang.backends.matrix.solve_matrix` skips Pyomo altogether and
returns the same kind of result.

``gatc doctor`` prints :func:`gatlang.backends.solver_registry.doctor_report`.

Module map: ``solver_types`` (plain result types, no Pyomo import),
``solver_env`` (PYOMO_CONFIG_DIR before Pyomo), ``solver_registry`` (which
solvers exist, which class goes where), ``solver_options`` (common option
vocabulary, checks against the real solver), ``solver_adapters`` (one runner
per solver), ``highs_direct`` and ``linear_walk`` (the fast LP/QP/MILP
hand-off), ``matrix`` (the array route), ``iis`` and ``elastic`` (naming the conflicting
constraints), ``solver_messages``
(outcome -> coded diagnostic).

Nothing is imported here so that reading ``solver_types`` stays cheap.
"""
