package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"fmt"
	"regexp"
	"strings"
	"testing"

	"github.com/tact-go/tact/consent"
	"github.com/tact-go/tact/examples/internal/demo"
	"github.com/tact-go/tact/minimize"
)

func TestQuickstartTellsTheWholeStory(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-shoppers", "1500"}, &out, &errOut); err != nil {
		t.Fatalf("run: %v\n%s", err, errOut.String())
	}
	s := out.String()
	for _, want := range []string{
		"1. The policy", "2. Consent", "3. Minimization", "4. Differential privacy", "5. Recommendations",
		"6. A consent receipt", "7. The ledger", "8. Audit trail",
		"marketing.email is not allowed: you withdrew your consent",
		"an undeclared purpose is an error, never an allow",
		`Email      user.contact.email              dropped`,
		"one more report is refused, not overspent",
		"tier anonymous, warm-up",
		"Because you told us you're training for a marathon",
		"tier established",
		"and the Gate: advertising.targeted is not allowed: your browser sent a Global Privacy Control signal",
		"To change your mind:",
		"verified ",
		"consent.change", "minimize.report", "dp.release", "recommend.serve",
	} {
		if !strings.Contains(s, want) {
			t.Errorf("output lacks %q", want)
		}
	}
	// The customer who withdraws mid-visit gets non-personal results at once.
	d := s[strings.Index(s, "d) "):strings.Index(s, "e) ")]
	if !strings.Contains(d, "tier anonymous") || !strings.Contains(d, "data used: none personal") {
		t.Errorf("after withdrawing, results should be non-personal:\n%s", d)
	}
	// Fits a terminal: no line wider than 120 columns.
	for _, l := range strings.Split(s, "\n") {
		if len([]rune(l)) > 120 {
			t.Errorf("line too wide (%d): %s", len([]rune(l)), l)
		}
	}
	// The audit trail never names a shopper.
	if regexp.MustCompile(`shopper-\d+`).MatchString(errOut.String()) {
		t.Error("audit output names a shopper")
	}
}

func TestQuickstartAuditLogNamesNobody(t *testing.T) {
	var out, audit bytes.Buffer
	if err := run(context.Background(), []string{"-shoppers", "200", "-items", "60", "-audit"}, &out, &audit); err != nil {
		t.Fatal(err)
	}
	if audit.Len() == 0 {
		t.Fatal("-audit printed nothing")
	}
	// Neither ids nor the pseudonyms that stand for them, nor key material.
	keys, err := minimize.NewKeyring(demo.DemoKey(1))
	if err != nil {
		t.Fatal(err)
	}
	ps, err := keys.Pseudonymizer(consent.PurposeAnalyticsAggregate)
	if err != nil {
		t.Fatal(err)
	}
	token, err := ps.Token("shopper-00000")
	if err != nil {
		t.Fatal(err)
	}
	secret := fmt.Sprintf("%x", demo.DemoKey(1).Secret)
	for _, id := range []string{"shopper-", `"ana"`, "session-", "@mail.example", token, secret[:16]} {
		if strings.Contains(audit.String(), id) {
			t.Errorf("audit events contain %q", id)
		}
	}
	if !strings.Contains(out.String(), token[:8]) {
		t.Errorf("the quickstart should show shopper-00000's pseudonym %s…", token[:8])
	}
}

func TestQuickstartFlags(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(context.Background(), []string{"-h"}, &out, &errOut); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, f := range []string{"-seed", "-shoppers", "-items", "-audit"} {
		if !strings.Contains(errOut.String(), f) {
			t.Errorf("-h does not explain %s", f)
		}
	}
	if err := run(context.Background(), []string{"-shoppers", "3"}, &out, &errOut); err == nil {
		t.Error("too few shoppers should be an error")
	}
	if err := run(context.Background(), []string{"-nope"}, &out, &errOut); err == nil {
		t.Error("unknown flag should be an error")
	}
}
