package consent

// The enumerations (Action, Source, Actor, Basis, Reason, Regime) encode as
// the words in their name tables; these two helpers read the tables.

// name returns names[v], or "unknown" for a value out of range.
func name[T ~uint8](names []string, v T) string {
	if int(v) < len(names) {
		return names[v]
	}
	return "unknown"
}

// lookup returns the value named s, among first and the values after it.
func lookup[T ~uint8](names []string, s string, first T) (T, bool) {
	for v := int(first); v < len(names); v++ {
		if names[v] == s {
			return T(v), true
		}
	}
	return first, false
}
