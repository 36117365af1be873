"""gatlang.backends"""
