package ondevice_test

import (
	"bytes"
	"compress/gzip"
	"context"
	"encoding/json"
	"errors"
	"math/rand/v2"
	"os"
	"os/exec"
	"path/filepath"
	"reflect"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/ondevice"
	"github.com/tact-go/tact/recommend/recommendtest"
)

var (
	ctx = context.Background()
	at  = time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
)

// shipped returns a synthetic world, its model and the model as the
// device decodes it from the bytes the service ships.
func shipped(t testing.TB, items int) (*recommendtest.World, *recommend.Model, *recommend.Model) {
	t.Helper()
	w := recommendtest.Generate(recommendtest.Options{Seed: 3, Items: items, Shoppers: max(200, items/10)})
	m := w.Model()
	data, err := m.MarshalBinary()
	if err != nil {
		t.Fatal(err)
	}
	dm, err := recommend.UnmarshalModel(data)
	if err != nil {
		t.Fatal(err)
	}
	return w, m, dm
}

var purposes = []consent.Purpose{
	recommend.SourceContext.Purpose(), recommend.SourceDeclared.Purpose(),
	recommend.SourceFeedback.Purpose(), recommend.SourceHistory.Purpose(),
}

// randomProfile draws a profile over the catalog: interests and avoided
// tags from the items' tags, sizes, a budget, feedback and history of
// random items at random times.
func randomProfile(rng *rand.Rand, items []recommend.Item) recommend.Profile {
	var p recommend.Profile
	pick := func() recommend.Item { return items[rng.IntN(len(items))] }
	for range rng.IntN(3) {
		if it := pick(); len(it.Tags) > 0 {
			p.Preferences.Interests = append(p.Preferences.Interests, recommend.Interest{Text: "into " + it.Tags[0], Tags: it.Tags[:1]})
		}
	}
	if it := pick(); rng.IntN(4) == 0 && len(it.Tags) > 0 {
		p.Preferences.Avoid = []string{it.Tags[len(it.Tags)-1]}
	}
	if rng.IntN(3) == 0 {
		p.Preferences.MaxPrice = float64(20 + rng.IntN(200))
	}
	if it := pick(); rng.IntN(3) == 0 && len(it.Sizes) > 0 {
		p.Preferences.Sizes = it.Sizes[:1]
	}
	for range rng.IntN(6) {
		p.Feedback = append(p.Feedback, recommend.Feedback{Item: pick().ID, Kind: recommend.FeedbackKind(1 + rng.IntN(2)), At: at.Add(-time.Duration(rng.IntN(1000)) * time.Hour)})
	}
	for range rng.IntN(30) {
		p.History = append(p.History, recommend.Event{Item: pick().ID, Kind: recommend.EventKind(rng.IntN(2)), At: at.Add(-time.Duration(rng.IntN(5000)) * time.Hour)})
	}
	return p
}

// TestRankMatchesServer is the package's promise, as a property over
// random profiles, consents, relationships, contexts and settings: the
// device, ranking over the model decoded from the shipped bytes with the
// decisions the service sent, returns exactly the response the service's
// own Recommender returns over its model, its consent Decider and the
// same profile in its store.
func TestRankMatchesServer(t *testing.T) {
	w, model, deviceModel := shipped(t, 400)
	rng := rand.New(rand.NewPCG(1, 2))
	settings := []ondevice.Settings{
		{},
		{Trust: recommend.DefaultTrust{EstablishedOrders: 1, EstablishedVisits: 1, EstablishedTenure: time.Minute},
			Weights: map[recommend.Tier]recommend.Weights{recommend.Anonymous: {Context: 0.8, Popularity: 0.2}}, WarmUp: -1},
		{SuppressCategory: true, HistoryHalfLife: 30 * 24 * time.Hour, FrequencyCap: 1, ConfidenceFloor: 0.2},
	}
	used := map[consent.Category]int{}
	for i := range 300 {
		subject := "person-" + string(rune('a'+i%26))
		gate := recommendtest.NewConsents()
		for _, p := range purposes {
			switch rng.IntN(3) {
			case 0:
				gate.Allow(subject, p)
			case 1:
				gate.Withdraw(subject, p)
			}
		}
		prof := randomProfile(rng, w.Items)
		store := new(recommend.MemoryStore)
		_ = store.SetPreferences(ctx, subject, prof.Preferences)
		_ = store.AddFeedback(ctx, subject, prof.Feedback...)
		_ = store.AddEvents(ctx, subject, prof.History...)
		s := settings[i%len(settings)]
		server, err := recommend.New(model, gate, store, s.Config())
		if err != nil {
			t.Fatal(err)
		}
		c, err := ondevice.Decide(ctx, gate, subject, at, consent.Signals{})
		if err != nil {
			t.Fatal(err)
		}
		device, err := ondevice.New(deviceModel, &c, s)
		if err != nil {
			t.Fatal(err)
		}
		it := w.Items[rng.IntN(len(w.Items))]
		req := recommend.Request{Subject: subject, At: at, K: 1 + rng.IntN(20),
			Relationship: recommend.Relationship{Known: rng.IntN(5) > 0, FirstSeen: at.Add(-time.Duration(rng.IntN(90*24)) * time.Hour), Visits: rng.IntN(6), Orders: rng.IntN(4)},
			VisitStart:   at.Add(-time.Duration(rng.IntN(600)) * time.Second),
			Context:      [](recommend.Context){{}, {Item: it.ID}, {Category: it.Category}, {Query: it.Title}}[rng.IntN(4)],
			Shown:        map[string]int{w.Items[rng.IntN(len(w.Items))].ID: rng.IntN(5)},
		}
		want, err := server.Recommend(ctx, req)
		if err != nil {
			t.Fatal(err)
		}
		req.Subject = "ignored: the device asks as the Consent's subject"
		got, err := device.Rank(ctx, prof, req)
		if err != nil {
			t.Fatal(err)
		}
		if !reflect.DeepEqual(got, want) {
			t.Fatalf("case %d: the device ranks\n%+v\nthe service\n%+v", i, got, want)
		}
		for _, c := range got.Used {
			used[c]++
		}
	}
	// The property means something only if the cases read every source.
	for s := recommend.SourceContext; s <= recommend.SourceHistory; s++ {
		if used[s.Categories()[0]] < 10 {
			t.Fatalf("only %d of 300 cases used %s: %v", used[s.Categories()[0]], s, used)
		}
	}
}

