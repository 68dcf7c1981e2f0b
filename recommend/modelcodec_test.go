package recommend_test

import (
	"bytes"
	"context"
	"errors"
	"reflect"
	"testing"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
	"github.com/tact-go/tact/recommend/recommendtest"
)

// codecModels returns models that exercise every part of the encoding:
// the world's item-item model with segment popularity, an EASE model, and
// a catalog alone, over a synthetic catalog of items items (at least 100).
func codecModels(t testing.TB, items int) map[string]*recommend.Model {
	t.Helper()
	w := recommendtest.Generate(recommendtest.Options{Seed: 7, Items: items, Shoppers: 150})
	counts := recommend.CountItems(w.Interactions, recommend.CountOptions{})
	pop, err := recommend.NewPopularity(w.Catalog, counts, map[string][]recommend.ItemCount{"fr": counts[:len(counts)/2], "de": counts[len(counts)/3:]})
	if err != nil {
		t.Fatal(err)
	}
	ii, err := recommend.TrainItemItem(w.Catalog, w.Interactions, recommend.CountOptions{}, recommend.ItemItemConfig{Similarity: recommend.Jaccard, Shrink: 2})
	if err != nil {
		t.Fatal(err)
	}
	ease, err := recommend.TrainEASE(w.Catalog, recommend.CountCooccurrence(w.Interactions, recommend.CountOptions{}), recommend.EASEConfig{Items: 100, Neighbors: 30, PopularityDamping: 0.25})
	if err != nil {
		t.Fatal(err)
	}
	out := map[string]*recommend.Model{}
	for name, parts := range map[string]struct {
		pop *recommend.Popularity
		ii  *recommend.ItemItem
	}{"item-item": {pop, ii}, "ease": {pop, ease}, "catalog only": {}} {
		m, err := recommend.NewModel(w.Catalog, parts.pop, parts.ii)
		if err != nil {
			t.Fatal(err)
		}
		out[name] = m
	}
	return out
}

// TestModelRoundTrip: a decoded model encodes to the same bytes, keeps
// every accessor's answer, and ranks exactly as the original for every
// shopper of a synthetic shop, in every segment.
func TestModelRoundTrip(t *testing.T) {
	w := recommendtest.Generate(recommendtest.Options{Seed: 7, Items: 300, Shoppers: 150})
	store := w.Store()
	consents := recommendtest.NewConsents()
	for _, sh := range w.Shoppers {
		consents.Allow(sh.ID, consent.PurposePersonalize, recommend.SourceContext.Purpose(), recommend.SourceDeclared.Purpose(),
			recommend.SourceFeedback.Purpose(), recommend.SourceHistory.Purpose())
	}
	at := time.Date(2026, 6, 1, 12, 0, 0, 0, time.UTC)
	for name, m := range codecModels(t, 300) {
		t.Run(name, func(t *testing.T) {
			data, err := m.MarshalBinary()
			if err != nil {
				t.Fatal(err)
			}
			got, err := recommend.UnmarshalModel(data)
			if err != nil {
				t.Fatal(err)
			}
			again, _ := got.MarshalBinary()
			if !bytes.Equal(data, again) {
				t.Fatal("a decoded model encodes to other bytes")
			}
			if !reflect.DeepEqual(catalogItems(m.Catalog()), catalogItems(got.Catalog())) {
				t.Fatal("catalog differs")
			}
			if (m.ItemItem() == nil) != (got.ItemItem() == nil) || (m.Popularity() == nil) != (got.Popularity() == nil) {
				t.Fatal("a model part was lost")
			}
			if p := m.Popularity(); p != nil {
				for _, seg := range append(p.Segments(), "") {
					if want, have := p.Top(50, seg, nil), got.Popularity().Top(50, seg, nil); !reflect.DeepEqual(want, have) {
						t.Fatalf("segment %q: popularity %v, want %v", seg, have, want)
					}
				}
			}
			if ii := m.ItemItem(); ii != nil {
				gi := got.ItemItem()
				e1, ok1 := ii.EASE()
				e2, ok2 := gi.EASE()
				if ii.Config() != gi.Config() || ok1 != ok2 || e1 != e2 || ii.Unknown() != gi.Unknown() {
					t.Fatal("item-item configuration differs")
				}
				for it := range m.Catalog().All() {
					if !reflect.DeepEqual(ii.Neighbors(it.ID), gi.Neighbors(it.ID)) {
						t.Fatalf("neighbours of %s differ", it.ID)
					}
				}
				hist := []string{w.Shoppers[0].History[0].Item}
				if !reflect.DeepEqual(ii.Top(hist, 40, nil), gi.Top(hist, 40, nil)) {
					t.Fatal("Top differs")
				}
			}
			r1, err := recommend.New(m, consents, store, recommend.Config{})
			if err != nil {
				t.Fatal(err)
			}
			r2, err := recommend.New(got, consents, store, recommend.Config{})
			if err != nil {
				t.Fatal(err)
			}
			for i, sh := range w.Shoppers {
				req := recommend.Request{Subject: sh.ID, At: at, K: 10, Relationship: sh.Relationship, VisitStart: at.Add(-time.Hour),
					Context: recommend.Context{Segment: []string{"", "fr", "de"}[i%3]}}
				want, err1 := r1.Recommend(context.Background(), req)
				have, err2 := r2.Recommend(context.Background(), req)
				if err1 != nil || err2 != nil {
					t.Fatal(err1, err2)
				}
				if !reflect.DeepEqual(want, have) {
					t.Fatalf("shopper %s: decoded model ranks\n%+v\nwant\n%+v", sh.ID, have, want)
				}
			}
		})
	}
}

