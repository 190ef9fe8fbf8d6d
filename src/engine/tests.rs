//! Engine tests: simulated inputs at explicit times.
