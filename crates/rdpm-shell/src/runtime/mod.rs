//! The evaluator and the execution context commands run in.
