package minimize_test

import (
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base32"
	"errors"
	"hash"
	"math"
	"strings"
	"sync"
	"testing"
	"time"
	"unsafe"

	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

// benchRec is the 20-field record of the performance target: 10 fields
// dropped, 5 kept, 3 generalized, 2 pseudonymized.
type benchRec struct {
	// pseudonymized
	CustomerID string `tact:"user.unique_id"`
	DeviceID   string `tact:"user.device.id"`
	// generalized
	PlacedAt time.Time `tact:"user.behavior.purchase_history"` // truncate(day)
	Total    float64   `tact:"user.payment"`                   // bucket(25)
	Lat      float64   `tact:"user.location.approximate"`      // geo(2)
	// kept
	SKU      string // field rule
	Qty      int    `tact:"user.behavior.session"`
	Channel  string `tact:"user.behavior.session"`
	Gender   string `tact:"user.demographic.gender"`
	Feedback int8   `tact:"user.preference.feedback"`
	// dropped
	Email     string    `tact:"user.contact.email"`
	Phone     string    `tact:"user.contact.phone"`
	Address   string    `tact:"user.contact.address"`
	Postal    string    `tact:"user.contact.postal_code"`
	BirthDate time.Time `tact:"user.demographic.birth_date"`
	IP        string    `tact:"user.device.ip_address"`
	Lon       float64   `tact:"user.location.precise"`
	Card      string    `tact:"user.financial.account"`
	Note      string
	Health    string `tact:"user.health"`
}

func benchSecret() []byte { return []byte("0123456789abcdef0123456789ABCDEF-bench") }

func benchPolicy(tb testing.TB) *minimize.Policy {
	p, err := minimize.NewPolicy(consent.PurposeAnalyticsAggregate,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryDeviceID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryBehaviorPurchaseHistory, minimize.Truncate(minimize.Day)),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(25)),
		minimize.ForCategory(consent.CategoryLocationApp, minimize.GeoPrecision(2)),
		minimize.ForField("SKU", minimize.Keep()),
		minimize.ForCategory(consent.CategoryBehaviorSession, minimize.Keep()),
		minimize.ForCategory(consent.CategoryDemographicGender, minimize.Keep()),
		minimize.ForCategory(consent.CategoryPreferenceFeedback, minimize.Keep()),
	)
	require.NoError(tb, err)
	return p
}

func benchMinimizer(tb testing.TB) *minimize.Minimizer {
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()})
	require.NoError(tb, err)
	m, err := minimize.New(benchPolicy(tb), minimize.Config{Keyring: kr})
	require.NoError(tb, err)
	return m
}

func benchInput() benchRec {
	return benchRec{
		CustomerID: "C-000104217", DeviceID: "d5c1e0a2-77b9-4b8e-9a51-1f0f3e0c9b11",
		PlacedAt: time.Date(2025, 5, 30, 18, 41, 7, 0, time.UTC), Total: 73.4, Lat: 38.722252,
		SKU: "TEE-042", Qty: 2, Channel: "web", Gender: "f", Feedback: 1,
		Email: "ana@example.com", Phone: "+351 912 345 678", Address: "Rua Augusta 1",
		Postal: "1100-048", BirthDate: time.Date(1988, 9, 14, 0, 0, 0, 0, time.UTC),
		IP: "203.0.113.7", Lon: -9.139337, Card: "4111111111111111", Note: "gift", Health: "none",
	}
}

// handTokens is a hand-written implementation of the token format (see
// keyring.go), with the same pooled, Reset HMAC state the library uses.
type handTokens struct {
	payload []byte
	pool    sync.Pool
}

type handState struct {
	mac  hash.Hash
	sum  [32]byte
	raw  [64]byte
	enc  [128]byte
	data [256]byte
}

var handEncoding = base32.NewEncoding("0123456789abcdefghijklmnopqrstuv").WithPadding(base32.NoPadding)