func catalogItems(c *recommend.Catalog) []recommend.Item {
	var out []recommend.Item
	for it := range c.All() {
		out = append(out, it)
	}
	return out
}

// TestUnmarshalModelRejects: truncations of a valid encoding, and
// each kind of corruption, is a *ModelError wrapping ErrMalformedModel.
func TestUnmarshalModelRejects(t *testing.T) {
	data, _ := codecModels(t, 100)["item-item"].MarshalBinary()
	// Every prefix of the first 2000 bytes, then one in every step.
	step := max(1, len(data)/2000)
	for n := 0; n < len(data); n += min(step, max(1, n-2000)) {
		_, err := recommend.UnmarshalModel(data[:n])
		var me *recommend.ModelError
		if !errors.Is(err, recommend.ErrMalformedModel) || !errors.As(err, &me) {
			t.Fatalf("truncated to %d of %d bytes: err %v, want a *ModelError", n, len(data), err)
		}
	}
	dup := recommend.Item{ID: "a"}
	twice, _ := mustModel(t, []recommend.Item{{ID: "b"}}).MarshalBinary()
	twice[len("tact.model\x03")+2] = 'a' // still one item, now called "a"
	for _, tc := range []struct {
		name, reason string
		data         []byte
		want         error
	}{
		{"trailing byte", "nothing may follow the model", append(bytesClone(data), 0), recommend.ErrMalformedModel},
		{"version 4", "an unknown version is not guessed at", append([]byte("tact.model\x04"), data[len("tact.model\x03"):]...), recommend.ErrMalformedModel},
		{"version 0", "no such version", append([]byte("tact.model\x00"), data[len("tact.model\x03"):]...), recommend.ErrMalformedModel},
		{"empty", "no magic", nil, recommend.ErrMalformedModel},
		{"duplicate id", "the catalog's own check applies", duplicateIDs(t, dup), recommend.ErrDuplicateItem},
		{"renamed item", "a valid single-item model decodes", twice, nil},
	} {
		t.Run(tc.name, func(t *testing.T) {
			_, err := recommend.UnmarshalModel(tc.data)
			if !errors.Is(err, tc.want) || (tc.want != nil && !errors.Is(err, recommend.ErrMalformedModel)) {
				t.Fatalf("err %v, want %v (%s)", err, tc.want, tc.reason)
			}
		})
	}
}

func bytesClone(b []byte) []byte { return append([]byte(nil), b...) }

func mustModel(t testing.TB, items []recommend.Item) *recommend.Model {
	t.Helper()
	cat, err := recommend.NewCatalog(items)
	if err != nil {
		t.Fatal(err)
	}
	m, err := recommend.NewModel(cat, nil, nil)
	if err != nil {
		t.Fatal(err)
	}
	return m
}

// duplicateIDs encodes a catalog of items "a" and "b", then renames "b"
// to "a" in the bytes.
func duplicateIDs(t testing.TB, it recommend.Item) []byte {
	data, _ := mustModel(t, []recommend.Item{it, {ID: "b"}}).MarshalBinary()
	i := bytes.LastIndexByte(data, 'b')
	data[i] = 'a'
	return data
}

// FuzzUnmarshalModel: arbitrary bytes never panic; what decodes encodes
// to bytes that decode to the same encoding again.
func FuzzUnmarshalModel(f *testing.F) {
	for _, m := range codecModels(f, 100) {
		data, _ := m.MarshalBinary()
		if len(data) > 4000 {
			data = data[:4000]
		}
		f.Add(data)
	}
	small, _ := mustModel(f, []recommend.Item{{ID: "x", Tags: []string{"t"}, Sizes: []string{"shoe:42"}, Sensitive: true}}).MarshalBinary()
	f.Add(small)
	f.Add([]byte("tact.model\x01\x00\x00\x00"))
	f.Fuzz(func(t *testing.T, data []byte) {
		m, err := recommend.UnmarshalModel(data)
		if err != nil {
			if !errors.Is(err, recommend.ErrMalformedModel) {
				t.Fatalf("error %v is not ErrMalformedModel", err)
			}
			return
		}
		enc, _ := m.MarshalBinary()
		m2, err := recommend.UnmarshalModel(enc)
		if err != nil {
			t.Fatalf("re-encoding does not decode: %v", err)
		}
		enc2, _ := m2.MarshalBinary()
		if !bytes.Equal(enc, enc2) {
			t.Fatal("encoding is not stable")
		}
	})
}
