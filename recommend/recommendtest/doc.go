// Package recommendtest provides fixtures and conformance tests for code
// that uses package recommend: a deterministic synthetic world (catalog,
// shoppers, interactions) generated from a seed, an in-memory consent fake
// implementing [recommend.Decider], and [Run], a conformance
// suite any [recommend.Profiles] implementation with export and erasure can
// run.
//
// Everything here is deterministic for a given seed, does no I/O and is
// safe to use from parallel tests.
package recommendtest