func newHandTokens(secret []byte, purpose, id string) *handTokens {
	d := hmac.New(sha256.New, secret)
	d.Write([]byte("tact/minimize/pseudonym/v1\x00" + purpose))
	derived := d.Sum(nil)
	h := &handTokens{payload: append([]byte{1}, id...)}
	h.pool.New = func() any { return &handState{mac: hmac.New(sha256.New, derived)} }
	return h
}

var errHand = errors.New("hand: bad value")

func (h *handTokens) token(s string) (string, error) {
	if s == "" {
		return "", nil
	}
	if len(s) >= 255 {
		return "", errHand // the benchmark's inputs are short
	}
	st := h.pool.Get().(*handState)
	defer h.pool.Put(st)
	n := 16 + len(h.payload)
	m := handEncoding.EncodedLen(n)
	for ctr := 0; ctr < 256; ctr++ {
		st.mac.Reset()
		st.data[0] = byte(ctr)
		st.mac.Write(st.data[:1+copy(st.data[1:], s)])
		sum := st.mac.Sum(st.sum[:0])
		copy(st.raw[:16], sum)
		for i, b := range h.payload {
			st.raw[16+i] = b ^ sum[i%16]
		}
		handEncoding.Encode(st.enc[:m], st.raw[:n])
		if !strings.Contains(unsafe.String(&st.enc[0], m), s) {
			return string(st.enc[:m]), nil
		}
	}
	return "", errHand
}

// handStruct does by hand exactly what benchPolicy does to a benchRec.
func handStruct(h *handTokens, in benchRec) (benchRec, error) {
	var out benchRec
	var err error
	if out.CustomerID, err = h.token(in.CustomerID); err != nil {
		return benchRec{}, err
	}
	if out.DeviceID, err = h.token(in.DeviceID); err != nil {
		return benchRec{}, err
	}
	if t := in.PlacedAt; !t.IsZero() {
		y, mo, d := t.Date()
		out.PlacedAt = time.Date(y, mo, d, 0, 0, 0, 0, t.Location())
	}
	if math.IsNaN(in.Total) || math.IsInf(in.Total, 0) || math.IsNaN(in.Lat) || math.IsInf(in.Lat, 0) {
		return benchRec{}, errHand
	}
	out.Total = math.Floor(in.Total/25) * 25
	out.Lat = math.Round(in.Lat*100) / 100
	out.SKU, out.Qty, out.Channel, out.Gender, out.Feedback = in.SKU, in.Qty, in.Channel, in.Gender, in.Feedback
	return out, nil
}

var (
	sinkRec benchRec
	sinkMap map[string]any
)

func TestHandWrittenMatchesLibrary(t *testing.T) {
	m := benchMinimizer(t)
	h := newHandTokens(benchSecret(), string(consent.PurposeAnalyticsAggregate), "k1")
	in := benchInput()
	want, err := handStruct(h, in)
	require.NoError(t, err)
	got, err := minimize.Struct(m, in)
	require.NoError(t, err)
	require.Equal(t, want, got, "the baseline must do exactly what the library does")

	wantMap, err := handMap(h, benchMapInput())
	require.NoError(t, err)
	gotMap, err := m.Map(benchSchema(t), benchMapInput())
	require.NoError(t, err)
	require.Equal(t, wantMap, gotMap, "the map baseline must do exactly what the library does")
}

func reportRate(b *testing.B) {
	b.ReportMetric(float64(b.N)/b.Elapsed().Seconds(), "records/s")
}

func BenchmarkMinimizeStruct(b *testing.B) {
	m := benchMinimizer(b)
	in := benchInput()
	_, _ = minimize.Struct(m, in) // build the plan, warm the pool
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := minimize.Struct(m, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkRec = out
	}
	reportRate(b)
}

func BenchmarkHandWrittenStruct(b *testing.B) {
	h := newHandTokens(benchSecret(), string(consent.PurposeAnalyticsAggregate), "k1")
	in := benchInput()
	_, _ = handStruct(h, in) // warm the pool
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := handStruct(h, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkRec = out
	}
	reportRate(b)
}