// TestConsentDecide: the device uses a decision only as the service made
// it, for the subject and purpose it was made for and until it expires.
func TestConsentDecide(t *testing.T) {
	allow := consent.Decision{Subject: "p", Purpose: consent.PurposePersonalizeHistory, Allowed: true, Reason: consent.ReasonGranted,
		At: at, Expires: at.Add(time.Hour), PolicyVersion: 1}
	c := &ondevice.Consent{Subject: "p", PolicyInForce: recommendtest.Policy(), Decisions: []consent.Decision{allow}}
	for _, tc := range []struct {
		name, reason string
		subject      string
		purpose      consent.Purpose
		at           time.Time
		want         error
	}{
		{"as sent", "the service's decision holds", "p", allow.Purpose, at.Add(time.Minute), nil},
		{"expired", "a decision past Expires must be asked again", "p", allow.Purpose, at.Add(time.Hour), ondevice.ErrExpired},
		{"other purpose", "nothing was sent for it", "p", consent.PurposePersonalizeDeclared, at, ondevice.ErrNoDecision},
		{"other subject", "a decision is about one person", "q", allow.Purpose, at, ondevice.ErrNoDecision},
	} {
		t.Run(tc.name, func(t *testing.T) {
			d, err := c.Decide(ctx, tc.subject, tc.purpose, tc.at, consent.Signals{})
			if !errors.Is(err, tc.want) || (err == nil && d != allow) {
				t.Fatalf("got %+v, %v; want %v (%s)", d, err, tc.want, tc.reason)
			}
		})
	}
	if (&ondevice.Consent{}).Policy() != nil || c.Policy() != c.PolicyInForce {
		t.Fatal("Policy is not PolicyInForce")
	}
}

// TestNoDecisionWithholds: a device without decisions reads nothing
// personal, and says why.
func TestNoDecisionWithholds(t *testing.T) {
	w, _, dm := shipped(t, 200)
	r, err := ondevice.New(dm, &ondevice.Consent{Subject: "p", PolicyInForce: recommendtest.Policy()}, ondevice.Settings{WarmUp: -1})
	if err != nil {
		t.Fatal(err)
	}
	resp, err := r.Rank(ctx, profileOf(w.Shoppers[0]), recommend.Request{At: at, K: 10, Relationship: recommend.Relationship{Known: true, Visits: 9, Orders: 9}})
	if err != nil {
		t.Fatal(err)
	}
	if len(resp.Used) != 0 || len(resp.Items) == 0 {
		t.Fatalf("used %v with no decisions, %d items", resp.Used, len(resp.Items))
	}
	for _, wh := range resp.Withheld {
		if wh.Reason == recommend.WithheldUnavailable && !errors.Is(wh.Err, ondevice.ErrNoDecision) {
			t.Fatalf("withheld %v: %v", wh.Source, wh.Err)
		}
	}
}

