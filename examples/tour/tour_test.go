package main

import (
	"bytes"
	"io"
	"os"
	"strings"
	"testing"
)

// markedLines returns the lines strictly between the begin and end markers,
// with their common indentation removed.
func markedLines(t *testing.T, text, begin, end string) []string {
	t.Helper()
	i := strings.Index(text, begin)
	j := strings.Index(text, end)
	if i < 0 || j < i {
		t.Fatalf("markers %q and %q not found in order", begin, end)
	}
	body := text[i+len(begin) : j]
	body = body[strings.IndexByte(body, '\n')+1:]
	lines := strings.Split(strings.TrimRight(body, " \t\n"), "\n")
	indent := -1
	for _, l := range lines {
		if strings.TrimSpace(l) == "" {
			continue
		}
		n := len(l) - len(strings.TrimLeft(l, "\t"))
		if indent < 0 || n < indent {
			indent = n
		}
	}
	for k, l := range lines {
		if len(l) >= indent {
			lines[k] = l[max(indent, 0):]
		}
	}
	return lines
}

// TestReadmeShowsTheTour keeps the README's code tour true to this program.
func TestReadmeShowsTheTour(t *testing.T) {
	src, err := os.ReadFile("main.go")
	if err != nil {
		t.Fatal(err)
	}
	readme, err := os.ReadFile("../../README.md")
	if err != nil {
		t.Fatal(err)
	}
	want := markedLines(t, string(src), "// tour:begin", "// tour:end")
	got := markedLines(t, string(readme), "<!-- tour:begin -->", "<!-- tour:end -->")
	// The README wraps the code in a ```go fence.
	if len(got) < 2 || got[0] != "```go" || got[len(got)-1] != "```" {
		t.Fatalf("README tour is not a single ```go block: first %q", got[0])
	}
	got = got[1 : len(got)-1]
	if strings.Join(got, "\n") != strings.Join(want, "\n") {
		t.Errorf("README tour differs from examples/tour/main.go:\nREADME:\n%s\n\nmain.go:\n%s", strings.Join(got, "\n"), strings.Join(want, "\n"))
	}
}

// TestTourRuns runs the tour and checks the story it tells.
func TestTourRuns(t *testing.T) {
	r, w, err := os.Pipe()
	if err != nil {
		t.Fatal(err)
	}
	stdout := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	main()
	os.Stdout = stdout
	w.Close()
	out := <-done
	for _, want := range []string{
		"personalize.history is allowed: you gave your consent",
		"Email     user.contact.email              kept 0  transformed 0  dropped 2",
		"trending: []",
		"Energy gels: Because you told us you're training for a marathon",
		"tier: recognized data used: [user.preference.declared]",
	} {
		if !bytes.Contains(out, []byte(want)) {
			t.Errorf("tour output lacks %q:\n%s", want, out)
		}
	}
}
