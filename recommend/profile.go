package recommend

import (
	"context"
	"slices"
	"sync"
	"time"
)

// EventKind says what a person did with an item.
type EventKind uint8

// Event kinds.
const (
	Purchase EventKind = iota // the zero value: the person bought the item
	View                      // the person looked at the item
)

// String returns "purchase" or "view".
func (k EventKind) String() string {
	if k == View {
		return "view"
	}
	return "purchase"
}

// Event is one entry of a person's history.
type Event struct {
	Item string
	Kind EventKind
	At   time.Time
}

// FeedbackKind is what a person told us about an item.
type FeedbackKind uint8

// Feedback kinds.
const (
	Liked         FeedbackKind = iota + 1 // "more like this"
	NotInterested                         // "not interested": never show it again
)

// String returns "liked" or "not_interested".
func (k FeedbackKind) String() string {
	switch k {
	case Liked:
		return "liked"
	case NotInterested:
		return "not_interested"
	}
	return "unknown"
}

// Feedback is one explicit reaction of a person to an item.
type Feedback struct {
	Item string
	Kind FeedbackKind
	At   time.Time
}

// Interest is a goal or interest the person declared, with the item tags
// it maps to. Text completes the sentence "Because you told us …", for
// example "you're training for a marathon"; [Reason.Localize] shows it as
// written unless the message catalog has a text for
// "recommend.interest.TEXT" in the person's language, and names the Tags
// of an interest without Text. An item matches an interest by
// the share of its (distinct) tags it carries; a request reads the first 32
// interests and the first 16 tags of each, to bound its work.
type Interest struct {
	Text string
	Tags []string
}

// Preferences are what a person declared about themselves in a preference
// centre (zero-party data). The zero value declares nothing.
type Preferences struct {
	Interests []Interest
	// Avoid lists tags the person does not want to see; items carrying any
	// of them are never recommended.
	Avoid []string
	// MaxPrice is the person's budget, 0 for none; items above it are not
	// recommended.
	MaxPrice float64
	// Sizes, each "dimension:value" as in [Item].Sizes.
	Sizes []string
}

func (p Preferences) clone() Preferences {
	p.Interests = slices.Clone(p.Interests)
	for i := range p.Interests {
		p.Interests[i].Tags = slices.Clone(p.Interests[i].Tags)
	}
	p.Avoid = slices.Clone(p.Avoid)
	p.Sizes = slices.Clone(p.Sizes)
	return p
}

// Profile is everything the profile stores hold about one person, as
// returned by [MemoryStore.Export].
type Profile struct {
	Preferences Preferences
	Feedback    []Feedback
	History     []Event
}

// PreferenceStore reads a person's declared preferences.
//
// Preferences returns the preferences of person, the zero value (and nil
// error) for a person with none. It is called only after consent for
// [consent.PurposePersonalizeDeclared] was confirmed for the request, and
// must be safe for simultaneous use. The result is not modified by the
// caller.
type PreferenceStore interface {
	Preferences(ctx context.Context, person string) (Preferences, error)
}

// FeedbackStore reads a person's feedback.
//
// Feedback returns the feedback of person in any order, nil (and nil error)
// for a person with none. It is called only after consent for
// [consent.PurposePersonalizeFeedback] was confirmed, and must be safe for
// simultaneous use. The result is not modified by the caller.
type FeedbackStore interface {
	Feedback(ctx context.Context, person string) ([]Feedback, error)
}

// HistoryStore reads a person's purchase and view history.
//
// History returns the events of person in any order, nil (and nil error)
// for a person with none. It is called only after consent for
// [consent.PurposePersonalizeHistory] was confirmed, and must be safe for
// simultaneous use. The result is not modified by the caller.
type HistoryStore interface {
	History(ctx context.Context, person string) ([]Event, error)
}

// Profiles is the profile data a [Recommender] reads, one store per signal
// source. [MemoryStore] implements it; a host usually adapts its own
// database. Hosts that keep the three kinds of data apart can combine
// separate stores with a struct embedding each.
type Profiles interface {
	PreferenceStore
	FeedbackStore
	HistoryStore
}

// MemoryStore is an in-memory [Profiles] for tests, examples and small
// services, with export and erasure of one person. The zero value is an
// empty store ready to use. It is safe for simultaneous use by multiple
// goroutines.
type MemoryStore struct {
	mu sync.RWMutex
	m  map[string]*Profile
}

var _ Profiles = (*MemoryStore)(nil)

func (s *MemoryStore) profile(person string) *Profile {
	if s.m == nil {
		s.m = make(map[string]*Profile)
	}
	p := s.m[person]
	if p == nil {
		p = new(Profile)
		s.m[person] = p
	}
	return p
}

func checkPerson(person string) error {
	if person == "" {
		return &ItemError{Index: -1, ID: person, Err: ErrEmptyID}
	}
	return nil
}

// SetPreferences replaces the declared preferences of person. An empty
// person is [ErrEmptyID].
func (s *MemoryStore) SetPreferences(_ context.Context, person string, p Preferences) error {
	if err := checkPerson(person); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.profile(person).Preferences = p.clone()
	return nil
}

// AddFeedback appends feedback of person. An empty person or item id is
// [ErrEmptyID] and nothing is added.
func (s *MemoryStore) AddFeedback(_ context.Context, person string, f ...Feedback) error {
	if err := checkPerson(person); err != nil {
		return err
	}
	for i, x := range f {
		if x.Item == "" {
			return &ItemError{Index: i, ID: x.Item, Err: ErrEmptyID}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.profile(person)
	p.Feedback = append(p.Feedback, f...)
	return nil
}

// AddEvents appends history events of person. An empty person or item id
// is [ErrEmptyID] and nothing is added.
func (s *MemoryStore) AddEvents(_ context.Context, person string, e ...Event) error {
	if err := checkPerson(person); err != nil {
		return err
	}
	for i, x := range e {
		if x.Item == "" {
			return &ItemError{Index: i, ID: x.Item, Err: ErrEmptyID}
		}
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	p := s.profile(person)
	p.History = append(p.History, e...)
	return nil
}

// Preferences implements [PreferenceStore].
func (s *MemoryStore) Preferences(_ context.Context, person string) (Preferences, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.m[person]; p != nil {
		return p.Preferences, nil
	}
	return Preferences{}, nil
}

// Feedback implements [FeedbackStore].
func (s *MemoryStore) Feedback(_ context.Context, person string) ([]Feedback, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.m[person]; p != nil {
		return p.Feedback[:len(p.Feedback):len(p.Feedback)], nil
	}
	return nil, nil
}

// History implements [HistoryStore].
func (s *MemoryStore) History(_ context.Context, person string) ([]Event, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if p := s.m[person]; p != nil {
		return p.History[:len(p.History):len(p.History)], nil
	}
	return nil, nil
}

// Export returns a deep copy of everything held about person (a data
// access request); the zero Profile for an unknown person.
func (s *MemoryStore) Export(_ context.Context, person string) (Profile, error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	p := s.m[person]
	if p == nil {
		return Profile{}, nil
	}
	return Profile{Preferences: p.Preferences.clone(), Feedback: slices.Clone(p.Feedback), History: slices.Clone(p.History)}, nil
}

// Erase deletes everything held about person (a right-to-erasure
// request). Erasing an unknown person is not an error.
func (s *MemoryStore) Erase(_ context.Context, person string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	delete(s.m, person)
	return nil
}

// Persons returns the number of persons with a profile.
func (s *MemoryStore) Persons() int {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return len(s.m)
}
