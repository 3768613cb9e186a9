"""Regenerate dadapy_twonn.json: DADApy's TwoNN on the data sets of test_reference_values.py.

DADApy pins numpy < 2, so it lives outside the project's environment:
    bash benchmarks/setup_peers.sh
    benchmarks/.venv-dadapy/bin/python tests/data/make_dadapy_reference.py
The data sets are rebuilt from seeds by tests/reference_data.py (numpy only, same in both).
"""

import json
import sys
from pathlib import Path

from dadapy import Data

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))
from reference_data import REFERENCE_SETS  # noqa: E402

out = {}
for name, make in REFERENCE_SETS.items():
    X = make()
    base, _, _ = Data(coordinates=X, maxk=3).compute_id_2NN(algorithm="base", mu_fraction=0.9)
    ml, _, _ = Data(coordinates=X, maxk=3).compute_id_2NN(algorithm="ml", mu_fraction=0.9)
    out[name] = {"base": float(base), "ml": float(ml)}
    print(name, out[name])
(Path(__file__).parent / "dadapy_twonn.json").write_text(json.dumps(out, indent=2) + "\n")
