"""A smart-meter pipeline on TDengine: generate, ingest, query, detect faults, forecast load.

Modules, in pipeline order:

- `data`: a fleet of simulated meters on feeders, with injected faults and their known truth;
- `sql`, `lineproto`: the statements and schemaless lines sent to TDengine;
- `connect`: DSN parsing, a fast reachability probe, the REST / WebSocket / native clients, and
  the gate that decides whether the tests against a real server run;
- `ingest`: batched, optionally parallel writes through one client kind;
- `queries`: the analysis queries (INTERVAL + FILL, LAST_ROW, STATE_WINDOW) and their results;
- `context`: feeder context (peer voltage) and 15-minute load profiles, from the store or from a
  generated dev fleet;
- `detect`, `forecast`, `evaluate`: the detector and the trivial rules it must beat, the
  seasonal forecasts, precision / recall / F1;
- `targets`: the report every command prints (targets against same-run baselines or citations);
- `fake_server`: a loopback test double of taosAdapter's REST endpoint, for the offline smoke run
  and the tests;
- `pipeline`: the smoke run, the studies, and the real-mode commands that `__main__` exposes.
"""

__version__ = "0.1.0"