// TestLoadAndRankJSON: the JSON path of the browser shim ranks as Rank
// does, and bad input is a typed error.
func TestLoadAndRankJSON(t *testing.T) {
	w, model, _ := shipped(t, 200)
	data, _ := model.MarshalBinary()
	sh := w.Shoppers[1]
	gate := recommendtest.NewConsents()
	gate.Allow(sh.ID, purposes...)
	c, _ := ondevice.Decide(ctx, gate, sh.ID, at, consent.Signals{})
	cj, _ := json.Marshal(c)
	s := ondevice.Settings{WarmUp: -1, Weights: map[recommend.Tier]recommend.Weights{recommend.Anonymous: {Context: 0.8, Popularity: 0.2}}}
	sj, _ := json.Marshal(s)
	r, err := ondevice.Load(data, cj, sj)
	if err != nil {
		t.Fatal(err)
	}
	req := recommend.Request{At: at, K: 8, Relationship: sh.Relationship}
	q, _ := json.Marshal(ondevice.Query{Profile: profileOf(sh), Request: req})
	out, err := r.RankJSON(ctx, q)
	if err != nil {
		t.Fatal(err)
	}
	server, _ := recommend.New(model, gate, w.Store(), s.Config())
	req.Subject = sh.ID
	resp, _ := server.Recommend(ctx, req)
	want, _ := json.Marshal(ondevice.NewResult(resp))
	if !bytes.Equal(out, want) {
		t.Fatalf("RankJSON\n%s\nwant\n%s", out, want)
	}
	if len(resp.Items) == 0 || len(resp.Used) == 0 {
		t.Fatal("the case ranks nothing personal: it tests too little")
	}

	for _, tc := range []struct {
		name                 string
		model, consent, sets []byte
		want                 error
	}{
		{"bad model", data[:10], cj, sj, recommend.ErrMalformedModel},
		{"bad consent", data, []byte("{"), sj, ondevice.ErrMalformed},
		{"bad settings", data, cj, []byte(`{"warm_up":"soon"}`), ondevice.ErrMalformed},
		{"settings out of range", data, cj, []byte(`{"confidence_floor":2}`), recommend.ErrInvalidConfig},
	} {
		if _, err := ondevice.Load(tc.model, tc.consent, tc.sets); !errors.Is(err, tc.want) {
			t.Errorf("%s: %v, want %v", tc.name, err, tc.want)
		}
	}
	if _, err := r.RankJSON(ctx, []byte(`{"request":{"K":"many"}}`)); !errors.Is(err, ondevice.ErrMalformed) {
		t.Errorf("bad query: %v", err)
	}
	if _, err := r.RankJSON(ctx, []byte(`{"request":{"K":5}}`)); !errors.Is(err, recommend.ErrInvalidRequest) {
		t.Errorf("query without a time: %v", err)
	}
}

// TestWasmBuilds builds cmd/tactwasm for js/wasm, as a browser loads it,
// and logs its size (what a shopper downloads once). It needs the go
// command and is skipped with -short.
func TestWasmBuilds(t *testing.T) {
	if testing.Short() {
		t.Skip("builds a wasm binary")
	}
	out := filepath.Join(t.TempDir(), "tact.wasm")
	// go test puts the go command of its release first on PATH.
	cmd := exec.Command("go", "build", "-trimpath", "-ldflags=-s", "-o", out, "./cmd/tactwasm")
	cmd.Env = append(os.Environ(), "GOOS=js", "GOARCH=wasm")
	if b, err := cmd.CombinedOutput(); err != nil {
		t.Fatalf("GOOS=js GOARCH=wasm go build: %v\n%s", err, b)
	}
	data, err := os.ReadFile(out)
	if err != nil {
		t.Fatal(err)
	}
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	if !bytes.HasPrefix(data, []byte("\x00asm")) {
		t.Fatal("not a wasm module")
	}
	t.Logf("tact.wasm: %d bytes, %d gzipped", len(data), gz.Len())
}

// TestShippedModelSize logs the size of the model a 10,000-item catalog
// ships (the device downloads it once per model release).
func TestShippedModelSize(t *testing.T) {
	if testing.Short() {
		t.Skip("trains a 10,000-item model")
	}
	_, m, _ := shipped(t, 10000)
	data, _ := m.MarshalBinary()
	var gz bytes.Buffer
	zw, _ := gzip.NewWriterLevel(&gz, gzip.BestCompression)
	_, _ = zw.Write(data)
	_ = zw.Close()
	t.Logf("model of %d items: %d bytes, %d gzipped", m.Catalog().Len(), len(data), gz.Len())
}

func profileOf(sh recommendtest.Shopper) recommend.Profile {
	return recommend.Profile{Preferences: sh.Preferences, Feedback: sh.Feedback, History: sh.History}
}
