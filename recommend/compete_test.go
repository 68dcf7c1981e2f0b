package recommend_test

import (
	"bufio"
	"io"
	"os"
	"os/exec"
	"strconv"
	"testing"
)

// competeEnv makes the test binary a competing process (see compete):
// its value is the size of the memory the process churns, in MiB.
const competeEnv = "TACT_BENCH_COMPETITOR_MIB"

// TestMain runs the tests, or with competeEnv set is a competing process.
func TestMain(m *testing.M) {
	if mib, err := strconv.Atoi(os.Getenv(competeEnv)); err == nil && mib > 0 {
		churn(mib)
		return
	}
	os.Exit(m.Run())
}

// churn keeps one core busy reading and writing random words of a buffer
// of mib MiB, larger than the last-level cache, as another service on
// the machine would, until its standard input closes (the parent is done
// or gone). It writes a line to its standard output once it churns.
func churn(mib int) {
	done := make(chan struct{})
	go func() {
		_, _ = io.Copy(io.Discard, os.Stdin)
		close(done)
	}()
	buf := make([]uint64, mib<<17)
	for i := range buf { // fault the pages in before saying so
		buf[i] = uint64(i)
	}
	_, _ = os.Stdout.WriteString("churning\n")
	x := uint64(1)
	for {
		for range 1 << 16 {
			x = x*6364136223846793005 + 1442695040888963407 // a 64-bit LCG
			buf[(x>>20)%uint64(len(buf))] += x
		}
		select {
		case <-done:
			return
		default:
		}
	}
}

// compete starts n competing processes (the test binary churning 64 MiB
// each) for the rest of b, returns once they all churn, and stops them
// when b ends. It fails b if one cannot start.
func compete(b *testing.B, n int) {
	exe, err := os.Executable()
	if err != nil {
		b.Fatal(err)
	}
	for range n {
		cmd := exec.Command(exe)
		cmd.Env = append(os.Environ(), competeEnv+"=64")
		stdin, err := cmd.StdinPipe()
		if err != nil {
			b.Fatal(err)
		}
		stdout, err := cmd.StdoutPipe()
		if err != nil {
			b.Fatal(err)
		}
		if err := cmd.Start(); err != nil {
			b.Fatal(err)
		}
		b.Cleanup(func() {
			_ = stdin.Close()
			_ = cmd.Wait()
		})
		if _, err := bufio.NewReader(stdout).ReadString('\n'); err != nil {
			b.Fatalf("competing process: %v", err)
		}
	}
}
