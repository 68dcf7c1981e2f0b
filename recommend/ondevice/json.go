package ondevice

import (
	"context"
	"encoding/json"
	"fmt"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/recommend"
)

// Load returns a Ranker built from what the service ships: the model as
// [recommend.Model.MarshalBinary] encoded it, the person's [Consent] as
// JSON and the [Settings] as JSON (empty means the zero Settings). JSON it
// cannot read is an error wrapping [ErrMalformed]; a bad model, the
// errors of [recommend.UnmarshalModel]; and then those of [New].
func Load(model, consentJSON, settingsJSON []byte) (*Ranker, error) {
	m, err := recommend.UnmarshalModel(model)
	if err != nil {
		return nil, err
	}
	c := new(Consent)
	if err := json.Unmarshal(consentJSON, c); err != nil {
		return nil, fmt.Errorf("%w: consent: %w", ErrMalformed, err)
	}
	var s Settings
	if len(settingsJSON) > 0 {
		if err := json.Unmarshal(settingsJSON, &s); err != nil {
			return nil, fmt.Errorf("%w: settings: %w", ErrMalformed, err)
		}
	}
	return New(m, c, s)
}

// Query is what [Ranker.RankJSON] reads: the person's data on the device
// and the request. Its JSON field names are those of the Go fields of
// [recommend.Profile] and [recommend.Request] (times in RFC 3339, kinds as
// numbers).
type Query struct {
	Profile recommend.Profile `json:"profile"`
	Request recommend.Request `json:"request"`
}

// Result is what [Ranker.RankJSON] writes: a [recommend.Response] as data
// a page can show, every item with its reasons and the data they used.
type Result struct {
	Tier   string             `json:"tier"`
	WarmUp bool               `json:"warm_up"`
	Items  []ResultItem       `json:"items"`
	Used   []consent.Category `json:"used"`
	// UsedText names each of Used in words, for the person (English).
	UsedText []string          `json:"used_text"`
	Purposes []consent.Purpose `json:"purposes"`
	Withheld []ResultWithheld  `json:"withheld"`
}

// ResultItem is one recommendation of a [Result].
type ResultItem struct {
	ID       string         `json:"id"`
	Title    string         `json:"title"`
	Category string         `json:"category"`
	Price    float64        `json:"price"`
	Score    float64        `json:"score"`
	Reasons  []ResultReason `json:"reasons"`
}

// ResultReason is one reason of a [ResultItem].
type ResultReason struct {
	Source string             `json:"source"`
	Text   string             `json:"text"`
	Data   []consent.Category `json:"data"`
	// DataText names Data in words, for the person (English); empty when
	// the reason used no personal data.
	DataText string          `json:"data_text"`
	Purpose  consent.Purpose `json:"purpose"`
	Weight   float64         `json:"weight"`
}

// ResultWithheld is a source a [Result] did not use, and why.
type ResultWithheld struct {
	Source  string          `json:"source"`
	Purpose consent.Purpose `json:"purpose"`
	Reason  string          `json:"reason"`
	Text    string          `json:"text"`
	Err     string          `json:"error,omitempty"`
}

// texts words the data categories of a [Result]; the page is English.
var texts = consent.NewCatalog()

const textLang = "en"

// NewResult returns the Result of resp.
func NewResult(resp recommend.Response) Result {
	res := Result{Tier: resp.Tier.String(), WarmUp: resp.WarmUp, Used: resp.Used, Purposes: resp.Purposes,
		UsedText: make([]string, len(resp.Used)),
		Items:    make([]ResultItem, 0, len(resp.Items)), Withheld: make([]ResultWithheld, 0, len(resp.Withheld))}
	for i, c := range resp.Used {
		res.UsedText[i] = texts.Category(textLang, c)
	}
	for _, r := range resp.Items {
		it := ResultItem{ID: r.Item.ID, Title: r.Item.Title, Category: r.Item.Category, Price: r.Item.Price, Score: r.Score}
		for _, why := range r.Reasons {
			rr := ResultReason{Source: why.Source.String(), Text: why.Text, Data: why.Data, Purpose: why.Purpose, Weight: why.Weight}
			if len(why.Data) > 0 {
				rr.DataText = texts.Categories(textLang, why.Data)
			}
			it.Reasons = append(it.Reasons, rr)
		}
		res.Items = append(res.Items, it)
	}
	for _, w := range resp.Withheld {
		rw := ResultWithheld{Source: w.Source.String(), Purpose: w.Purpose, Reason: w.Reason.String(), Text: w.Text}
		if w.Err != nil {
			rw.Err = w.Err.Error()
		}
		res.Withheld = append(res.Withheld, rw)
	}
	return res
}

// RankJSON ranks the JSON of a [Query] and returns the JSON of its
// [Result]. JSON it cannot read is an error wrapping [ErrMalformed];
// otherwise it returns the errors of [Ranker.Rank].
func (r *Ranker) RankJSON(ctx context.Context, query []byte) ([]byte, error) {
	var q Query
	if err := json.Unmarshal(query, &q); err != nil {
		return nil, fmt.Errorf("%w: query: %w", ErrMalformed, err)
	}
	resp, err := r.Rank(ctx, q.Profile, q.Request)
	if err != nil {
		return nil, err
	}
	return json.Marshal(NewResult(resp))
}
