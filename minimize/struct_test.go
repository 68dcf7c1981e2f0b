package minimize_test

import (
	"bytes"
	"encoding/json"
	"errors"
	"log/slog"
	"math"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/minimize"
)

type Address struct {
	Street string `tact:"user.contact.address"`
	City   string `tact:"user.location.approximate"`
	Postal string `tact:"user.contact.postal_code"`
}

type Line struct {
	SKU   string
	Price float64 `tact:"user.payment"`
	Note  string  `tact:"user.preference.declared"`
}

type Base struct {
	ID string `tact:"user.unique_id"`
}

type inner struct {
	Hidden string `tact:"user.contact.email"` // promoted through an unexported embedded struct
}

type Customer struct {
	Base
	inner
	Name     string            `tact:"user.contact.name"`
	Email    *string           `tact:"user.contact.email"`
	Home     Address           // nested: walked
	Work     *Address          // behind a pointer
	Lines    []Line            // slice of structs
	Refs     []*Line           // slice of pointers to structs
	Searches []string          `tact:"user.behavior.search"`
	Scores   []int             `tact:"user.preference.feedback"`
	Seen     *time.Time        `tact:"user.behavior.session"`
	Extra    map[string]string // unsupported, untagged: zeroed
	Skip     string            `tact:"-"`
	secret   string
}

func customerPolicy(t *testing.T) *minimize.Policy {
	p, err := minimize.NewPolicy(consent.PurposePersonalizeHistory,
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Pseudonymize()),
		minimize.ForCategory(consent.CategoryContactEmail, minimize.Mask(1, 4)),
		minimize.ForCategory(consent.CategoryContactPostal, minimize.PostalPrefix(2)),
		minimize.ForCategory(consent.CategoryLocationApp, minimize.Keep()),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(10)),
		minimize.ForCategory(consent.CategoryBehavior, minimize.Keep()),
		minimize.ForCategory(consent.CategoryBehaviorSession, minimize.Truncate(minimize.Hour)),
		minimize.ForCategory(consent.CategoryPreferenceFeedback, minimize.TopBottom(0, 5)),
		minimize.ForField("Lines.SKU", minimize.Keep()),
		minimize.ForField("Skip", minimize.Keep()),
	)
	require.NoError(t, err)
	return p
}

func customerMinimizer(t *testing.T, c minimize.Config) *minimize.Minimizer {
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()})
	require.NoError(t, err)
	c.Keyring = kr
	m, err := minimize.New(customerPolicy(t), c)
	require.NoError(t, err)
	return m
}

func newCustomer() Customer {
	email := "ana@example.com"
	seen := time.Date(2025, 5, 30, 18, 41, 7, 0, time.UTC)
	return Customer{
		Base:     Base{ID: "C-1"},
		inner:    inner{Hidden: "x@example.com"},
		Name:     "Ana Lima",
		Email:    &email,
		Home:     Address{Street: "Rua Augusta 1", City: "Lisbon", Postal: "1100-048"},
		Work:     &Address{Street: "Av. da Liberdade 2", City: "Lisbon", Postal: "1250-096"},
		Lines:    []Line{{"TEE-042", 19.5, "gift"}, {"MUG-007", 7, ""}},
		Refs:     []*Line{{"CAP-001", 25, "x"}, nil},
		Searches: []string{"tent", "boots"},
		Scores:   []int{-3, 4, 9},
		Seen:     &seen,
		Extra:    map[string]string{"k": "v"},
		Skip:     "not copied",
		secret:   "unexported",
	}
}

