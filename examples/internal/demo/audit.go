package demo

import (
	"context"
	"log/slog"
	"slices"
	"strings"
	"sync"
)

// AuditCounter is a slog.Handler that counts audit events by kind (the
// record's message, such as "consent.change") and purpose (the "purpose"
// attribute, or each entry of a comma-separated "purposes" attribute), and
// can pass every record on to another handler. It is safe for concurrent
// use.
type AuditCounter struct {
	next slog.Handler // may be nil
	mu   *sync.Mutex
	n    map[AuditKey]int
}

// AuditKey is what AuditCounter counts by.
type AuditKey struct{ Event, Purpose string }

// NewAuditCounter returns a counter that passes records on to next, if not
// nil.
func NewAuditCounter(next slog.Handler) *AuditCounter {
	return &AuditCounter{next: next, mu: new(sync.Mutex), n: make(map[AuditKey]int)}
}

// Enabled implements slog.Handler: audit events are logged at Info.
func (a *AuditCounter) Enabled(_ context.Context, l slog.Level) bool { return l >= slog.LevelInfo }

// Handle implements slog.Handler.
func (a *AuditCounter) Handle(ctx context.Context, r slog.Record) error {
	var purposes []string
	r.Attrs(func(at slog.Attr) bool {
		switch at.Key {
		case "purpose":
			purposes = append(purposes, at.Value.String())
		case "purposes":
			if v := at.Value.String(); v != "" {
				purposes = append(purposes, strings.Split(v, ",")...)
			}
		}
		return true
	})
	if len(purposes) == 0 {
		purposes = []string{""}
	}
	a.mu.Lock()
	for _, p := range purposes {
		a.n[AuditKey{r.Message, p}]++
	}
	a.mu.Unlock()
	if a.next != nil {
		return a.next.Handle(ctx, r)
	}
	return nil
}

// WithAttrs implements slog.Handler.
func (a *AuditCounter) WithAttrs(as []slog.Attr) slog.Handler {
	b := *a
	if a.next != nil {
		b.next = a.next.WithAttrs(as)
	}
	return &b
}

// WithGroup implements slog.Handler.
func (a *AuditCounter) WithGroup(name string) slog.Handler {
	b := *a
	if a.next != nil {
		b.next = a.next.WithGroup(name)
	}
	return &b
}

// AuditCount is one line of Counts.
type AuditCount struct {
	AuditKey
	N int
}

// Counts returns the counts so far, sorted by event kind, then purpose.
func (a *AuditCounter) Counts() []AuditCount {
	a.mu.Lock()
	out := make([]AuditCount, 0, len(a.n))
	for k, n := range a.n {
		out = append(out, AuditCount{k, n})
	}
	a.mu.Unlock()
	slices.SortFunc(out, func(x, y AuditCount) int {
		if c := strings.Compare(x.Event, y.Event); c != 0 {
			return c
		}
		return strings.Compare(x.Purpose, y.Purpose)
	})
	return out
}
