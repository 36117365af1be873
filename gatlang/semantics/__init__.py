"""gatlang.semantics"""