func TestStructNestedPointersSlices(t *testing.T) {
	m := customerMinimizer(t, minimize.Config{})
	in := newCustomer()
	snapshot := newCustomer()
	out, err := minimize.Struct(m, in)
	require.NoError(t, err)

	assert.Equal(t, snapshot, in, "the input is not modified")
	assert.True(t, m.Pseudonymizer().Match(out.ID, "C-1"), "embedded struct fields are walked")
	assert.Equal(t, "x********.com", out.Hidden, "exported fields promoted from an unexported embedded struct are walked, as encoding/json does")
	assert.Equal(t, "", out.Name, "no rule for user.contact.name")
	require.NotNil(t, out.Email)
	assert.Equal(t, "a**********.com", *out.Email, "pointer to string, masked")
	assert.NotSame(t, in.Email, out.Email, "pointers are copied, never shared")
	assert.Equal(t, Address{City: "Lisbon", Postal: "11"}, out.Home, "nested struct: street dropped, city kept, postal prefixed")
	require.NotNil(t, out.Work)
	assert.Equal(t, Address{City: "Lisbon", Postal: "12"}, *out.Work, "struct behind a pointer")
	assert.NotSame(t, in.Work, out.Work)
	assert.Equal(t, []Line{{"TEE-042", 10, ""}, {"MUG-007", 0, ""}}, out.Lines, "slice of structs: field rule on a path, bucketed price, note dropped")
	require.Len(t, out.Refs, 2)
	assert.Equal(t, &Line{SKU: "", Price: 20}, out.Refs[0], "Refs.SKU has no field rule: the rule named Lines.SKU")
	assert.Nil(t, out.Refs[1], "nil elements stay nil")
	assert.Equal(t, []string{"tent", "boots"}, out.Searches, "kept by the parent category rule")
	assert.Equal(t, []int{0, 4, 5}, out.Scores, "each element transformed")
	assert.Equal(t, time.Date(2025, 5, 30, 18, 0, 0, 0, time.UTC), *out.Seen, "pointer to time, truncated")
	assert.Nil(t, out.Extra, "unsupported types are zeroed")
	assert.Equal(t, "", out.Skip, `"-" fields are never copied, even with a field rule`)
	assert.Equal(t, "", out.secret, "unexported fields are never copied")

	out.Searches[0] = "changed"
	out.Lines[0].SKU = "changed"
	*out.Seen = time.Time{}
	assert.Equal(t, snapshot, in, "the output shares no memory with the input")
}

func TestStructPointerRecord(t *testing.T) {
	m := customerMinimizer(t, minimize.Config{})
	in := newCustomer()
	out, err := minimize.Struct(m, &in)
	require.NoError(t, err)
	require.NotNil(t, out)
	assert.NotSame(t, &in, out, "a new value")
	assert.Equal(t, []string{"tent", "boots"}, out.Searches)

	var nilRec *Customer
	got, err := minimize.Struct(m, nilRec)
	assert.ErrorIs(t, err, minimize.ErrNilRecord)
	assert.Nil(t, got)
}

func TestStructNilAndEmptyContainers(t *testing.T) {
	m := customerMinimizer(t, minimize.Config{})
	out, err := minimize.Struct(m, Customer{Searches: []string{}})
	require.NoError(t, err)
	assert.Nil(t, out.Email)
	assert.Nil(t, out.Work)
	assert.Nil(t, out.Lines, "nil slices stay nil")
	assert.NotNil(t, out.Searches, "empty slices stay empty, not nil")
	assert.Empty(t, out.Searches)
}

func TestStructPlanErrors(t *testing.T) {
	p := customerPolicy(t)
	kr, err := minimize.NewKeyring(minimize.Key{ID: "k1", Secret: benchSecret()})
	require.NoError(t, err)
	m, err := minimize.New(p, minimize.Config{Keyring: kr})
	require.NoError(t, err)

	check := func(t *testing.T, err error, want error, field string) {
		t.Helper()
		require.ErrorIs(t, err, want)
		var fe *minimize.FieldError
		require.True(t, errors.As(err, &fe))
		assert.Equal(t, field, fe.Field, "the error names the field")
		assert.Contains(t, err.Error(), field)
	}
	type badTag struct {
		A string `tact:"User.Email"`
	}
	_, err = minimize.Struct(m, badTag{})
	check(t, err, minimize.ErrTag, "A")

	type tagOption struct {
		A string `tact:"user.contact.email,omitempty"`
	}
	_, err = minimize.Struct(m, tagOption{})
	check(t, err, minimize.ErrTag, "A")

	type taggedStruct struct {
		Home Address `tact:"user.contact"`
	}
	_, err = minimize.Struct(m, taggedStruct{})
	check(t, err, minimize.ErrTag, "Home")

	type taggedStructSlice struct {
		Lines []*Line `tact:"user.payment"`
	}
	_, err = minimize.Struct(m, taggedStructSlice{})
	check(t, err, minimize.ErrTag, "Lines")

	type taggedUnexported struct {
		a string `tact:"user.unique_id"`
	}
	_, err = minimize.Struct(m, taggedUnexported{a: "x"})
	check(t, err, minimize.ErrTag, "a")

	type maskOnInt struct {
		Nested struct {
			N int `tact:"user.contact.email"`
		}
	}
	_, err = minimize.Struct(m, maskOnInt{})
	check(t, err, minimize.ErrTypeMismatch, "Nested.N")
	assert.Contains(t, err.Error(), "mask(1,4)", "and the transform")

	type pseudoOnInt struct {
		ID int64 `tact:"user.unique_id"`
	}
	_, err = minimize.Struct(m, pseudoOnInt{})
	check(t, err, minimize.ErrTypeMismatch, "ID")

	type taggedMap struct {
		M map[string]string `tact:"user.behavior"`
	}
	_, err = minimize.Struct(m, taggedMap{})
	check(t, err, minimize.ErrUnsupported, "M")

	type taggedIface struct {
		V any `tact:"user.behavior"`
	}
	_, err = minimize.Struct(m, taggedIface{})
	check(t, err, minimize.ErrUnsupported, "V")

	type node struct {
		Searches []string `tact:"user.behavior.search"`
		Next     *node
	}
	_, err = minimize.Struct(m, node{})
	check(t, err, minimize.ErrUnsupported, "Next")

	_, err = minimize.Struct(m, "not a struct")
	assert.ErrorIs(t, err, minimize.ErrUnsupported)
	_, err = minimize.Struct(m, time.Now())
	assert.ErrorIs(t, err, minimize.ErrUnsupported, "time.Time is a value, not a record")

	// The error is cached and returned again: the same value.
	_, err1 := minimize.Struct(m, badTag{})
	_, err2 := minimize.Struct(m, badTag{})
	require.Error(t, err1)
	assert.Same(t, err1, err2, "the plan error is built once")
	_, err = minimize.Explain[badTag](m)
	check(t, err, minimize.ErrTag, "A")
}

