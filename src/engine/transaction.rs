//! Transactions: expanding a requested job over dependencies, merging with installed jobs,
//! ordering and cycle detection.
