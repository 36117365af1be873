"""gatlang.engines"""