func TestStructValueErrors(t *testing.T) {
	type rec struct {
		Total float64 `tact:"user.payment"`
		Small int8    `tact:"user.preference.feedback"`
		ID    string  `tact:"user.unique_id"`
	}
	p, err := minimize.NewPolicy("analytics",
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(10)),
		minimize.ForCategory(consent.CategoryPreferenceFeedback, minimize.Bucket(100)),
	)
	require.NoError(t, err)
	m, err := minimize.New(p, minimize.Config{})
	require.NoError(t, err)
	for _, tt := range []struct {
		name string
		in   rec
		want error
	}{
		{"NaN", rec{Total: math.NaN()}, minimize.ErrNotFinite},
		{"Inf", rec{Total: math.Inf(-1)}, minimize.ErrNotFinite},
		{"int8 floor", rec{Small: -101}, minimize.ErrOutOfRange}, // -200 does not fit
	} {
		out, err := minimize.Struct(m, tt.in)
		assert.ErrorIs(t, err, tt.want, tt.name)
		assert.Equal(t, rec{}, out, "%s: nothing partial on error", tt.name)
	}
}

func TestStructNarrowedByConsent(t *testing.T) {
	m := customerMinimizer(t, minimize.Config{})
	calls := map[consent.Category]int{}
	var mu sync.Mutex
	noBehavior := minimize.AllowFunc(func(c consent.Category) bool {
		mu.Lock()
		calls[c]++
		mu.Unlock()
		return !consent.CategoryBehavior.Covers(c)
	})
	noPostal := minimize.AllowFunc(func(c consent.Category) bool { return c != consent.CategoryContactPostal })
	nm := m.Narrow(noBehavior).Narrow(noPostal)
	out, rep, err := minimize.StructReport(nm, newCustomer())
	require.NoError(t, err)
	assert.Nil(t, out.Searches, "behavior: no consent")
	assert.Nil(t, out.Seen, "behavior: no consent")
	assert.Equal(t, "", out.Home.Postal, "narrowing twice needs both")
	assert.Equal(t, "Lisbon", out.Home.City, "allowed categories pass")
	assert.Equal(t, 1, calls[consent.CategoryBehaviorSearch], "asked once per category per record")

	noConsent := 0
	for _, f := range rep.Fields {
		if f.Reason == minimize.ReasonNoConsent {
			noConsent++
			assert.Equal(t, minimize.Dropped, f.Outcome)
		}
	}
	assert.Equal(t, 4, noConsent, "Searches, Seen, Home.Postal, Work.Postal")

	full, err := minimize.Struct(m, newCustomer())
	require.NoError(t, err)
	assert.NotNil(t, full.Searches, "narrowing does not change the original minimizer")
}

