// The Consensus module: see docs/ARCHITECTURE.md for its job. Its issue fills this folder.