func BenchmarkMinimizeStructReport(b *testing.B) {
	m := benchMinimizer(b)
	in := benchInput()
	_, _ = minimize.Struct(m, in)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, _, err := minimize.StructReport(m, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkRec = out
	}
	reportRate(b)
}

func BenchmarkMinimizeStructNarrowed(b *testing.B) {
	m := benchMinimizer(b)
	in := benchInput()
	allow := minimize.AllowFunc(func(c consent.Category) bool { return c != consent.CategoryDemographicGender })
	_, _ = minimize.Struct(m, in)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := minimize.Struct(m.Narrow(allow), in)
		if err != nil {
			b.Fatal(err)
		}
		sinkRec = out
	}
	reportRate(b)
}

func benchSchema(tb testing.TB) *minimize.Schema {
	s, err := minimize.NewSchema(map[string]consent.Category{
		"customer_id": consent.CategoryUniqueID,
		"device_id":   consent.CategoryDeviceID,
		"placed_at":   consent.CategoryBehaviorPurchaseHistory,
		"total":       consent.CategoryPayment,
		"lat":         consent.CategoryLocationApp,
		"qty":         consent.CategoryBehaviorSession,
		"channel":     consent.CategoryBehaviorSession,
		"gender":      consent.CategoryDemographicGender,
		"feedback":    consent.CategoryPreferenceFeedback,
		"email":       consent.CategoryContactEmail,
		"phone":       consent.CategoryContactPhone,
		"address":     consent.CategoryContactAddress,
		"postal":      consent.CategoryContactPostal,
		"birth_date":  consent.CategoryDemographicBirthDate,
		"ip":          consent.CategoryDeviceIP,
		"lon":         consent.CategoryLocationPrecise,
		"card":        consent.CategoryFinancialAccount,
		"health":      consent.CategoryHealth,
	})
	require.NoError(tb, err)
	return s
}

func benchMapInput() map[string]any {
	r := benchInput()
	return map[string]any{
		"customer_id": r.CustomerID, "device_id": r.DeviceID, "placed_at": r.PlacedAt,
		"total": r.Total, "lat": r.Lat, "SKU": r.SKU, "qty": r.Qty, "channel": r.Channel,
		"gender": r.Gender, "feedback": int(r.Feedback), "email": r.Email, "phone": r.Phone,
		"address": r.Address, "postal": r.Postal, "birth_date": r.BirthDate, "ip": r.IP,
		"lon": r.Lon, "card": r.Card, "note": r.Note, "health": r.Health,
	}
}

// handMap does by hand exactly what benchPolicy does to a map record with
// benchSchema, including the type checks the library makes.
func handMap(h *handTokens, in map[string]any) (map[string]any, error) {
	out := make(map[string]any, 10)
	for _, k := range [...]string{"customer_id", "device_id"} {
		if v, ok := in[k]; ok {
			s, ok := v.(string)
			if !ok {
				return nil, errHand
			}
			t, err := h.token(s)
			if err != nil {
				return nil, err
			}
			out[k] = t
		}
	}
	if v, ok := in["placed_at"]; ok {
		t, ok := v.(time.Time)
		if !ok {
			return nil, errHand
		}
		if !t.IsZero() {
			y, mo, d := t.Date()
			t = time.Date(y, mo, d, 0, 0, 0, 0, t.Location())
		}
		out["placed_at"] = t
	}
	if v, ok := in["total"]; ok {
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errHand
		}
		out["total"] = math.Floor(f/25) * 25
	}
	if v, ok := in["lat"]; ok {
		f, ok := v.(float64)
		if !ok || math.IsNaN(f) || math.IsInf(f, 0) {
			return nil, errHand
		}
		out["lat"] = math.Round(f*100) / 100
	}
	for _, k := range [...]string{"SKU", "qty", "channel", "gender", "feedback"} {
		if v, ok := in[k]; ok {
			switch v.(type) {
			case string, int, int8, float64, bool, time.Time, nil:
			default:
				return nil, errHand
			}
			out[k] = v
		}
	}
	return out, nil
}