func TestStructReportAndExplain(t *testing.T) {
	m := customerMinimizer(t, minimize.Config{})
	_, rep, err := minimize.StructReport(m, newCustomer())
	require.NoError(t, err)
	ex, err := minimize.Explain[Customer](m)
	require.NoError(t, err)
	assert.Equal(t, rep, ex, "the report of a record is the plan's")
	byField := map[string]minimize.FieldReport{}
	for _, f := range rep.Fields {
		byField[f.Field] = f
	}
	assert.Equal(t, minimize.Transformed, byField["Base.ID"].Outcome)
	assert.Equal(t, minimize.ReasonNoRule, byField["Name"].Reason)
	assert.Equal(t, minimize.Kept, byField["Lines.SKU"].Outcome)
	assert.Equal(t, `field "Lines.SKU" keep`, byField["Lines.SKU"].Rule.String())
	assert.Equal(t, `category "user.behavior" keep`, byField["Searches"].Rule.String(), "the ancestor rule that decided")
	assert.Equal(t, minimize.Dropped, byField["Extra"].Outcome)
	_, hasSkip := byField["Skip"]
	assert.False(t, hasSkip, `"-" fields are not part of the record`)
	assert.Equal(t, len(rep.Fields), rep.Count(minimize.Kept)+rep.Count(minimize.Transformed)+rep.Count(minimize.Dropped))
	assert.Contains(t, rep.String(), "purpose personalize.history:")
}

