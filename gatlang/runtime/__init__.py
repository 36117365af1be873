"""gatlang.runtime: run folders, run.json manifests, content hashes, resumable re-runs.

Modules, one job each:

- :mod:`.hashing`  -- streaming file hashes and stable hashes of key components
- :mod:`.jsonable` -- numpy/enum/path/dataclass values to plain JSON values
- :mod:`.atomic`   -- write-to-temporary-then-rename for Parquet (with units) and JSON
- :mod:`.schema`   -- the JSON Schema of run.json and its validator
- :mod:`.manifest` -- reading a previous run.json safely; host facts; timestamps
- :mod:`.reasons`  -- turning key differences into "input data/case5.m changed"
- :mod:`.lock`     -- one writer per run folder
- :mod:`.store`    -- :class:`RunStore`, the API the compiler uses
- :mod:`.units`    -- units of output columns from their names (``pg_mw`` -> MW)
- :mod:`.progress` -- progress bars and notes on stderr
- :mod:`.codes`    -- diagnostics GAT0900-GAT0919
"""
from .atomic import units_of, write_json_atomic, write_parquet_atomic
from .hashing import hash_parts, sha256_file
from .progress import Progress
from .store import RunStore, StepOutcome, StepPlan

__all__ = ["Progress", "RunStore", "StepOutcome", "StepPlan", "hash_parts", "sha256_file", "units_of",
           "write_json_atomic", "write_parquet_atomic"]
