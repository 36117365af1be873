"""gatlang.syntax"""