func TestStructBatch(t *testing.T) {
	type rec struct {
		ID    string  `tact:"user.unique_id"`
		Total float64 `tact:"user.payment"`
		Email string  `tact:"user.contact.email"`
	}
	p, err := minimize.NewPolicy("analytics",
		minimize.ForCategory(consent.CategoryUniqueID, minimize.Keep()),
		minimize.ForCategory(consent.CategoryPayment, minimize.Bucket(10)),
	)
	require.NoError(t, err)
	var logged bytes.Buffer
	m, err := minimize.New(p, minimize.Config{Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	require.NoError(t, err)
	in := []rec{{"a", 12, "a@x"}, {"b", math.NaN(), "b@x"}, {"c", 37, "c@x"}}
	out, tally, err := minimize.StructBatch(m, in)
	var be *minimize.BatchError
	require.True(t, errors.As(err, &be))
	require.Len(t, be.Failed, 1)
	assert.Equal(t, 1, be.Failed[0].Index)
	assert.ErrorIs(t, err, minimize.ErrNotFinite, "errors.Is sees through the batch error")
	assert.Equal(t, []rec{{"a", 10, ""}, {}, {"c", 30, ""}}, out, "aligned; the failed record is zero; the others are done")
	assert.Equal(t, 2, tally.Records)
	assert.Equal(t, 1, tally.Failed)
	k, tr, d := tally.Totals()
	assert.Equal(t, [3]int{2, 2, 2}, [3]int{k, tr, d})
	assert.Contains(t, tally.String(), "2 records, 1 failed")

	var ev map[string]any
	require.NoError(t, json.Unmarshal(logged.Bytes(), &ev), "one event for the batch")
	assert.Equal(t, "minimize.report", ev["msg"])
	assert.Equal(t, "minimize.report", ev["event"])
	assert.Equal(t, "analytics", ev["purpose"])
	assert.EqualValues(t, 2, ev["records"])
	assert.EqualValues(t, 1, ev["failed"])
	assert.EqualValues(t, 2, ev["fields_dropped"])
}

func TestAuditEventsCarryNoValues(t *testing.T) {
	var logged bytes.Buffer
	m := customerMinimizer(t, minimize.Config{Logger: slog.New(slog.NewJSONHandler(&logged, nil))})
	out, err := minimize.Struct(m, newCustomer())
	require.NoError(t, err)
	_, err = m.Map(mustSchema(t, map[string]consent.Category{"id": consent.CategoryUniqueID}), map[string]any{"id": "C-1", "x": "ana@example.com"})
	require.NoError(t, err)
	lines := strings.Split(strings.TrimSpace(logged.String()), "\n")
	require.Len(t, lines, 2, "one event per record")
	for _, s := range []string{"C-1", "ana@example.com", "Ana", "Lisbon", out.ID, "k1", string(benchSecret()[:10])} {
		assert.NotContains(t, logged.String(), s, "audit events hold counts only")
	}
	var ev map[string]any
	require.NoError(t, json.Unmarshal([]byte(lines[0]), &ev))
	assert.Equal(t, "minimize_test.Customer", ev["record"])
	assert.EqualValues(t, 1, ev["records"])

	// A disabled logger costs a level check and emits nothing.
	logged.Reset()
	quiet := customerMinimizer(t, minimize.Config{Logger: slog.New(slog.NewJSONHandler(&logged, &slog.HandlerOptions{Level: slog.LevelWarn}))})
	_, err = minimize.Struct(quiet, newCustomer())
	require.NoError(t, err)
	assert.Empty(t, logged.String())
}

func TestStructAllocations(t *testing.T) {
	if raceEnabled {
		t.Skip("allocation counts are only meaningful without the race detector (checkptr makes pointers escape); run go test without -race")
	}
	m := benchMinimizer(t)
	in := benchInput()
	allocs := testing.AllocsPerRun(200, func() {
		out, err := minimize.Struct(m, in)
		if err != nil {
			panic(err)
		}
		sinkRec = out
	})
	assert.LessOrEqual(t, allocs, 2.0, "the two token strings and nothing else")
	h := newHandTokens(benchSecret(), string(consent.PurposeAnalyticsAggregate), "k1")
	hand := testing.AllocsPerRun(200, func() {
		out, err := handStruct(h, in)
		if err != nil {
			panic(err)
		}
		sinkRec = out
	})
	assert.LessOrEqual(t, allocs, hand+1, "at most one allocation more than the hand-written function")
}

func TestStructConcurrentUse(t *testing.T) {
	m := customerMinimizer(t, minimize.Config{})
	var wg sync.WaitGroup
	errs := make(chan error, 8)
	for g := 0; g < 8; g++ {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := 0; i < 50; i++ {
				out, err := minimize.Struct(m, newCustomer())
				if err != nil {
					errs <- err
					return
				}
				if !m.Pseudonymizer().Match(out.ID, "C-1") {
					errs <- errors.New("token mismatch under concurrency")
					return
				}
			}
		}()
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		t.Error(err)
	}
}

func mustSchema(t *testing.T, f map[string]consent.Category) *minimize.Schema {
	t.Helper()
	s, err := minimize.NewSchema(f)
	require.NoError(t, err)
	return s
}

// A container of structs whose every field consent withdraws stays nil:
// copied empty, it would tell that the person had one, and how many.
func TestStructNarrowedLeavesEmptyContainersNil(t *testing.T) {
	type Place struct {
		City string `tact:"user.location.approximate"`
	}
	type Stop struct {
		Place Place
		Note  *string `tact:"user.preference.declared"`
	}
	type Trip struct {
		Home   *Place
		Stops  []Stop
		Legs   []*Stop
		Labels []struct {
			Name string // no category: consent never drops it
			At   Place
		}
	}
	p, err := minimize.NewPolicy("analytics",
		minimize.ForCategory(consent.CategoryLocation, minimize.Keep()),
		minimize.ForCategory(consent.CategoryPreference, minimize.Keep()),
		minimize.ForField("Labels.Name", minimize.Keep()),
	)
	require.NoError(t, err)
	m, err := minimize.New(p, minimize.Config{})
	require.NoError(t, err)
	note := "window seat"
	in := Trip{
		Home:  &Place{"Lisbon"},
		Stops: []Stop{{Place{"Porto"}, &note}, {Place{"Faro"}, nil}},
		Legs:  []*Stop{{Place{"Braga"}, nil}},
	}
	in.Labels = append(in.Labels, struct {
		Name string
		At   Place
	}{"x", Place{"Evora"}})

	noLocation := minimize.AllowFunc(func(c consent.Category) bool { return !consent.CategoryLocation.Covers(c) })
	out, err := minimize.Struct(m.Narrow(noLocation), in)
	require.NoError(t, err)
	assert.Nil(t, out.Home, "every field of Home is location: no Home at all")
	require.Len(t, out.Stops, 2, "Stops still carry a preference")
	assert.Equal(t, "window seat", *out.Stops[0].Note)
	assert.Equal(t, Place{}, out.Stops[0].Place)
	require.Len(t, out.Labels, 1, "a field without a category keeps its container")
	assert.Equal(t, "x", out.Labels[0].Name)

	nothing := minimize.AllowFunc(func(consent.Category) bool { return false })
	out, err = minimize.Struct(m.Narrow(nothing), in)
	require.NoError(t, err)
	assert.Nil(t, out.Home)
	assert.Nil(t, out.Stops, "no slice of empty stops: its length would tell how many")
	assert.Nil(t, out.Legs)
	require.Len(t, out.Labels, 1)
	assert.Equal(t, "x", out.Labels[0].Name)
}
