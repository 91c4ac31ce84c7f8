import os
import sys

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))

VECTORS = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "..", "..", "tests",
                       "vectors")
