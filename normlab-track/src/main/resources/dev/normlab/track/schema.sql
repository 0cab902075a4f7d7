-- The normlab run store: one SQLite file (WAL mode), readable with the sqlite3 command.
-- Version 1. Writers: dev.normlab.track.store; readers: the store's query API, the dashboard, the report.
PRAGMA user_version = 1;

-- One row per training run.
CREATE TABLE IF NOT EXISTS runs (
  id          TEXT PRIMARY KEY,          -- short random id, e.g. '3f9a2c1b'
  name        TEXT NOT NULL,             -- e.g. 'mnist-instance'
  grp         TEXT,                      -- group, e.g. the compare invocation 'compare-20261125-101500'
  status      TEXT NOT NULL CHECK (status IN ('running','finished','failed','killed')),
  started_at  REAL NOT NULL,             -- unix seconds
  ended_at    REAL,                      -- null while running
  heartbeat   REAL,                      -- unix seconds of the writer's last sign of life
  pid         INTEGER,                   -- writer process id (to tell a killed run from a live one)
  host        TEXT,
  notes       TEXT,
  error       TEXT                       -- failure message when status = 'failed'
);

CREATE TABLE IF NOT EXISTS run_tags (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  tag    TEXT NOT NULL,
  PRIMARY KEY (run_id, tag)
);

-- Config with nested keys flattened ('optimizer.lr'); value as JSON text, plus a copy for sorting.
CREATE TABLE IF NOT EXISTS run_config (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  value  TEXT NOT NULL,                  -- JSON scalar: 0.01, "instance", true
  num    REAL,                           -- the value when it is a number, else null
  PRIMARY KEY (run_id, key)
);

-- Metric history: one row per (run, key, step). Logging an existing step again is an error.
CREATE TABLE IF NOT EXISTS metrics (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key    TEXT NOT NULL,                  -- 'train/loss', 'test/accuracy', 'epoch', ...
  step   INTEGER NOT NULL,
  value  REAL,                           -- NaN/Inf stored as NULL
  wall   REAL NOT NULL,                  -- unix seconds
  PRIMARY KEY (run_id, key, step)
) WITHOUT ROWID;

-- Summary per key, with the rule that produced it.
CREATE TABLE IF NOT EXISTS summary (
  run_id TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  key    TEXT NOT NULL,
  rule   TEXT NOT NULL CHECK (rule IN ('last','min','max','best_min','best_max')),
  value  REAL,
  step   INTEGER,                        -- step at which the value was reached
  PRIMARY KEY (run_id, key)
);

-- Tables (e.g. 'predictions'): typed columns, rows written in batches.
CREATE TABLE IF NOT EXISTS tables (
  run_id  TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  name    TEXT NOT NULL,
  columns TEXT NOT NULL,                 -- JSON: [{"name":"image","type":"image"}, ...]; types: number,text,image,probabilities
  nrows   INTEGER NOT NULL DEFAULT 0,
  PRIMARY KEY (run_id, name)
);

CREATE TABLE IF NOT EXISTS table_rows (
  run_id TEXT NOT NULL,
  name   TEXT NOT NULL,
  row    INTEGER NOT NULL,               -- 0-based row index
  data   TEXT NOT NULL,                  -- JSON array, one value per column; images as {"w":28,"h":28,"png":"<base64>"},
                                         -- probabilities as an array of numbers
  PRIMARY KEY (run_id, name, row),
  FOREIGN KEY (run_id, name) REFERENCES tables(run_id, name) ON DELETE CASCADE
) WITHOUT ROWID;

-- Predictions of an evaluated run, also as plain columns so the dashboard can filter/sort/page in SQL.
CREATE TABLE IF NOT EXISTS predictions (
  run_id     TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  example_id INTEGER NOT NULL,           -- index in the test set
  label      INTEGER NOT NULL,
  predicted  INTEGER NOT NULL,
  confidence REAL NOT NULL,
  probs      TEXT NOT NULL,              -- JSON array of class probabilities
  image      BLOB,                       -- PNG (grey, e.g. 28x28)
  PRIMARY KEY (run_id, example_id)
) WITHOUT ROWID;

-- The shifted test sets a run's checkpoint was evaluated on (normlab robustness), in the order
-- they were evaluated: each set's predictions are in shifted_predictions, its images in
-- shifted_images (once per image set, however many runs saw them).
CREATE TABLE IF NOT EXISTS shifted_sets (
  id       INTEGER PRIMARY KEY,
  run_id   TEXT NOT NULL REFERENCES runs(id) ON DELETE CASCADE,
  shift    TEXT NOT NULL,                -- as in the summary's robustness/<shift>: 'clean', 'invert', 'adapted/invert'
  images   TEXT NOT NULL,                -- the image set, e.g. 'mnist/noise_0.5/seed=0' (a key of shifted_images)
  accuracy REAL,                         -- test accuracy (%) on it
  UNIQUE (run_id, shift)
);

-- One row per example of a shifted set.
CREATE TABLE IF NOT EXISTS shifted_predictions (
  set_id     INTEGER NOT NULL REFERENCES shifted_sets(id) ON DELETE CASCADE,
  example_id INTEGER NOT NULL,           -- index in the test set
  label      INTEGER NOT NULL,
  predicted  INTEGER NOT NULL,
  confidence REAL NOT NULL,
  PRIMARY KEY (set_id, example_id)
) WITHOUT ROWID;

-- Shifted test images, each image set once however many runs were evaluated on it.
CREATE TABLE IF NOT EXISTS shifted_images (
  images     TEXT NOT NULL,
  example_id INTEGER NOT NULL,
  image      BLOB NOT NULL,              -- PNG (grey, e.g. 28x28)
  PRIMARY KEY (images, example_id)
) WITHOUT ROWID;

CREATE INDEX IF NOT EXISTS runs_grp ON runs(grp);
CREATE INDEX IF NOT EXISTS predictions_mistakes ON predictions(run_id, predicted, label);
