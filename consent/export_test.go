package consent

// Chain makes a record as the Gate would, for tests that forge ledgers the
// way an attacker who knows the format could.
func Chain(prev Hash, seq, back uint64, salt Salt, ev Event) Record {
	return chain(prev, seq, back, salt, ev)
}
