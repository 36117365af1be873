"""gatlang.workflows"""
