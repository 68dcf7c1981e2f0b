package consenttest

import (
	"context"
	"fmt"
	"runtime"
	"strings"
	"sync"
	"testing"

	"github.com/tact-go/tact/consent"
)

// recorder is a testing.TB that records failures instead of reporting them,
// so the suite can be run against broken stores.
type recorder struct {
	testing.TB
	mu     sync.Mutex
	failed []string
}

func (r *recorder) Helper() {}
func (r *recorder) Errorf(format string, args ...any) {
	r.mu.Lock()
	defer r.mu.Unlock()
	r.failed = append(r.failed, fmt.Sprintf(format, args...))
}
func (r *recorder) Error(args ...any) { r.Errorf("%s", fmt.Sprint(args...)) }
func (r *recorder) Fatalf(format string, args ...any) {
	r.Errorf(format, args...)
	runtime.Goexit()
}
func (r *recorder) Fatal(args ...any) { r.Fatalf("%s", fmt.Sprint(args...)) }
func (r *recorder) Skip(args ...any)  { r.SkipNow() }
func (r *recorder) SkipNow()          { runtime.Goexit() }

// runCase runs one case of the suite and returns its failures.
func runCase(name string, s consent.Store) []string {
	r := &recorder{}
	for _, c := range cases {
		if c.name != name {
			continue
		}
		done := make(chan struct{})
		go func() {
			defer close(done)
			c.run(r, s)
		}()
		<-done
		return r.failed
	}
	panic("no case " + name)
}

// Broken stores, each violating one rule of the contract.
type (
	// noConflict appends whatever it is given.
	noConflict struct{ *consent.MemoryStore }
	// firstWins returns the first record appended for a key, not the last.
	firstWins struct{ *consent.MemoryStore }
	// redactNothing accepts Redact and does nothing.
	redactNothing struct{ *consent.MemoryStore }
	// scanUnordered visits records newest first.
	scanUnordered struct{ *consent.MemoryStore }
	// scanIgnoresAfter visits a subject's records from the first, whatever
	// after says. Wrapped in generic so that the Gate takes the Store path.
	scanIgnoresAfter struct{ generic }
	// generic hides a MemoryStore behind the Store interface.
	generic struct{ consent.Store }
	// noRefusals reports no refusal in its standings.
	noRefusals struct{ *consent.MemoryStore }
	// noLinks appends records whatever their subject links say.
	noLinks struct{ *consent.MemoryStore }
)

func (s noRefusals) Standings(ctx context.Context, subject string, ps []consent.Purpose, out []consent.Standing) error {
	err := s.MemoryStore.Standings(ctx, subject, ps, out)
	for i := range out {
		out[i].Refused = 0
	}
	return err
}

func (s noLinks) Append(ctx context.Context, recs []consent.Record) error {
	last := map[string]uint64{}
	for i := range recs {
		r := &recs[i]
		if _, ok := last[r.Subject]; !ok {
			if l, ok, _ := s.Latest(ctx, r.Subject, ""); ok {
				last[r.Subject] = l.Seq
			}
		}
		r.Back, last[r.Subject] = last[r.Subject], r.Seq
	}
	return s.MemoryStore.Append(ctx, recs)
}

func (s scanIgnoresAfter) Scan(ctx context.Context, subject string, _ uint64, fn func(consent.Record) error) error {
	return s.Store.Scan(ctx, subject, 0, fn)
}

func (s noConflict) Append(ctx context.Context, recs []consent.Record) error {
	n := uint64(s.Len())
	for i := range recs {
		r := recs[i]
		r.Seq = n + 1 + uint64(i)
		recs[i] = r
	}
	return s.MemoryStore.Append(ctx, recs)
}

func (s firstWins) Latest(ctx context.Context, subject string, p consent.Purpose) (consent.Record, bool, error) {
	var first consent.Record
	found := false
	err := s.Scan(ctx, subject, 0, func(r consent.Record) error {
		if r.Purpose == p && !found {
			first, found = r, true
		}
		return nil
	})
	return first, found, err
}

func (redactNothing) Redact(context.Context, []consent.Record) error { return nil }

