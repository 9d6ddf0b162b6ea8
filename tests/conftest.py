"""Test-suite settings shared by every test module."""
import os

from hypothesis import settings

# In CI the property tests draw the same examples every run, so a submission's result does
# not depend on luck; locally they explore new examples each time.
settings.register_profile("ci", derandomize=True, deadline=None, print_blob=True)
if os.environ.get("CI"):
    settings.load_profile("ci")
