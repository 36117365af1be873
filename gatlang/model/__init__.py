"""gatlang.model"""
