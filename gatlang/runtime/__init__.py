"""gatlang.runtime"""
