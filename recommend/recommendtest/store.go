package recommendtest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"github.com/tact-go/tact/recommend"
)

// ProfileStore is what [Run] exercises: the reads a
// Recommender makes, the writes a host makes, and export and erasure of one
// person. [recommend.MemoryStore] implements it.
type ProfileStore interface {
	recommend.Profiles
	SetPreferences(ctx context.Context, person string, p recommend.Preferences) error
	AddFeedback(ctx context.Context, person string, f ...recommend.Feedback) error
	AddEvents(ctx context.Context, person string, e ...recommend.Event) error
	Export(ctx context.Context, person string) (recommend.Profile, error)
	Erase(ctx context.Context, person string) error
}

var _ ProfileStore = (*recommend.MemoryStore)(nil)

// Run runs the conformance suite for profile stores, as consenttest.Run
// does for consent stores: newStore is called once per subtest, with the
// subtest's t (for t.TempDir and t.Cleanup), and must return a new, empty
// store. It checks: round trips of each kind of data, times to the
// nanosecond; an unknown person reads as empty, not an error; empty ids are
// rejected with [recommend.ErrEmptyID] and nothing is stored; Export
// returns a copy that does not alias the store; Erase removes one person
// and only that person, and is idempotent; concurrent reads and writes are
// safe (run with -race).
func Run(t *testing.T, newStore func(t *testing.T) ProfileStore) {
	t.Helper()
	ctx := context.Background()
	at := Epoch.Add(time.Hour)
	prefs := recommend.Preferences{
		Interests: []recommend.Interest{{Text: "you're training for a marathon", Tags: []string{"marathon", "running"}}},
		Avoid:     []string{"leather"},
		MaxPrice:  120,
		Sizes:     []string{"shoe:42"},
	}
	fb := []recommend.Feedback{{Item: "a", Kind: recommend.Liked, At: at}, {Item: "b", Kind: recommend.NotInterested, At: at}}
	ev := []recommend.Event{{Item: "a", Kind: recommend.Purchase, At: at}, {Item: "c", Kind: recommend.View, At: at.Add(time.Minute)}}
	fill := func(t *testing.T, s ProfileStore, person string) {
		t.Helper()
		if err := s.SetPreferences(ctx, person, prefs); err != nil {
			t.Fatalf("SetPreferences: %v", err)
		}
		if err := s.AddFeedback(ctx, person, fb...); err != nil {
			t.Fatalf("AddFeedback: %v", err)
		}
		if err := s.AddEvents(ctx, person, ev...); err != nil {
			t.Fatalf("AddEvents: %v", err)
		}
	}
	t.Run("RoundTrip", func(t *testing.T) {
		s := newStore(t)
		fill(t, s, "p1")
		p, err := s.Preferences(ctx, "p1")
		if err != nil || fmt.Sprint(p) != fmt.Sprint(prefs) {
			t.Errorf("Preferences = %v, %v; want %v", p, err, prefs)
		}
		f, err := s.Feedback(ctx, "p1")
		if err != nil || !sameMultiset(f, fb) {
			t.Errorf("Feedback = %v, %v; want %v", f, err, fb)
		}
		e, err := s.History(ctx, "p1")
		if err != nil || !sameMultiset(e, ev) {
			t.Errorf("History = %v, %v; want %v", e, err, ev)
		}
		// Replacing the preferences replaces them all; odd text survives.
		odd := recommend.Preferences{Interests: []recommend.Interest{{Text: "tu cours un marathon — 42,195 km ✓", Tags: []string{"Ünïcode", ""}}}}
		if err := s.SetPreferences(ctx, "p1", odd); err != nil {
			t.Fatal(err)
		}
		if p, err := s.Preferences(ctx, "p1"); err != nil || fmt.Sprint(p) != fmt.Sprint(odd) {
			t.Errorf("Preferences after a second SetPreferences = %v, %v; want %v", p, err, odd)
		}
		// Times keep their nanoseconds and come back in UTC.
		fine := recommend.Event{Item: "n", Kind: recommend.View, At: time.Date(2025, 3, 4, 5, 6, 7, 123456789, time.FixedZone("X", 3600))}
		if err := s.AddEvents(ctx, "p3", fine); err != nil {
			t.Fatal(err)
		}
		if e, err := s.History(ctx, "p3"); err != nil || len(e) != 1 || !e[0].At.Equal(fine.At) || e[0].At.Nanosecond() != 123456789 {
			t.Errorf("History(p3) = %v, %v; want %v to the nanosecond", e, err, fine)
		}
	})
	t.Run("UnknownPersonIsEmpty", func(t *testing.T) {
		s := newStore(t)
		p, err := s.Preferences(ctx, "nobody")
		if err != nil || len(p.Interests) != 0 || p.MaxPrice != 0 {
			t.Errorf("Preferences(unknown) = %v, %v; want zero, nil", p, err)
		}
		if f, err := s.Feedback(ctx, "nobody"); err != nil || len(f) != 0 {
			t.Errorf("Feedback(unknown) = %v, %v", f, err)
		}
		if e, err := s.History(ctx, "nobody"); err != nil || len(e) != 0 {
			t.Errorf("History(unknown) = %v, %v", e, err)
		}
		if x, err := s.Export(ctx, "nobody"); err != nil || len(x.History) != 0 {
			t.Errorf("Export(unknown) = %v, %v", x, err)
		}
	})
	t.Run("EmptyIDsRejected", func(t *testing.T) {
		s := newStore(t)
		if err := s.SetPreferences(ctx, "", prefs); !errors.Is(err, recommend.ErrEmptyID) {
			t.Errorf("SetPreferences(\"\") = %v; want ErrEmptyID", err)
		}
		if err := s.AddEvents(ctx, "p", recommend.Event{Item: "ok"}, recommend.Event{Item: ""}); !errors.Is(err, recommend.ErrEmptyID) {
			t.Errorf("AddEvents(empty item) = %v; want ErrEmptyID", err)
		}
		if err := s.AddFeedback(ctx, "p", recommend.Feedback{Item: "", Kind: recommend.Liked}); !errors.Is(err, recommend.ErrEmptyID) {
			t.Errorf("AddFeedback(empty item) = %v; want ErrEmptyID", err)
		}
		if e, _ := s.History(ctx, "p"); len(e) != 0 {
			t.Errorf("a rejected AddEvents stored %v", e)
		}
	})
	t.Run("ExportIsACopy", func(t *testing.T) {
		s := newStore(t)
		fill(t, s, "p1")
		x, err := s.Export(ctx, "p1")
		if err != nil {
			t.Fatal(err)
		}
		if len(x.History) != len(ev) || len(x.Feedback) != len(fb) || len(x.Preferences.Interests) != 1 {
			t.Fatalf("Export = %+v; want everything stored", x)
		}
		x.History[0].Item = "mutated"
		x.Preferences.Interests[0].Tags[0] = "mutated"
		x.Feedback[0].Item = "mutated"
		y, _ := s.Export(ctx, "p1")
		mutated := y.Preferences.Interests[0].Tags[0] == "mutated"
		for _, e := range y.History {
			mutated = mutated || e.Item == "mutated"
		}
		for _, f := range y.Feedback {
			mutated = mutated || f.Item == "mutated"
		}
		if mutated {
			t.Errorf("modifying an export changed the store: %+v", y)
		}
	})
	t.Run("EraseOnePerson", func(t *testing.T) {
		s := newStore(t)
		fill(t, s, "p1")
		fill(t, s, "p2")
		if err := s.Erase(ctx, "p1"); err != nil {
			t.Fatal(err)
		}
		x, err := s.Export(ctx, "p1")
		if err != nil || len(x.History)+len(x.Feedback)+len(x.Preferences.Interests) != 0 {
			t.Errorf("after Erase, Export(p1) = %+v, %v; want empty", x, err)
		}
		if e, _ := s.History(ctx, "p1"); len(e) != 0 {
			t.Errorf("after Erase, History(p1) = %v", e)
		}
		y, _ := s.Export(ctx, "p2")
		if len(y.History) != len(ev) {
			t.Errorf("Erase(p1) touched p2: %+v", y)
		}
		if err := s.Erase(ctx, "p1"); err != nil {
			t.Errorf("second Erase = %v; want nil", err)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := newStore(t)
		var wg sync.WaitGroup
		for g := 0; g < 4; g++ {
			wg.Add(1)
			go func() {
				defer wg.Done()
				person := fmt.Sprint("p", g%2)
				for i := 0; i < 50; i++ {
					_ = s.AddEvents(ctx, person, recommend.Event{Item: fmt.Sprint("i", i), At: at})
					_, _ = s.History(ctx, person)
					_, _ = s.Preferences(ctx, person)
					_, _ = s.Export(ctx, person)
					if i == 25 {
						_ = s.Erase(ctx, person)
					}
				}
			}()
		}
		wg.Wait()
	})
}

func sameMultiset[T comparable](a, b []T) bool {
	if len(a) != len(b) {
		return false
	}
	n := make(map[T]int)
	for _, x := range a {
		n[x]++
	}
	for _, x := range b {
		n[x]--
		if n[x] < 0 {
			return false
		}
	}
	return true
}
