package tcf_test

import (
	"context"
	"errors"
	"fmt"
	"log"
	"strings"
	"time"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/consent/consenttest"
	"github.com/tact-go/tact/consent/tcf"
)

// A shop imports the TC string its CMP wrote for a visitor into its consent
// Gate, then tells Google's tags what they may do.
func Example() {
	ctx := context.Background()
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	gate, err := consent.NewGate(consenttest.RetailPolicy(), consent.NewMemoryStore(), consent.GateConfig{})
	if err != nil {
		log.Fatal(err)
	}

	// What each TCF purpose the CMP asks about means for the shop.
	purposes := map[int]consent.Purpose{
		1: consent.PurposeAdvertising,         // store and/or access information on a device
		7: consent.PurposeAdvertising,         // measure advertising performance
		3: consent.PurposeAdvertisingTargeted, // create profiles for personalised advertising
		4: consent.PurposeAdvertisingTargeted, // use profiles to select personalised advertising
		5: consent.PurposePersonalizeHistory,  // create profiles to personalise content
		6: consent.PurposePersonalizeHistory,  // use profiles to select personalised content
		8: consent.PurposeAnalyticsAggregate,  // measure content performance (legitimate interest)
		9: consent.PurposeAnalytics,           // understand audiences (legitimate interest)
	}
	mapping, err := tcf.NewMapping(gate.Policy(), tcf.Config{Purposes: purposes})
	if err != nil {
		log.Fatal(err)
	}

	// The visitor consented to purposes 1, 3, 5, 6 and 7, not 4, and
	// objected to the legitimate interest in 9.
	tc, err := tcf.Parse("CQQL3HwQRuvPwAfKABENCWEgAK4AAAEAAAYgAAAAAAAA.IAAA")
	if err != nil {
		log.Fatal(err)
	}
	events, err := mapping.Events(tc, "visitor-7", consent.ChannelWeb, now)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events {
		if _, err := gate.Record(ctx, ev); errors.Is(err, consent.ErrOutOfOrder) {
			continue // the visitor chose again since the string was written
		} else if err != nil {
			log.Fatal(err)
		}
		fmt.Println(ev.Action, ev.Purpose)
	}

	// Consent Mode, from the Gate's decisions, by Google's TCF mapping.
	cm, err := tcf.GoogleConsentMode(purposes, consent.PurposeAnalyticsAggregate)
	if err != nil {
		log.Fatal(err)
	}
	mode, err := cm.Decide(ctx, gate, "visitor-7", now, consent.Signals{})
	if err != nil {
		log.Fatal(err)
	}
	fmt.Println(mode.Gtag())
	// Output:
	// grant advertising
	// deny advertising.targeted
	// deny analytics
	// grant personalize.history
	// gtag('consent', 'update', {"ad_storage":"granted","ad_user_data":"granted","ad_personalization":"denied","analytics_storage":"denied"});
}

// A GPP string from a US visitor: US opt-outs become denials, and the GPC
// flag is a signal for decisions too.
func ExampleMapping_GPPEvents() {
	now := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	mapping, err := tcf.NewMapping(consenttest.RetailPolicy(), tcf.Config{
		Sale:                consent.PurposeSharing,
		TargetedAdvertising: consent.PurposeAdvertisingTargeted,
	})
	if err != nil {
		log.Fatal(err)
	}
	// Sections uspv1 (6, not read) and usnat (7): sale opted out, GPC on.
	g, err := tcf.ParseGPP("DBABzw~1YYN~BVVaAAAAAgA.YA")
	if err != nil {
		log.Fatal(err)
	}
	for _, skipped := range g.Skipped {
		fmt.Println("skipped:", skipped.Part)
	}
	g = g.Only(7) // gpp_sid=7: the section that applies to this visitor
	events, err := mapping.GPPEvents(g, "visitor-9", consent.ChannelWeb, now)
	if err != nil {
		log.Fatal(err)
	}
	for _, ev := range events {
		fmt.Println(ev.Action, ev.Purpose, "—", ev.Evidence[strings.Index(ev.Evidence, "opt-out"):])
	}
	fmt.Println("GPC:", g.GPC())
	// Output:
	// skipped: uspv1
	// deny advertising.targeted — opt-out usnat.gpc
	// deny sharing — opt-out usnat.sale usnat.gpc
	// GPC: true
}
