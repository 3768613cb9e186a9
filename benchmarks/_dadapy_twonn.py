"""Run inside the DADApy environment: time DADApy's TwoNN on a saved matrix, print JSON."""

import json
import sys
import time

import numpy as np
from dadapy import Data

X = np.load(sys.argv[1])
start = time.perf_counter()
dimension, error, _ = Data(coordinates=X, maxk=3, n_jobs=1).compute_id_2NN()
print(json.dumps({"seconds": time.perf_counter() - start, "value": float(dimension)}))
