"""A smart-meter pipeline on TDengine: generate, ingest, query, and score anomalies.

Modules, in pipeline order:

- `data`: a fleet of simulated meters with injected anomalies and their known truth;
- `sql`, `lineproto`: the statements and schemaless lines sent to TDengine;
- `connect`: DSN parsing, a fast reachability probe, and the REST / WebSocket / native clients;
- `ingest`: batched, optionally parallel writes through one client kind;
- `queries`: the analysis queries (INTERVAL + FILL, LAST_ROW, STATE_WINDOW) and their results;
- `detect`, `evaluate`: the anomaly scorer, the static-threshold baseline, precision / recall / F1;
- `fake_server`: a loopback stand-in for taosAdapter's REST endpoint, for the offline smoke run
  and the tests;
- `pipeline`: the smoke run and the real-mode commands that `__main__` exposes.
"""

__version__ = "0.1.0"
