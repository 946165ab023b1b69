//! The project's sled store: score snapshots, the outcome ledger, interventions,
//! account notes and the model registry, behind one wrapper that owns the paths,
//! the lock and the versioned encodings.
