package main

import (
	"bytes"
	"context"
	"errors"
	"flag"
	"io"
	"net/http"
	"path/filepath"
	"regexp"
	"strings"
	"sync"
	"testing"
	"time"
)

// syncBuffer is a bytes.Buffer safe for one writer and one reader.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}

func (s *syncBuffer) String() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.String()
}

func TestRunServesUntilCancelled(t *testing.T) {
	ctx, cancel := context.WithCancel(context.Background())
	defer cancel()
	var stdout, stderr syncBuffer
	dbFile := filepath.Join(t.TempDir(), "storefront.db")
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"-addr", "127.0.0.1:0", "-items", "100", "-shoppers", "1000", "-audit", "-db", dbFile}, &stdout, &stderr)
	}()
	serving := regexp.MustCompile(`serving on (http://127\.0\.0\.1:\d+/)`)
	var base string
	for base == "" {
		select {
		case err := <-done:
			t.Fatalf("run returned early: %v\n%s%s", err, stdout.String(), stderr.String())
		case <-time.After(20 * time.Millisecond):
		}
		if m := serving.FindStringSubmatch(stdout.String()); m != nil {
			base = m[1]
		}
	}
	if !strings.Contains(stdout.String(), "tact storefront: Acme Outfitters, 100 items, 1000 shoppers (seed 1)") ||
		!strings.Contains(stdout.String(), "state in "+dbFile) {
		t.Errorf("banner: %q", stdout.String())
	}
	resp, err := http.Get(base)
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "Welcome to Acme Outfitters") {
		t.Errorf("GET /: %d\n%.500s", resp.StatusCode, body)
	}
	cancel()
	if err := <-done; err != nil {
		t.Errorf("run after cancel: %v", err)
	}
	// -audit logs what serving did (one recommendation), not the seeding.
	log := stderr.String()
	if !strings.Contains(log, `"msg":"recommend.serve"`) || strings.Contains(log, `"msg":"consent.change"`) {
		t.Errorf("audit log:\n%.2000s", log)
	}
	if strings.Contains(log, "request-") {
		t.Error("the audit log names a subject")
	}
}

func TestFlags(t *testing.T) {
	var stderr bytes.Buffer
	if _, err := parseFlags([]string{"-h"}, &stderr); !errors.Is(err, flag.ErrHelp) {
		t.Errorf("-h: %v", err)
	}
	for _, f := range []string{"-addr", "-seed", "-items", "-shoppers", "-trust", "-warmup", "-audit", "-db", "Serves a demo shop built on tact"} {
		if !strings.Contains(stderr.String(), f) {
			t.Errorf("-h does not explain %s:\n%s", f, stderr.String())
		}
	}
	for _, tc := range []struct {
		args []string
		want string
	}{
		{[]string{"-items", "10"}, "need at least 50"},
		{[]string{"-shoppers", "20"}, "need at least 1000"},
		{[]string{"-trust", "blind"}, `want "demo" or "default"`},
		{[]string{"extra"}, "unexpected arguments"},
		{[]string{"-warmup", "soon"}, "invalid value"},
	} {
		stderr.Reset()
		_, err := parseFlags(tc.args, &stderr)
		if err == nil || !strings.Contains(err.Error()+stderr.String(), tc.want) {
			t.Errorf("%v: %v; want %q", tc.args, err, tc.want)
		}
	}
	o, err := parseFlags([]string{"-addr", ":9000", "-trust", "default", "-warmup", "-1s"}, &stderr)
	if err != nil || o.addr != ":9000" || o.trust != "default" || o.warmUp != -time.Second {
		t.Errorf("parsed %+v, %v", o, err)
	}
	if err := run(context.Background(), []string{"-addr", "256.0.0.1:0", "-items", "50", "-shoppers", "1000", "-db", "memory"}, io.Discard, io.Discard); err == nil {
		t.Error("run on a bad address succeeded")
	}
	if err := run(context.Background(), []string{"-db", filepath.Join(t.TempDir(), "no", "such", "dir", "s.db")}, io.Discard, io.Discard); err == nil || !strings.Contains(err.Error(), "-db") {
		t.Errorf("run with a database it cannot open = %v; want an error naming -db", err)
	}
}