func BenchmarkMinimizeMap(b *testing.B) {
	m := benchMinimizer(b)
	s := benchSchema(b)
	in := benchMapInput()
	_, _ = m.Map(s, in)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := m.Map(s, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkMap = out
	}
	reportRate(b)
}

func BenchmarkHandWrittenMap(b *testing.B) {
	h := newHandTokens(benchSecret(), string(consent.PurposeAnalyticsAggregate), "k1")
	in := benchMapInput()
	_, _ = handMap(h, in)
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		out, err := handMap(h, in)
		if err != nil {
			b.Fatal(err)
		}
		sinkMap = out
	}
	reportRate(b)
}

func BenchmarkPseudonymize(b *testing.B) {
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()})
	require.NoError(b, err)
	p, err := kr.Pseudonymizer(consent.PurposeAnalyticsAggregate)
	require.NoError(b, err)
	_, _ = p.Token("warm")
	b.ReportAllocs()
	b.ResetTimer()
	for i := 0; i < b.N; i++ {
		if _, err := p.Token("C-000104217"); err != nil {
			b.Fatal(err)
		}
	}
	reportRate(b)
}

// pairedBench alternates the library and the baseline in chunks of
// records, so that both see the same machine load (on a shared machine
// the load changes by the second, which makes separate benchmarks run one
// after the other incomparable). It reports each side's ns per record as
// the total over all chunks and as the fastest chunk, and their ratios.
func pairedBench(b *testing.B, lib, hand func()) {
	const chunk = 200
	lib()
	hand()
	var libTotal, handTotal time.Duration
	libMin, handMin := time.Duration(math.MaxInt64), time.Duration(math.MaxInt64)
	b.ReportAllocs()
	b.ResetTimer()
	for done := 0; done < b.N; done += chunk {
		n := min(chunk, b.N-done)
		t0 := time.Now()
		for i := 0; i < n; i++ {
			lib()
		}
		t1 := time.Now()
		for i := 0; i < n; i++ {
			hand()
		}
		t2 := time.Now()
		libTotal += t1.Sub(t0)
		handTotal += t2.Sub(t1)
		if n == chunk {
			libMin, handMin = min(libMin, t1.Sub(t0)), min(handMin, t2.Sub(t1))
		}
	}
	b.ReportMetric(float64(libTotal.Nanoseconds())/float64(b.N), "lib-ns/record")
	b.ReportMetric(float64(handTotal.Nanoseconds())/float64(b.N), "hand-ns/record")
	b.ReportMetric(float64(libTotal)/float64(handTotal), "ratio")
	if libMin < math.MaxInt64 {
		b.ReportMetric(float64(libMin)/float64(handMin), "ratio-fastest-chunk")
	}
}

// BenchmarkPairedStruct is BenchmarkMinimizeStruct against
// BenchmarkHandWrittenStruct, interleaved; allocs/op counts both sides.
func BenchmarkPairedStruct(b *testing.B) {
	m := benchMinimizer(b)
	h := newHandTokens(benchSecret(), string(consent.PurposeAnalyticsAggregate), "k1")
	in := benchInput()
	pairedBench(b,
		func() {
			out, err := minimize.Struct(m, in)
			if err != nil {
				b.Fatal(err)
			}
			sinkRec = out
		},
		func() {
			out, err := handStruct(h, in)
			if err != nil {
				b.Fatal(err)
			}
			sinkRec = out
		})
}

// BenchmarkPairedMap is BenchmarkMinimizeMap against
// BenchmarkHandWrittenMap, interleaved.
func BenchmarkPairedMap(b *testing.B) {
	m := benchMinimizer(b)
	s := benchSchema(b)
	h := newHandTokens(benchSecret(), string(consent.PurposeAnalyticsAggregate), "k1")
	in := benchMapInput()
	pairedBench(b,
		func() {
			out, err := m.Map(s, in)
			if err != nil {
				b.Fatal(err)
			}
			sinkMap = out
		},
		func() {
			out, err := handMap(h, in)
			if err != nil {
				b.Fatal(err)
			}
			sinkMap = out
		})
}
