"""Repository-wide pytest configuration (loaded for both libraries' test folders).

Hypothesis runs derandomized (examples derived from each test, no example database), so CI and
every developer see the same examples: a property test either always passes or always fails.
"""

from hypothesis import settings

settings.register_profile("repo", derandomize=True, database=None)
settings.load_profile("repo")
