"""o1lite: a small, readable rebuild of o1-Coder and of competitive-programming
test-time strategies, on tiny Qwen2-architecture models.

Importing the package is cheap: heavy libraries (torch, transformers, trl) are
imported only by the modules that need them (`models`, `generation`, …).
"""

__version__ = "0.1.0"
