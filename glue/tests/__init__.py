"""Unit tests of the Glue job logic (stdlib unittest, no Spark needed).

Run from glue/:  python3 -m unittest discover -s tests -v
"""

import os
import sys

_GLUE_DIR = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if _GLUE_DIR not in sys.path:
    sys.path.insert(0, _GLUE_DIR)