func (s scanUnordered) Scan(ctx context.Context, subject string, after uint64, fn func(consent.Record) error) error {
	var all []consent.Record
	if err := s.MemoryStore.Scan(ctx, subject, after, func(r consent.Record) error { all = append(all, r); return nil }); err != nil {
		return err
	}
	for i := len(all) - 1; i >= 0; i-- {
		if err := fn(all[i]); err != nil {
			return err
		}
	}
	return nil
}

func TestSuiteCatchesBrokenStores(t *testing.T) {
	for _, tc := range []struct {
		store consent.Store
		case_ string
	}{
		{noConflict{consent.NewMemoryStore()}, "AppendSequence"},
		{noConflict{consent.NewMemoryStore()}, "Empty"},
		{firstWins{consent.NewMemoryStore()}, "LatestIsLastAppended"},
		{redactNothing{consent.NewMemoryStore()}, "Redact"},
		{scanUnordered{consent.NewMemoryStore()}, "ScanOrderAndFilter"},
		{scanIgnoresAfter{generic{consent.NewMemoryStore()}}, "ScanOrderAndFilter"},
		{noRefusals{consent.NewMemoryStore()}, "Standings"},
		{noLinks{consent.NewMemoryStore()}, "AppendChecksSubjectLinks"},
	} {
		failed := runCase(tc.case_, tc.store)
		if len(failed) == 0 {
			t.Errorf("%T passed %s; the suite must catch it", tc.store, tc.case_)
			continue
		}
		t.Logf("%T fails %s: %s", tc.store, tc.case_, strings.Join(failed, "; "))
	}
}

func TestSuitePassesMemoryStore(t *testing.T) {
	for _, c := range cases {
		if failed := runCase(c.name, consent.NewMemoryStore()); len(failed) > 0 {
			t.Errorf("%s: %v", c.name, failed)
		}
		// Behind the interface, the Gate takes the path other stores take.
		if failed := runCase(c.name, generic{consent.NewMemoryStore()}); len(failed) > 0 {
			t.Errorf("%s through the Store interface: %v", c.name, failed)
		}
	}
}

func TestFixtures(t *testing.T) {
	p := RetailPolicy()
	if err := p.Validate(); err != nil {
		t.Fatal(err)
	}
	if len(p.Purposes) != 20 {
		t.Errorf("RetailPolicy has %d purposes; the benchmarks and docs say 20", len(p.Purposes))
	}
	p.Purposes[0].Description = "changed"
	if RetailPolicy().Purposes[0].Description == "changed" {
		t.Error("RetailPolicy must return a fresh copy")
	}
	g := NewGate(t, consent.GateConfig{})
	ctx := context.Background()
	want := map[string]struct {
		p       consent.Purpose
		allowed bool
		reason  consent.Reason
	}{
		SubjectNew:       {consent.PurposePersonalizeHistory, false, consent.ReasonNoConsent},
		SubjectGranted:   {consent.PurposePersonalizeHistory, true, consent.ReasonGranted},
		SubjectWithdrawn: {consent.PurposePersonalizeHistory, false, consent.ReasonWithdrawn},
		SubjectDenied:    {consent.PurposeMarketingEmail, false, consent.ReasonDenied},
		SubjectExpired:   {consent.PurposeMarketingEmail, false, consent.ReasonExpired},
		SubjectOutdated:  {consent.PurposePersonalizeHistory, false, consent.ReasonReconsent},
		SubjectMinor:     {consent.PurposePersonalizeHistory, false, consent.ReasonMinor},
		SubjectGuardian:  {consent.PurposePersonalizeHistory, true, consent.ReasonGranted},
		SubjectGPC:       {consent.PurposeAdvertisingTargeted, false, consent.ReasonGPC},
	}
	for _, s := range Shoppers() {
		w, ok := want[s.ID]
		if !ok {
			t.Errorf("shopper %s has no expectation here", s.ID)
			continue
		}
		d, err := g.Decide(ctx, s.ID, w.p, Now(), s.Signals)
		if err != nil || d.Allowed != w.allowed || d.Reason != w.reason {
			t.Errorf("%s (%s): Decide(%s) = %v %v, %v; want %v %v", s.ID, s.About, w.p, d.Allowed, d.Reason, err, w.allowed, w.reason)
		}
	}
}
